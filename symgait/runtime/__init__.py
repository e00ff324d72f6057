"""Runtime: load generated kernels, check inputs, launch on a backend.

:class:`Kernels` (:mod:`.kernels`) is the interface of every backend; the backend classes are its
siblings :class:`CpuKernels` (:mod:`.cpu`), :class:`CudaKernels` and :class:`TorchCudaKernels`
(:mod:`.cuda`) and :class:`AutoKernels` (:mod:`.auto`). Importing them here declares each backend,
so that ``Kernels(model, backend)`` finds its class."""
from .kernels import Kernels, Results, kernels
from .cpu import CpuKernels
from .cuda import CudaKernels, TorchCudaKernels
from .auto import AutoKernels

__all__ = ["Kernels", "Results", "kernels", "CpuKernels", "CudaKernels", "TorchCudaKernels", "AutoKernels"]
