"""Numba's CPU threading layer, chosen explicitly, and the serial/parallel choice per launch.

Numba loads one threading layer for the process at the first parallel launch. :func:`select`
picks the first importable one of ``PREFERENCE`` (``tbb``: thread- and fork-safe; ``omp``; then
``workqueue``, Numba's portable fallback, whose launches cost most) unless ``NUMBA_THREADING_LAYER``
names one. :func:`layer` says which runs.

A parallel launch costs a fixed time (waking the workers), so a batch runs on the calling thread
(the ``<kernel>_serial`` launcher) unless it carries at least ``PARALLEL_MIN_OPS`` operations
(batch size x the kernel's operation count from the manifest). bench/bench_threads.py measures
the crossover per kernel.
"""
from __future__ import annotations

import importlib
import os

PREFERENCE = ("tbb", "omp", "workqueue")
# a parallel launch cost 28-40 ms on 2 loaded cores (omp, bench/bench_threads.py, docs/benchmarks.md):
# parallel paid from 2.2 M operations per batch (planar FD derivatives, B = 256), not at 1.9 M (ID, B = 4096)
PARALLEL_MIN_OPS = 2_000_000
_MODULES = {"tbb": "numba.np.ufunc.tbbpool", "omp": "numba.np.ufunc.omppool",
            "workqueue": "numba.np.ufunc.workqueue"}
_selected: str | None = None


def available() -> list[str]:
    """The threading layers that this installation of Numba can load, in ``PREFERENCE`` order."""
    out = []
    for name in PREFERENCE:
        try:
            importlib.import_module(_MODULES[name])
        except (ImportError, OSError):
            continue
        out.append(name)
    return out


def select() -> str:
    """Set Numba's threading layer (once per process, before the first parallel launch); returns it."""
    global _selected
    if _selected is None:
        import numba
        env = os.environ.get("NUMBA_THREADING_LAYER", "").strip()
        if env and env != "default":
            _selected = env
        else:
            _selected = available()[0]
            numba.config.THREADING_LAYER = _selected
    return _selected


def layer() -> str:
    """The threading layer that runs: Numba's own answer once a parallel launch happened, else the
    selected one (marked ``(selected)``)."""
    import numba
    try:
        return numba.threading_layer()
    except ValueError:  # no parallel launch yet
        return f"{select()} (selected)"


def parallel(batch: int, ops: int) -> bool:
    """Whether a launch of ``batch`` samples of a kernel of ``ops`` operations runs in parallel."""
    import numba
    return batch * ops >= PARALLEL_MIN_OPS and numba.get_num_threads() > 1
