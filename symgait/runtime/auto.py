"""``backend="auto"``: the CPU kernels, unless an input of a call lives on a GPU
(:func:`symgait.runtime.cuda_arrays.on_device`); that call runs on the model's CUDA kernels, built on
the first such call, and returns device arrays like ``backend="cuda"``."""
from __future__ import annotations

from .cpu import CpuKernels
from .cuda import CudaKernels


class AutoKernels(CpuKernels, backend="auto"):
    """The CPU kernels, which hand calls with an input on a GPU to :class:`CudaKernels`."""

    def __init__(self, model, backend: str | None = None, generated=None, check_parameters: bool = True):
        super().__init__(model, backend, generated, check_parameters)
        self._cuda = None  # the CudaKernels: built (and their launchers imported) on first use

    def cuda_backend(self) -> CudaKernels:
        """The CUDA kernels that run the calls with an input on a GPU (built on the first one)."""
        if self._cuda is None:
            self._cuda = CudaKernels(self.model, generated=self.generated, check_parameters=self.checks_parameters)
        return self._cuda

    def cuda_module(self):
        """The model's CUDA launchers (imported on first use)."""
        return self.cuda_backend().module

    def launch(self, name: str, args: dict, out_shapes: dict) -> dict:
        from .cuda_arrays import on_device
        if on_device(args.values()):
            return self.cuda_backend().launch(name, args, out_shapes)
        return super().launch(name, args, out_shapes)
