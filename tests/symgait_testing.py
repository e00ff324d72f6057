"""Shared test helpers (importable as ``symgait_testing`` from any test directory: pytest puts
tests/ on sys.path when it loads tests/conftest.py)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import symgait
from symgait.codegen import generate
from symgait.paths import default_data_dir

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
DATA = default_data_dir()  # ../shared/data beside the repository, or $SYMGAIT_DATA
TEST_MODELS = HERE / "models"
BUILTIN = ["planar", "gait3d", "fullbody"]
MODEL_NAMES = set(BUILTIN) | {p.stem for p in TEST_MODELS.glob("*.yaml")}

_CACHE = {}


def data_file(rel: str = "") -> Path:
    """Path of a file (or, with no argument, the folder) of the shared public data; skips the
    test with the reason when it is absent."""
    p = DATA / rel
    if not p.exists():
        pytest.skip(f"shared data {rel or 'folder'} not found under {DATA} "
                    "(the public data set is not part of the repository; set SYMGAIT_DATA to its folder)")
    return p


def model_and_kernels(name: str, gen_root: Path):
    """(Model, Kernels) for a built-in name or a tests/models/<name>.yaml test model."""
    if name not in _CACHE:
        if name in BUILTIN:
            m = symgait.load_model(name)
            k = symgait.kernels(m)
        else:
            path = TEST_MODELS / f"{name}.yaml"
            out = Path(gen_root) / name
            generate(path, out=out, log=lambda *a: None)
            m = symgait.load_model(path)
            k = symgait.kernels(m, generated=out)
        _CACHE[name] = (m, k)
    return _CACHE[name]


def random_state(model, batch, seed=0, scale=0.6):
    rng = np.random.default_rng(seed)
    n, nc = model.nq, model.n_contacts
    q = rng.uniform(-scale, scale, (batch, n))
    qd = rng.uniform(-1.5, 1.5, (batch, n))
    qdd = rng.uniform(-3.0, 3.0, (batch, n))
    tau = rng.uniform(-20.0, 20.0, (batch, n))
    w = rng.normal(0.0, 40.0, (batch, nc, 6))
    return q, qd, qdd, tau, w


def rel_err(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return float(np.abs(a - b).max() / max(1.0, np.abs(b).max()))
