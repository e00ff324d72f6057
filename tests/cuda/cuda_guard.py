"""Module-level guard of the CUDA tests: run in Numba's CUDA simulator or on a real GPU, else skip.

The simulator must be switched on (``NUMBA_ENABLE_CUDASIM=1``) before numba is first imported, so
the CUDA tests run in their own pytest process (.ci/run). Call :func:`require_cuda_or_simulator`
at the top of a test module, before anything imports numba.
"""
from __future__ import annotations

import os

import pytest

SIM = os.environ.get("NUMBA_ENABLE_CUDASIM") == "1"


def require_cuda_or_simulator() -> bool:
    """Skip the calling module unless the simulator is on or a GPU is present; returns SIM."""
    if not SIM:
        try:
            from numba import cuda
            gpu = cuda.is_available()
        except Exception:  # pragma: no cover
            gpu = False
        if not gpu:
            pytest.skip("CUDA tests need NUMBA_ENABLE_CUDASIM=1 set before numba is imported (no GPU here): "
                        "NUMBA_ENABLE_CUDASIM=1 python -m pytest tests/cuda -n 0, as .ci/run does",
                        allow_module_level=True)
    from numba.core import config
    if SIM and not config.ENABLE_CUDASIM:  # pragma: no cover - numba imported before the variable was set
        pytest.skip("numba was imported before NUMBA_ENABLE_CUDASIM=1 took effect", allow_module_level=True)
    return SIM
