"""Fixtures and helpers of the physics-layer tests (imported by the test modules: a conftest.py here
would shadow tests/conftest.py for ``from conftest import ...`` in other test files).

The small models under tests/layers/models/ are generated once into pytest's cache directory
(``.pytest_cache/d/symgait-layer-models``, or a temporary directory without the cache plugin), so
that Numba's on-disk cache of their kernels survives between sessions; a model's compiled cache
is dropped whenever its generated source changes.

The kernel launchers run on one Numba thread during these tests: the batches are tiny (B <= 3), and
on a busy 2-core machine a parallel launch waits for a second core on every call (measured: a
gradcheck ran 25x slower with 2 threads while other jobs used the CPU).
"""
from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import numba
import pytest

import symgait

HERE = Path(__file__).resolve().parent
LAYER_MODELS = HERE / "models"


@pytest.fixture(scope="session", autouse=True)
def _one_numba_thread():
    before = numba.get_num_threads()
    numba.set_num_threads(1)
    yield
    numba.set_num_threads(before)


@pytest.fixture(scope="session")
def layer_gen_root(request, tmp_path_factory):
    cache = getattr(request.config, "cache", None)
    if cache is not None:
        return Path(cache.mkdir("symgait-layer-models"))
    return tmp_path_factory.mktemp("symgait-layer-models")


_MODELS = {}


def _stamp(out: Path) -> str:
    h = hashlib.sha256()
    for f in ("device.py", "model_data.py", "manifest.json"):
        h.update((out / f).read_bytes())
    return h.hexdigest()


def _generate(name: str, root: Path):
    from symgait.codegen import generate
    path = LAYER_MODELS / f"{name}.yaml"
    out = root / name
    generate(path, out=out, log=lambda *a: None)
    stamp_file = out / ".source-stamp"
    stamp = _stamp(out)
    if not stamp_file.exists() or stamp_file.read_text() != stamp:
        shutil.rmtree(out / "__pycache__", ignore_errors=True)  # compiled launchers embed device code
        stamp_file.write_text(stamp)
    m = symgait.load_model(path)
    return m, symgait.kernels(m, generated=out)


@pytest.fixture(scope="session")
def layer_model(layer_gen_root):
    """layer_model(name) -> (Model, Kernels): a built-in model or a tests/layers/models/<name>.yaml."""
    def get(name: str):
        # keyed by the root too: a module that imports these fixtures gets its own root when pytest
        # runs without its cache folder, and its tests read the generated code under that root
        key = (name, str(layer_gen_root))
        if key not in _MODELS:
            if (LAYER_MODELS / f"{name}.yaml").exists():
                _MODELS[key] = _generate(name, layer_gen_root)
            else:
                m = symgait.load_model(name)
                _MODELS[key] = (m, symgait.kernels(m))
        return _MODELS[key]
    return get


# --- helpers -------------------------------------------------------------------------------------
def random_inputs(model, B, T, seed=0, dtype=None, per_sample_p=False, scale=1.0):
    """(x0, tau, w, p) torch tensors for the forward layer: moderate states, torques and wrenches."""
    import numpy as np
    import torch
    dtype = dtype or torch.float64
    rng = np.random.default_rng(seed)
    n, na, nc = model.nq, model.n_actuated, model.n_contacts
    x0 = np.concatenate([rng.uniform(-0.3, 0.3, (B, n)), rng.uniform(-1.0, 1.0, (B, n))], 1)
    tau = rng.uniform(-10.0, 10.0, (B, T, na)) * scale
    w = rng.normal(0.0, 20.0, (B, T, nc, 6)) * scale
    p = model.parameters()
    if per_sample_p:
        p = p[None] * rng.uniform(0.95, 1.05, (B, 1))
    return tuple(torch.from_numpy(a).to(dtype) for a in (x0, tau, w, p))


def momentum(model, kernels, x, p):
    """World linear momentum and angular momentum about the world origin, (..., 6), of a model with a
    floating root whose body is the first contact. From the generalized momentum pi = M qd: for the
    root translations pi = P; for the root rotations pi_k = a_k . L_o (a_k: world axis of rotation k
    = angular rows of the root body's contact Jacobian, L_o: about the root origin o); then
    L_O = L_o + o x P."""
    import numpy as np
    n = model.nq
    x = np.asarray(x, dtype=np.float64)
    q, qd = x[..., :n].reshape(-1, n), x[..., n:].reshape(-1, n)
    pi = np.einsum("bij,bj->bi", kernels.mass_matrix(q, p), qd)
    J = kernels.contact_jacobians(q, p)[:, 0]
    A = J[:, 3:, 3:6]
    Lo = np.linalg.solve(np.transpose(A, (0, 2, 1)), pi[:, 3:6, None])[..., 0]
    P = pi[:, :3]
    o = kernels.contact_points(q, p)[:, 0]
    return np.concatenate([P, Lo + np.cross(o, P)], 1).reshape(x.shape[:-1] + (6,))


def pendulum_energy(model, kernels, x, p):
    """Kinetic + potential energy of tests/layers/models/pendulum2.yaml (points com1, com2; masses
    are parameters m1, m2)."""
    import numpy as np
    n = model.nq
    x = np.asarray(x, dtype=np.float64)
    q, qd = x[..., :n].reshape(-1, n), x[..., n:].reshape(-1, n)
    kin = 0.5 * np.einsum("bi,bij,bj->b", qd, kernels.mass_matrix(q, p), qd)
    c = kernels.points(q, p)
    names = model.parameter_names
    m1, m2 = p[names.index("m1")], p[names.index("m2")]
    g = model.gravity
    pot = -(m1 * c[:, 0] @ g + m2 * c[:, 1] @ g)
    return (kin + pot).reshape(x.shape[:-1])
