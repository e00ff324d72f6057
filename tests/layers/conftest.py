"""Fixtures of the physics-layer tests.

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
    for f in ("device.py", "cpu.py", "manifest.json"):
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
        if name not in _MODELS:
            if (LAYER_MODELS / f"{name}.yaml").exists():
                _MODELS[name] = _generate(name, layer_gen_root)
            else:
                m = symgait.load_model(name)
                _MODELS[name] = (m, symgait.kernels(m))
        return _MODELS[name]
    return get
