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


def input_error_without_simulator(statement: str) -> str:
    """Run ``statement`` (symgait imported) in a fresh Python without the simulator variable and
    return the text of the :class:`symgait.InputError` it raised; skips where a GPU is present
    (then nothing is refused)."""
    import subprocess
    import sys
    from pathlib import Path
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_ENABLE_CUDASIM"}
    code = (f"import symgait\nfrom symgait.layers import ForwardDynamics\n"
            f"try:\n    {statement}\nexcept symgait.InputError as e:\n    print('InputError:', e)\n")
    r = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[2], env=env,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    if "InputError" not in r.stdout:
        pytest.skip("this machine has a GPU")
    return r.stdout


@pytest.fixture
def launches(monkeypatch):
    """Counts the kernel launches of each kind: 'cuda' (direct CUDA launches of the layers,
    TorchCudaKernels) and 'cpu' (CpuKernels)."""
    from symgait.runtime import CpuKernels, TorchCudaKernels
    count = {"cuda": 0, "cpu": 0}
    cuda_call, cpu_call = TorchCudaKernels.launch, CpuKernels.launch

    def on_cuda(self, *a, **kw):
        count["cuda"] += 1
        return cuda_call(self, *a, **kw)

    def on_cpu(self, *a, **kw):
        count["cpu"] += 1
        return cpu_call(self, *a, **kw)
    monkeypatch.setattr(TorchCudaKernels, "launch", on_cuda)
    monkeypatch.setattr(CpuKernels, "launch", on_cpu)
    return count
