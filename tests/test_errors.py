"""Bad input gets a clear error that names the fix."""
from __future__ import annotations

import json

import numpy as np
import pytest
import yaml

import symgait
from symgait import InputError, ModelError, StaleKernelsError
from symgait.codegen import generate
from symgait.model.parse import parse_spec

from symgait_testing import TEST_MODELS, model_and_kernels

BASE = yaml.safe_load((TEST_MODELS / "floating_chain.yaml").read_text())


def spec_with(mutate):
    doc = json.loads(json.dumps(BASE))
    mutate(doc)
    return parse_spec(doc)


def test_model_file_errors():
    with pytest.raises(ModelError, match="unknown joint type 'screw'"):
        spec_with(lambda d: d["bodies"][1]["joint"].update(type="screw"))
    with pytest.raises(ModelError, match="not a body of this model"):
        spec_with(lambda d: d["bodies"][1].update(parent="nowhere"))

    def cycle(d):
        d["bodies"][1]["parent"] = "shin_r"
    with pytest.raises(ModelError, match="cycle"):
        spec_with(cycle)
    with pytest.raises(ModelError, match="needs 2 coordinate names"):
        spec_with(lambda d: d["bodies"][1]["joint"].update(coordinates=["a"]))
    with pytest.raises(ModelError, match="not parameters"):
        spec_with(lambda d: d["bodies"][1].update(mass="leg_mass*unknown_factor"))
    with pytest.raises(ModelError, match="only for the root"):
        spec_with(lambda d: d["bodies"][1]["joint"].update(type="floating", coordinates=list("abcdef")))
    with pytest.raises(ModelError, match="'mass' is required"):
        spec_with(lambda d: d["bodies"][2].pop("mass"))
    with pytest.raises(ModelError, match="used twice"):
        spec_with(lambda d: d["bodies"][2]["joint"].update(coordinates=["hip_z_r"]))
    with pytest.raises(ModelError, match="unknown model"):
        symgait.load_model("no_such_model")


def test_non_physical_parameters(gen_root):
    m, k = model_and_kernels("floating_chain", gen_root)
    with pytest.raises(InputError, match="mass .* must be > 0"):
        m.parameters(leg_mass=-1.0)
    with pytest.raises(InputError, match="subject input mass"):
        m.parameters(mass=0.0)
    with pytest.raises(InputError, match="unknown parameters"):
        m.parameters(thigh=1.0)
    p = m.parameters()
    bad = p.copy()
    bad[m.parameter_names.index("trunk_mass")] = 0.0
    q = np.zeros((2, m.nq))
    with pytest.raises(InputError, match="trunk"):
        k.mass_matrix(q, bad)
    spec = json.loads(json.dumps(BASE))
    spec["bodies"][0]["inertia"] = [1.0, 1.0, 3.0]  # violates the triangle inequality
    with pytest.raises(ModelError, match="triangle inequality"):  # refused when the file is read
        parse_spec(spec)


def test_kernel_input_errors(gen_root):
    m, k = model_and_kernels("floating_chain", gen_root)
    p = m.parameters()
    n, nc = m.nq, m.n_contacts
    q = np.zeros((3, n))
    w = np.zeros((3, nc, 6))
    with pytest.raises(InputError, match=r"q has shape \(14,\).*x\[None\]"):
        k.inverse_dynamics(q[0], q[0], q[0], w[0], p)
    with pytest.raises(InputError, match="batch size 2 but q has 3"):
        k.inverse_dynamics(q, q[:2], q, w, p)
    with pytest.raises(InputError, match=r"w has shape"):
        k.inverse_dynamics(q, q, q, np.zeros((3, nc, 5)), p)
    bad = q.copy()
    bad[1, 4] = np.nan
    with pytest.raises(InputError, match="NaN or inf .*sample 1, entry 4"):
        k.inverse_dynamics(q, bad, q, w, p)
    with pytest.raises(InputError, match="float32 or float64"):
        k.inverse_dynamics(q.astype(np.int64), q, q, w, p)
    with pytest.raises(InputError, match="dtype float32 but the other inputs are float64"):
        k.inverse_dynamics(q, q.astype(np.float32), q, w, p)
    with pytest.raises(InputError, match=r"p has shape"):
        k.inverse_dynamics(q, q, q, w, p[:-1])
    with pytest.raises(InputError, match="p contains NaN"):
        k.inverse_dynamics(q, q, q, w, p * np.nan)


def test_float32_and_torch_inputs(gen_root):
    torch = pytest.importorskip("torch")
    m, k = model_and_kernels("double_pendulum3d", gen_root)
    p = m.parameters()
    rng = np.random.default_rng(0)
    q, qd, qdd = (rng.normal(size=(4, m.nq)) for _ in range(3))
    w = rng.normal(size=(4, m.n_contacts, 6))
    ref = k.inverse_dynamics(q, qd, qdd, w, p)
    out32 = k.inverse_dynamics(*(a.astype(np.float32) for a in (q, qd, qdd, w)), p)
    assert out32.dtype == np.float32 and np.abs(out32 - ref).max() < 1e-4 * max(1, np.abs(ref).max())
    t = k.inverse_dynamics(*(torch.from_numpy(a) for a in (q, qd, qdd, w)), torch.from_numpy(p))
    assert isinstance(t, torch.Tensor) and np.abs(t.numpy() - ref).max() == 0.0


def test_stale_generated_code_is_refused(tmp_path):
    src = (TEST_MODELS / "double_pendulum3d.yaml").read_text()
    path = tmp_path / "dp.yaml"
    path.write_text(src)
    out = tmp_path / "gen"
    with pytest.raises(StaleKernelsError, match="symgait generate"):
        symgait.kernels(symgait.load_model(path), generated=out)
    generate(path, out=out, log=lambda *a: None)
    path.write_text(src.replace("0.6 * mass", "0.65 * mass"))
    with pytest.raises(StaleKernelsError, match=f"model file changed since generation.*symgait generate {path} --out {out}"):
        symgait.kernels(symgait.load_model(path), generated=out)


def test_per_sample_parameters_checked_in_every_row(gen_root):
    """A bad row far beyond the first few thousand is refused by the kernels and by the layer."""
    torch = pytest.importorskip("torch")
    from symgait.layers import InverseDynamics
    m, k = model_and_kernels("planar", gen_root)
    B = 5000
    P = np.tile(m.parameters(), (B, 1))
    P[4500, m.parameter_names.index("pelvis_mass")] = -1.0
    q = np.zeros((B, m.nq))
    w = np.zeros((B, m.n_contacts, 6))
    with pytest.raises(InputError, match="'pelvis' has mass -1 kg .*sample 4500"):
        k.inverse_dynamics(q, q, q, w, P)
    layer = InverseDynamics(k)
    qt = torch.zeros(B, 1, m.nq, dtype=torch.float64)
    with pytest.raises(InputError, match="'pelvis' has mass -1 kg .*sample 4500"):
        layer(qt, qt, qt, None, torch.from_numpy(P))
    P[4500] = m.parameters()
    P[4999, m.parameter_names.index("thigh_r_length")] = 0.0
    with pytest.raises(InputError, match="thigh_r_length=0 m .*sample 4999.*lengths must be > 0"):
        k.mass_matrix(q, P)


@pytest.mark.parametrize("given, message", [
    (dict(thigh_r_length=-0.4), "thigh_r_length=-0.4 m; lengths must be > 0"),
    (dict(shank_l_length=0.0), "shank_l_length=0 m"),
    (dict(mass="heavy"), "mass='heavy' must be a number"),
    (dict(height=180), "height=180 m is not a plausible.*cm.*1.80 m"),
    (dict(mass=72600), "mass=72600 kg is not a plausible.*72.6 kg"),
])
def test_subject_and_parameter_values_refused(gen_root, given, message):
    m, _ = model_and_kernels("planar", gen_root)
    with pytest.raises(InputError, match=message):
        m.parameters(**given)


def test_subject_scaling(gen_root):
    m, _ = model_and_kernels("planar", gen_root)
    assert m.parameters(height=1.8, mass=72.6)[m.parameter_names.index("pelvis_mass")] == pytest.approx(
        0.1117 * 72.6)  # de Leva's pelvis fraction in planar.yaml


def test_kernel_torch_inputs_refused(gen_root):
    torch = pytest.importorskip("torch")
    m, k = model_and_kernels("planar", gen_root)
    p = torch.from_numpy(m.parameters())
    z = torch.zeros(2, m.nq, dtype=torch.float64)
    w = torch.zeros(2, m.n_contacts, 6, dtype=torch.float64)
    with pytest.raises(InputError, match="q requires grad.*symgait.layers"):
        k.inverse_dynamics(z.clone().requires_grad_(), z, z, w, p)
    with torch.no_grad():  # no graph is expected: the values are used as they are
        assert k.inverse_dynamics(z.clone().requires_grad_(), z, z, w, p).shape == (2, m.nq)
    with pytest.raises(InputError, match=r"qd has dtype torch.bfloat16.*qd.double\(\)"):
        k.inverse_dynamics(z, z.bfloat16(), z, w, p)


def test_overflow_is_an_error(gen_root):
    m, k = model_and_kernels("planar", gen_root)
    q = np.zeros((3, m.nq))
    qdd = q.copy()
    qdd[2] = 1e308
    with pytest.raises(InputError, match=r"overflowed .*sample 2.*\|qdd\| = 1e\+308"):
        k.inverse_dynamics(q, q, qdd, np.zeros((3, m.n_contacts, 6)), m.parameters())
    f32 = np.zeros((1, m.nq), np.float32)
    big = f32.copy()
    big[0, 3] = 1e20  # its square overflows float32
    with pytest.raises(InputError, match=r"overflowed.*\|qd\| = 1e\+20 in float32.*float64"):
        k.inverse_dynamics(f32, big, f32, np.zeros((1, m.n_contacts, 6), np.float32), m.parameters())


@pytest.mark.parametrize("mutate, message", [
    (lambda d: d.update(subject="heavy"), "'subject' must map input names"),
    (lambda d: d.update(subject={"height": "heavy", "mass": 70}), "subject input 'height' must be a positive"),
    (lambda d: d.update(gravity="down"), "gravity must be three finite numbers.*'down'"),
    (lambda d: d["bodies"][1]["joint"].update(axes=5), "'axes' must be a list of 2 axes.*got 5"),
    (lambda d: d["bodies"][1]["joint"].update(coordinates=5), "'coordinates' must be a list"),
    (lambda d: d["bodies"][1]["joint"].update(actuated="no"), "'actuated' must be true or false"),
    (lambda d: d.update(contacts=5), "'contacts' must be a list"),
    (lambda d: d.update(points="toe"), "'points' must be a list"),
])
def test_model_file_value_errors(mutate, message):
    with pytest.raises(ModelError, match=message):
        spec_with(mutate)


def test_data_format_error_is_a_symgait_error(tmp_path):
    from symgait.io import DataFormatError, read_trc
    assert issubclass(DataFormatError, symgait.SymgaitError) and issubclass(DataFormatError, ValueError)
    bad = tmp_path / "x.trc"
    bad.write_text("not a trc file\n")
    with pytest.raises(symgait.SymgaitError, match="x.trc"):
        read_trc(bad)


def test_cli_reports_errors_without_traceback(tmp_path, capsys):
    from symgait import cli
    from symgait_testing import data_file

    def run(*argv):
        rc = cli.main(list(argv))
        err = capsys.readouterr().err
        assert rc == 2 and "Traceback" not in err
        return err

    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    assert "a_file is a file, not a folder" in run("export-urdf", "planar", "--out", str(blocker / "dir" / "x.urdf"))
    bad = tmp_path / "down.yaml"
    bad.write_text(yaml.safe_dump(dict(BASE, gravity="down")))
    assert "symgait: error: " in run("info", str(bad)) and "gravity must be three finite numbers" in run(
        "export-urdf", str(bad))
    common = ["--model", "planar", "--mass", "70", "--height", "1.8", "--out", str(tmp_path / "o.csv")]
    assert "error: no motion file: give it as `symgait id MOTION" in run("id", *common)
    assert f"{tmp_path / 'none.trc'}: No such file or directory" in run("id", str(tmp_path / "none.trc"), *common)
    corrupt = tmp_path / "corrupt.trc"
    corrupt.write_text("PathFileType\t4\n")
    assert "corrupt.trc" in run("id", str(corrupt), *common)
    asf = data_file("cmu/subject08/08.asf")
    assert "an .asf is a skeleton: give its .amc motion" in run("id", str(asf), *common)
    trc = data_file("opensim/gait2354_subject01_walk1/subject01_walk1.trc")
    err = run("id", "--motion", str(trc), "--model", "planar", "--mass", "70", "--height", "180",
              "--out", str(tmp_path / "o.csv"))
    assert "height=180 m is not a plausible human height" in err and "cm" in err
    assert not (tmp_path / "o.csv").exists()


def test_custom_joint_motions_are_checked(tmp_path):
    """'motions' belongs to custom joints, needs known names, and sets the number of coordinates."""
    import symgait
    from symgait.errors import ModelError
    base = ("name: t\ngravity: [0, -9.81, 0]\nsubject: {height: 1.0, mass: 1.0}\nbodies:\n"
            "  - name: a\n    parent: ground\n    joint: {JOINT}\n    mass: 1.0\n    inertia: [1, 1, 1]\n")
    cases = {"{type: hinge, coordinates: [q], motions: [revolute]}": "'motions' is for joints of type 'custom'",
             "{type: custom, coordinates: [q], axes: [z]}": "needs 'motions'",
             "{type: custom, coordinates: [q], motions: [twist], axes: [z]}": "unknown motions",
             "{type: custom, coordinates: [q], motions: [revolute, prismatic], axes: [z, x]}": "needs 2 coordinate",
             "{type: custom, coordinates: [q], motions: [revolute]}": "'axes' must be a list"}
    for joint, message in cases.items():
        f = tmp_path / "t.yaml"
        f.write_text(base.replace("{JOINT}", joint))
        with pytest.raises(ModelError, match=message):
            symgait.load_model(f)
