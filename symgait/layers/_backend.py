"""Where the physics layers run: backend selection, the array namespace of the integrator's algebra,
and the kernels of each backend.

* ``backend="cpu"``: the CPU kernels (:class:`~symgait.runtime.cpu.CpuKernels`, numpy views of the
  tensors), the algebra between launches in numpy (:data:`NUMPY`).
* ``backend="cuda"``: the generated CUDA launchers on the tensors' device, launched directly on
  ``torch.cuda.current_stream()`` (:func:`cuda_kernels`: the runtime's
  :class:`~symgait.runtime.cuda.TorchCudaKernels`), the algebra between launches in torch ops on
  the same device (:data:`TORCH`). Nothing is copied to the host between stages: the layers
  check their inputs once per call, so the per-call checks of
  :class:`~symgait.runtime.cuda.CudaKernels` (a NaN-flag copy back and a host copy of ``p``, i.e.
  host synchronizations) are skipped; divergence is detected once, on the finished trajectory.
* ``backend="auto"`` (the default): "cuda" for CUDA tensors, else "cpu".

In Numba's CUDA simulator (``NUMBA_ENABLE_CUDASIM=1``) ``backend="cuda"`` takes CPU tensors (the
simulator's "device" is host memory): the same code path, the kernels viewed zero-copy as the
simulator's device arrays, the torch algebra on the CPU. That is how CI checks the CUDA path.
"""
from __future__ import annotations

import numpy as np
import torch

from ..errors import InputError
from ..runtime.cuda import TorchCudaKernels

BACKENDS = ("auto", "cpu", "cuda")


def check_backend(backend: str) -> str:
    if backend not in BACKENDS:
        raise InputError(f"backend must be one of {BACKENDS}, got {backend!r}")
    if backend == "cuda":
        from ..runtime.cuda_arrays import require_cuda
        require_cuda()
    return backend


def simulator() -> bool:
    from ..runtime.cuda_arrays import simulator as sim
    return sim()


def resolve_backend(backend: str, name: str, x) -> str:
    """'cpu' or 'cuda' for a layer built with ``backend`` and called with lead tensor ``x`` (named ``name``)."""
    dev = x.device.type
    if dev == "cuda":
        if backend == "cpu":
            raise InputError(f"{name} is on {x.device} but this layer was built with backend='cpu'; build it with "
                             f"backend='cuda' or 'auto' (the default), or move the inputs with .cpu()")
        return "cuda"
    if backend == "cuda":
        if simulator():  # the simulator's device memory is host memory
            return "cuda"
        raise InputError(f"{name} is on {x.device} but this layer was built with backend='cuda'; move the inputs "
                         f"to the GPU with .cuda(), or build the layer with backend='cpu' or 'auto'")
    return "cpu"


def cuda_kernels(kernels) -> TorchCudaKernels:
    """The direct CUDA launches on torch tensors for the model and generated code of a layer's
    ``kernels`` (this imports the model's generated CUDA launchers)."""
    return TorchCudaKernels(kernels.model, generated=kernels.generated)


# --- array namespaces of the engine ------------------------------------------------------------
class _NumpyOps:
    """numpy: the CPU engine (single-threaded small algebra between the kernel launches)."""
    name = "numpy"
    cat = staticmethod(np.concatenate)
    matmul = staticmethod(np.matmul)
    empty_like = staticmethod(np.empty_like)
    zeros_like = staticmethod(np.zeros_like)
    contiguous = staticmethod(np.ascontiguousarray)

    @staticmethod
    def zeros(shape, like):
        return np.zeros(shape, dtype=like.dtype)

    @staticmethod
    def empty(shape, like):
        return np.empty(shape, dtype=like.dtype)

    @staticmethod
    def eye(n, like):
        return np.eye(n, dtype=like.dtype)

    @staticmethod
    def index(idx, like):
        return idx

    @staticmethod
    def nonfinite_rows(x):
        """Boolean per index of axis 1 of x (B, K, ...): whether any entry there is NaN or inf."""
        return ~np.isfinite(x).reshape(x.shape[0], x.shape[1], -1).all(axis=(0, 2))

    @staticmethod
    def all_finite(x) -> bool:
        return bool(np.isfinite(x).all())

    @staticmethod
    def from_torch(t):
        return t.detach().numpy()

    @staticmethod
    def to_torch(a):
        return torch.from_numpy(a)

    @staticmethod
    def to_torch_contiguous(a):
        return torch.from_numpy(np.ascontiguousarray(a))


class _TorchOps:
    """torch on the inputs' device: the CUDA engine (and, in the simulator, torch on the CPU)."""
    name = "torch"
    cat = staticmethod(torch.cat)
    matmul = staticmethod(torch.matmul)
    empty_like = staticmethod(torch.empty_like)
    zeros_like = staticmethod(torch.zeros_like)

    def __init__(self):
        self._index = {}

    @staticmethod
    def contiguous(x):
        return x.contiguous()

    @staticmethod
    def zeros(shape, like):
        return torch.zeros(shape, dtype=like.dtype, device=like.device)

    @staticmethod
    def empty(shape, like):
        return torch.empty(shape, dtype=like.dtype, device=like.device)

    @staticmethod
    def eye(n, like):
        return torch.eye(n, dtype=like.dtype, device=like.device)

    def index(self, idx, like):
        """A numpy index array as a long tensor on ``like``'s device (cached: no copy per use)."""
        idx = np.asarray(idx)
        key = (idx.tobytes(), like.device)
        t = self._index.get(key)
        if t is None:
            t = self._index[key] = torch.as_tensor(idx, dtype=torch.long, device=like.device)
        return t

    @staticmethod
    def nonfinite_rows(x):
        return (~torch.isfinite(x)).reshape(x.shape[0], x.shape[1], -1).any(2).any(0).cpu().numpy()

    @staticmethod
    def all_finite(x) -> bool:
        return bool(torch.isfinite(x).all())  # one host synchronization

    @staticmethod
    def from_torch(t):
        return t.detach()

    @staticmethod
    def to_torch(a):
        return a

    @staticmethod
    def to_torch_contiguous(a):
        return a.contiguous()


NUMPY = _NumpyOps()
TORCH = _TorchOps()
