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
    with pytest.raises(ModelError, match="unknown joint type 'spherical'"):
        spec_with(lambda d: d["bodies"][1]["joint"].update(type="spherical"))
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
    mm = symgait.Model(parse_spec(spec))
    with pytest.raises(InputError, match="triangle inequality"):
        mm.parameters()


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
