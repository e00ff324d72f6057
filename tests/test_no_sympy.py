"""The runtime runs a built-in model from its generated code alone: ``import symgait`` and
``symgait.kernels("gait3d")`` import neither SymPy nor symgait's symbolic layer, and what they compute
(kernels, parameter vectors, refusals of bad parameters) is what the SymPy path computes: the model file
parsed by :func:`symgait.load_model`, its default formulas evaluated by SymPy substitution and its body
inertias by ``sympy.lambdify``."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import sympy as sp

import symgait
from symgait.codegen import generate
from symgait.errors import InputError
from symgait.runtime.generated_model import GeneratedModel
from symgait.runtime.loader import import_generated
from symgait_testing import REPO, TEST_MODELS

CHILD = r"""
import json, sys
import numpy as np
import symgait
after_import = sorted(m for m in sys.modules if m == "sympy" or m.startswith(("sympy.", "symgait.symbolic",
                                                                             "symgait.model", "symgait.codegen")))
k = symgait.kernels("gait3d")
rng = np.random.default_rng(7)
B = 5
q, qd, qdd, tau = (rng.uniform(-0.6, 0.6, (B, k.nq)) for _ in range(4))
w = rng.normal(0.0, 40.0, (B, k.n_contacts, 6))
p = k.parameters(height=1.83, mass=77.0, thigh_r_length=0.44)
P = np.stack([k.parameters(), p, k.parameters(height=1.6), k.parameters(mass=60.0), p])
out = {"id": k.inverse_dynamics(q, qd, qdd, w, P), "fd": k.forward_dynamics(q, qd, tau, w, p),
       "M": k.mass_matrix(q, p), "P": P}
d = k.inverse_dynamics_derivatives(q, qd, qdd, w, p)
out.update({"did_" + key: d[key] for key in d})
errors = []
for kw in CASES:
    try:
        k.parameters(**kw)
        errors.append(None)
    except symgait.InputError as e:
        errors.append(str(e))
bad = P.copy()
bad[3, k.parameter_names.index("thigh_l_mass")] = -1.0
try:
    k.inverse_dynamics(q, qd, qdd, w, bad)
    errors.append(None)
except symgait.InputError as e:
    errors.append(str(e))
np.savez(sys.argv[1], **out)
print(json.dumps({"after_import": after_import, "loaded": sorted(m for m in sys.modules if m == "sympy"
                  or m.startswith(("sympy.", "symgait.symbolic", "symgait.model", "symgait.codegen"))),
                  "model": type(k.model).__name__, "nq": k.nq, "coordinates": k.coordinates,
                  "errors": errors}))
"""

# parameters(...) calls that must be refused, or not, with the same message on both paths
CASES = [dict(height=180), dict(mass=0.1), dict(height=float("nan")), dict(thigh_r_length=-0.1),
         dict(thigh_r_mass=-1.0), dict(pelvis_mass="x"), dict(nonsense=1.0), dict(height=True),
         dict(torso_length=0.5, torso_mass=40.0)]


def test_builtin_kernels_run_without_sympy_and_match_the_sympy_path(tmp_path):
    out = tmp_path / "child.npz"
    code = f"nan = float('nan')\nCASES = {CASES!r}\n" + CHILD
    r = subprocess.run([sys.executable, "-c", code, str(out)], cwd=REPO, env=dict(os.environ),
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    info = json.loads(r.stdout.strip().splitlines()[-1])
    assert info["after_import"] == [], "import symgait imported " + ", ".join(info["after_import"])
    assert info["loaded"] == [], "symgait.kernels('gait3d') imported " + ", ".join(info["loaded"])
    assert info["model"] == "GeneratedModel"

    # the SymPy path: the parsed model file and its kernels
    m = symgait.load_model("gait3d")
    k = symgait.kernels(m)
    assert k.model is m
    assert (info["nq"], info["coordinates"]) == (m.nq, m.coordinates)
    got = np.load(out)
    P = np.stack([m.parameters(), m.parameters(height=1.83, mass=77.0, thigh_r_length=0.44),
                  m.parameters(height=1.6), m.parameters(mass=60.0),
                  m.parameters(height=1.83, mass=77.0, thigh_r_length=0.44)])
    assert np.array_equal(got["P"], P)
    rng = np.random.default_rng(7)
    B = 5
    q, qd, qdd, tau = (rng.uniform(-0.6, 0.6, (B, m.nq)) for _ in range(4))
    w = rng.normal(0.0, 40.0, (B, m.n_contacts, 6))
    p = P[1]
    assert np.array_equal(got["id"], k.inverse_dynamics(q, qd, qdd, w, P))
    assert np.array_equal(got["fd"], k.forward_dynamics(q, qd, tau, w, p))
    assert np.array_equal(got["M"], k.mass_matrix(q, p))
    d = k.inverse_dynamics_derivatives(q, qd, qdd, w, p)
    assert sorted("did_" + key for key in d) == sorted(f for f in got.files if f.startswith("did_"))
    for key in d:
        assert np.array_equal(got["did_" + key], d[key]), key

    expected = []
    for kw in CASES:
        try:
            m.parameters(**kw)
            expected.append(None)
        except InputError as e:
            expected.append(str(e))
    bad = P.copy()
    bad[3, m.parameter_names.index("thigh_l_mass")] = -1.0
    try:
        m.check_parameters(bad)
        expected.append(None)
    except InputError as e:
        expected.append(str(e))
    assert info["errors"] == expected
    assert expected[-1].startswith("body 'femur_l' has mass -1 kg at these parameters (sample 3 of p)")
    assert expected[:-2].count(None) == 0 and expected[-2] is None


@pytest.mark.parametrize("name", ["planar", "gait3d", "fullbody", "double_pendulum3d", "custom_joints",
                                  "floating_chain", "quaternion_tree"])
def test_generated_model_data_equals_the_model_file(name, gen_root):
    """model_data.py's formulas give the numbers of the parsed model file: parameter vectors bit for bit,
    body masses and inertias bit for bit at random parameters (valid or not)."""
    if name in ("planar", "gait3d", "fullbody"):
        m = symgait.load_model(name)
        out = None
    else:
        path = TEST_MODELS / f"{name}.yaml"
        out = gen_root / f"data-{name}"
        generate(path, out=out, log=lambda *a: None)
        m = symgait.load_model(path)
    package, manifest = import_generated(m, out)
    g = GeneratedModel(m, manifest, package.model_data)
    for attr in ("name", "nq", "nv", "coordinates", "velocities", "quaternion_joints", "actuated",
                 "actuated_indices", "n_actuated", "contacts",
                 "n_contacts", "points", "parameter_names", "n_parameters", "subject_defaults", "bodies",
                 "source_hash"):
        assert getattr(g, attr) == getattr(m, attr), attr
    assert np.array_equal(g.gravity, m.gravity)
    subject = dict(m.subject_defaults)
    rng = np.random.default_rng(3)
    for _ in range(5):
        kw = {s: v * rng.uniform(0.8, 1.2) for s, v in subject.items()}
        assert np.array_equal(g.parameters(**kw), m.parameters(**kw))
        over = m.parameter_names[int(rng.integers(m.n_parameters))]
        kw[over] = float(m.parameters(**kw)[m.parameter_names.index(over)] * 1.1)
        assert np.array_equal(g.parameters(**kw), m.parameters(**kw))
    # body masses and inertias at random parameters (valid or not): the model's own functions, and SymPy
    # evaluating its expressions (lambdify, which may sum in another order: equal to rounding)
    cols = m.parameters()[:, None] * rng.uniform(-0.5, 2.0, (m.n_parameters, 7))  # (n_p, 7)
    psyms = m.spec.parameter_symbols
    lam_m = sp.lambdify([psyms], [b.mass for b in m.spec.bodies], "numpy")
    lam_i = sp.lambdify([psyms], [list(b.inertia) for b in m.spec.bodies], "numpy")
    for mine, model, sym in ((g.body_masses, m.body_masses, lam_m), (g.body_inertias, m.body_inertias, lam_i)):
        a = _flat(mine(cols))
        assert np.array_equal(a, _flat(model(cols)))
        np.testing.assert_allclose(a, _flat(sym(cols)), rtol=1e-14, atol=0)


def _flat(x) -> np.ndarray:
    """Nested lists of numbers or arrays of 7 -> one (k, 7) array."""
    if isinstance(x, (list, tuple)):
        return np.concatenate([_flat(e) for e in x]) if x else np.zeros((0, 7))
    return np.broadcast_to(np.asarray(x, dtype=float), (7,))[None]
