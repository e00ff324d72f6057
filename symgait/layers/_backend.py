"""Where the physics layers run: backend selection, the array namespace of the integrator's algebra,
and direct CUDA launches on torch tensors.

* ``backend="cpu"``: the CPU kernels through :class:`~symgait.runtime.kernels.Kernels` (numpy views of
  the tensors), the algebra between launches in numpy (:data:`NUMPY`).
* ``backend="cuda"``: the generated CUDA launchers on the tensors' device, launched directly on
  ``torch.cuda.current_stream()`` (:class:`CudaKernels`), the algebra between launches in torch ops
  on the same device (:data:`TORCH`). Nothing is copied to the host between stages: the layers
  check their inputs once per call, so the per-call checks of ``Kernels`` (a NaN-flag copy back and
  a host copy of ``p``, i.e. host synchronizations) are skipped; divergence is detected once, on the
  finished trajectory.
* ``backend="auto"`` (the default): "cuda" for CUDA tensors, else "cpu".

In Numba's CUDA simulator (``NUMBA_ENABLE_CUDASIM=1``) ``backend="cuda"`` takes CPU tensors (the
simulator's "device" is host memory): the same code path, the kernels viewed zero-copy as the
simulator's device arrays, the torch algebra on the CPU. That is how CI checks the CUDA path.
"""
from __future__ import annotations

import contextlib

import numpy as np
import torch

from ..errors import InputError
from ..runtime.kernels import Kernels

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


# --- direct CUDA launches on torch tensors --------------------------------------------------------
class CudaKernels(Kernels):
    """The public kernel methods of :class:`Kernels` (same arguments, same output dicts) launched on
    torch tensors through the model's generated CUDA launchers, without the per-call input checks
    and host copies of ``backend="cuda"``: every input must be a finite float tensor of the right
    shape on the lead input's device, in the lead input's dtype -- the layers guarantee it. Outputs
    are torch tensors on that device, from PyTorch's caching allocator; the launch runs on
    ``torch.cuda.current_stream()``. In the simulator the tensors are CPU tensors, viewed zero-copy
    as simulated device arrays."""

    def __init__(self, model, generated=None):
        super().__init__(model, "cuda", generated, check_parameters=False)
        from numba import cuda

        from ..runtime import cuda_arrays
        self._nb_cuda, self._ca = cuda, cuda_arrays
        self._sim = cuda_arrays.simulator()
        if self._sim:
            from numba.cuda.cudadrv import devicearray as da  # the simulator's module when it is on
            self._fake = da.FakeCUDAArray

    def _view(self, t):
        if self._sim:
            return self._fake(t.numpy())
        return self._nb_cuda.as_cuda_array(t, sync=False)

    def _call(self, name: str, args: dict, out_shapes: dict):
        ca = self._ca
        sig = self.manifest["kernels"][name]
        lead = args["q"]
        B, dtype, device = lead.shape[0], lead.dtype, lead.device
        ins = []
        for a, size in sig["inputs"]:
            x = args[a].detach()
            ins.append((x.reshape(1, size) if x.dim() == 1 else x) if a == "p" else x.reshape(B, size).contiguous())
        outs = {a: torch.empty((B, size), dtype=dtype, device=device) for a, size in sig["outputs"]}
        nwork = sig["work"]
        if ca.WORK_LAYOUT == "interleaved":
            work = torch.empty((nwork, B), dtype=dtype, device=device).t()
        else:
            work = torch.empty((B, nwork), dtype=dtype, device=device)
        if B > 0:
            ctx = contextlib.nullcontext() if self._sim else self._nb_cuda.gpus[device.index or 0]
            with ctx:
                call = [self._view(x.contiguous()) for x in ins] + [self._view(outs[a]) for a, _ in sig["outputs"]]
                call.append(self._view(work))
                blocks, threads = ca.launch_config(B)
                getattr(self.module, name)[blocks, threads, ca.stream_for("torch", lead)](*call)
        return {a: outs[a].reshape((B,) + tuple(shp)) for a, shp in out_shapes.items()}
