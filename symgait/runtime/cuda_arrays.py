"""Device arrays for the CUDA backends (:mod:`symgait.runtime.cuda`): array kinds, views, streams,
allocation, the NaN/inf flag kernel and the launch configuration.

Inputs may be PyTorch CUDA tensors, CuPy arrays, Numba device arrays or any other object with
``__cuda_array_interface__`` (:func:`array_kind`). They are viewed without a copy (:func:`view`:
``numba.cuda.as_cuda_array(x, sync=False)``), and :func:`stream_for` gives the producer's current
stream (PyTorch: ``torch.cuda.current_stream()``, CuPy: ``cupy.cuda.get_current_stream()``, wrapped
with ``numba.cuda.external_stream``; otherwise Numba's default stream). :class:`Alloc` allocates
outputs and work with the library of the lead input, on its device (PyTorch's and CuPy's caching
allocators serve them). :func:`check_finite` finds NaN/inf in device inputs with one small kernel
per input whose flags come back in one device-to-host copy (a host synchronization).

Launch configuration (docs/gpu.md): one thread per sample; ``THREADS_PER_BLOCK`` threads per block,
halved down to 32 while that leaves streaming multiprocessors idle (small batches); grid-stride
kernels, so ``MAX_BLOCKS`` may cap the grid. ``WORK_LAYOUT``: "rows" ((B, nwork), row b for sample
b, as on the CPU: unit stride, so the compiler addresses the scratch with constant offsets) or
"interleaved" (the transpose of an (nwork, B) buffer: a warp's accesses are coalesced, but the
stride is a run-time value, which costs registers and spills); ``bench/gpu.py`` compares them.
"""
from __future__ import annotations

import contextlib
import math

import numpy as np
from numba import cuda

from ..errors import InputError
from .arrays import is_torch, nonfinite_error

GPU_EXTRA = "pip install symgait[gpu]"
THREADS_PER_BLOCK = 128     # register-bound kernels: see docs/gpu.md
MIN_THREADS_PER_BLOCK = 32  # one warp
MAX_BLOCKS = None           # None: one thread per sample; an int caps the grid (the kernels grid-stride)
WORK_LAYOUT = "rows"        # or "interleaved" (docs/gpu.md)
SIM_THREADS_PER_BLOCK = 4   # the simulator runs one Python thread per CUDA thread

_AVAILABLE = None
_SM_COUNT = {}


# --- environment -------------------------------------------------------------------------------
def simulator() -> bool:
    """True when Numba's CUDA simulator is on (NUMBA_ENABLE_CUDASIM=1 before numba was imported)."""
    from numba.core import config
    return bool(config.ENABLE_CUDASIM)


def cuda_available() -> bool:
    global _AVAILABLE
    if _AVAILABLE is None:
        try:
            _AVAILABLE = bool(cuda.is_available())
        except Exception:  # pragma: no cover - broken driver installs
            _AVAILABLE = False
    return _AVAILABLE


def require_cuda() -> None:
    if not cuda_available():
        raise InputError("backend='cuda' needs an NVIDIA GPU with a working CUDA driver (numba.cuda.is_available() "
                         "is False here); use backend='cpu' or 'auto', or run the CUDA kernels in Numba's simulator "
                         "by setting NUMBA_ENABLE_CUDASIM=1 before numba is imported")


def import_cupy():
    """CuPy, or an InputError naming the extra that installs it."""
    try:
        import cupy
    except ImportError as e:
        raise InputError(f"CuPy arrays need CuPy, which is not installed ({e}); install the GPU extra: "
                         f"{GPU_EXTRA} (or pip install cupy-cuda12x)") from None
    return cupy


def _import_torch_cuda():
    try:
        import torch
    except ImportError:
        raise InputError("torch arrays need PyTorch: pip install symgait[torch]") from None
    if not torch.cuda.is_available():
        raise InputError("this PyTorch has no usable CUDA device (torch.cuda.is_available() is False); install a "
                         "CUDA build of PyTorch, or use numpy / Numba device arrays")
    return torch


# --- array kinds -------------------------------------------------------------------------------
def _numba_array_types() -> tuple:
    from numba.cuda.cudadrv import devicearray as da  # the simulator's module when it is on
    return tuple(getattr(da, n) for n in ("DeviceNDArray", "FakeCUDAArray") if hasattr(da, n))


def array_kind(x) -> str:
    """'torch' (CUDA tensor), 'cupy', 'numba' (Numba device array), 'cai' (other CUDA array) or 'host'."""
    if is_torch(x):
        return "torch" if x.device.type == "cuda" else "host"
    if isinstance(x, (np.ndarray, list, tuple, float, int)):
        return "host"
    if type(x).__module__.split(".")[0] == "cupy":
        return "cupy"
    if isinstance(x, _numba_array_types()):
        return "numba"
    if hasattr(x, "__cuda_array_interface__"):
        return "cai"
    return "host"


def on_device(values) -> bool:
    """Whether any of ``values`` lives on a GPU (backend='auto' then takes the CUDA path)."""
    return any(array_kind(v) != "host" for v in values)


def to_device(x, like: str = "numba"):
    """Copy a host array to the GPU as a Numba device array ('numba'), a PyTorch CUDA tensor ('torch')
    or a CuPy array ('cupy'); for tests and benchmarks."""
    x = np.ascontiguousarray(x)
    if like == "numba":
        require_cuda()
        return cuda.to_device(x)
    if like == "torch":
        return _import_torch_cuda().as_tensor(x, device="cuda")
    if like == "cupy":
        return import_cupy().asarray(x)
    raise InputError(f"like must be 'numba', 'torch' or 'cupy', got {like!r}")


def to_host(x) -> np.ndarray:
    """A numpy copy of a device array of any kind (or the array itself if it is on the host)."""
    kind = array_kind(x)
    if kind == "host":
        return x.detach().cpu().numpy() if is_torch(x) else np.asarray(x)
    if kind == "torch":
        return x.detach().cpu().numpy()
    if kind == "cupy":
        return x.get()
    v = x if kind == "numba" else cuda.as_cuda_array(x)
    return v.copy_to_host()


# --- launch configuration ----------------------------------------------------------------------
def _sm_count() -> int:
    if simulator():
        return 1
    dev = cuda.get_current_device()
    key = dev.id
    if key not in _SM_COUNT:
        _SM_COUNT[key] = int(dev.MULTIPROCESSOR_COUNT)
    return _SM_COUNT[key]


def launch_config(batch: int, threads: int | None = None) -> tuple[int, int]:
    """(blocks, threads per block) for ``batch`` samples, one thread per sample."""
    t = threads or THREADS_PER_BLOCK
    if simulator():
        t = min(t, SIM_THREADS_PER_BLOCK)
    elif threads is None:
        sms = _sm_count()
        while t > MIN_THREADS_PER_BLOCK and -(-batch // t) < sms:
            t //= 2  # small batch: spread the warps over more multiprocessors
    t = max(1, min(t, batch))
    blocks = -(-batch // t)
    if MAX_BLOCKS:
        blocks = min(blocks, MAX_BLOCKS)
    return blocks, t


def work_layout(batch: int, nwork: int) -> tuple[tuple[int, int], bool]:
    """(shape to allocate, whether to transpose it) of the kernels' (B, nwork) scratch in ``WORK_LAYOUT``."""
    if WORK_LAYOUT == "interleaved":
        return (nwork, batch), True
    return (batch, nwork), False


def _util_config(total: int) -> tuple[int, int]:
    if simulator():
        return 1, max(1, min(total, 8))
    return max(1, min(-(-total // 256), 1024)), 256


# --- helper kernels (dtype- and layout-generic) -------------------------------------------------
@cuda.jit
def _first_nonfinite(x, flags, slot):
    i = cuda.grid(1)
    size = x.shape[1]
    total = x.shape[0] * size
    while i < total:
        if not math.isfinite(x[i // size, i % size]):
            cuda.atomic.min(flags, slot, i)
        i += cuda.gridsize(1)


@cuda.jit
def _copy1(src, dst):
    i = cuda.grid(1)
    while i < src.shape[0]:
        dst[i] = src[i]
        i += cuda.gridsize(1)


@cuda.jit
def _copy2(src, dst):
    i = cuda.grid(1)
    n1 = src.shape[1]
    while i < src.shape[0] * n1:
        dst[i // n1, i % n1] = src[i // n1, i % n1]
        i += cuda.gridsize(1)


@cuda.jit
def _copy3(src, dst):
    i = cuda.grid(1)
    n1, n2 = src.shape[1], src.shape[2]
    while i < src.shape[0] * n1 * n2:
        a, r = i // (n1 * n2), i % (n1 * n2)
        dst[a, r // n2, r % n2] = src[a, r // n2, r % n2]
        i += cuda.gridsize(1)


# --- allocation on the lead input's library ------------------------------------------------------
class Alloc:
    """Allocates device arrays with the library of the lead input; returns (owner, numba view)."""

    def __init__(self, kind: str, lead, stream):
        self.kind, self.stream = kind, stream
        if kind == "torch":
            import torch
            self.torch, self.device = torch, lead.device
        elif kind == "cupy":
            self.cupy = import_cupy()

    def empty(self, shape, dtype):
        if self.kind == "torch":
            t = self.torch.empty(shape, dtype=getattr(self.torch, np.dtype(dtype).name), device=self.device)
            return t, cuda.as_cuda_array(t, sync=False)
        if self.kind == "cupy":
            c = self.cupy.empty(shape, dtype=dtype)
            return c, cuda.as_cuda_array(c, sync=False)
        d = cuda.device_array(shape, dtype=dtype, stream=self.stream)
        return d, d

    def upload(self, arr: np.ndarray):
        """A host array on the device (owner, view)."""
        if self.kind == "torch":
            t = self.torch.from_numpy(np.ascontiguousarray(arr)).to(self.device, non_blocking=False)
            return t, cuda.as_cuda_array(t, sync=False)
        if self.kind == "cupy":
            c = self.cupy.asarray(arr)  # on CuPy's current stream, the one the kernels run on
            return c, cuda.as_cuda_array(c, sync=False)
        d = cuda.to_device(np.ascontiguousarray(arr), stream=self.stream)
        return d, d


def view(name: str, x, kind: str):
    """A zero-copy Numba view of device input ``name`` of kind ``kind`` (:func:`array_kind`)."""
    if kind == "numba":
        return x
    if kind == "torch":
        x = x.detach()
    try:
        return cuda.as_cuda_array(x, sync=False)
    except Exception as e:
        raise InputError(f"{name} ({type(x).__name__} of dtype {getattr(x, 'dtype', '?')}) cannot be used as a CUDA "
                         f"array ({e}); kernels take float32 or float64") from None


def torch_view(t):
    """A zero-copy Numba view of torch tensor ``t``; in the simulator, whose device memory is host
    memory, ``t`` is a CPU tensor and the view a simulated device array over its memory."""
    if simulator():
        from numba.cuda.cudadrv import devicearray as da  # the simulator's module when it is on
        return da.FakeCUDAArray(t.numpy())
    return cuda.as_cuda_array(t, sync=False)


def _device_index(x, kind: str):
    if kind == "torch":
        return x.device.index if x.device.index is not None else 0
    if kind == "cupy":
        return int(x.device.id)
    return None


def gpu(index: int):
    """The Numba context of GPU ``index`` (a no-op in the simulator)."""
    return contextlib.nullcontext() if simulator() else cuda.gpus[index]


def device_context(args: dict, kinds: dict):
    """The Numba context of the GPU that holds the device inputs ``args`` (by name, in argument order;
    ``kinds`` from :func:`array_kind`); refuses inputs on different GPUs."""
    index = None
    for a, x in args.items():
        i = _device_index(x, kinds[a])
        if i is not None:
            if index is not None and i != index[1]:
                raise InputError(f"{a} is on cuda:{i} but {index[0]} is on cuda:{index[1]}; put all inputs on one "
                                 f"device")
            index = index or (a, i)
    return gpu(index[1]) if index is not None else contextlib.nullcontext()


def stream_for(kind: str, lead):
    if simulator():
        return 0
    if kind == "torch":
        import torch
        ptr = torch.cuda.current_stream(lead.device).cuda_stream
    elif kind == "cupy":
        ptr = import_cupy().cuda.get_current_stream().ptr
    else:
        return cuda.default_stream()
    return cuda.external_stream(ptr) if ptr else cuda.default_stream()


def contiguous(v, alloc: Alloc, keep: list):
    """A C-contiguous copy of a device view (1-D to 3-D) unless it already is one."""
    if v.is_c_contiguous():
        return v
    owner, out = alloc.empty(tuple(v.shape), v.dtype)
    keep.append(owner)
    blocks, threads = _util_config(int(np.prod(v.shape)))
    {1: _copy1, 2: _copy2, 3: _copy3}[len(v.shape)][blocks, threads, alloc.stream](v, out)
    return out


def host_copy(x, kind: str, v, alloc: Alloc, keep: list) -> np.ndarray:
    """A numpy copy of a (small) device input, e.g. p."""
    if kind == "torch":
        return x.detach().cpu().numpy()  # synchronizes with the current stream
    if kind == "cupy":
        return x.get()
    return to_host_view(contiguous(v, alloc, keep), alloc.stream)


def to_host_view(v, stream) -> np.ndarray:
    """A numpy copy of device view ``v``, waited for on ``stream``."""
    out = v.copy_to_host(stream=stream)
    if not simulator():
        stream.synchronize()
    return out


def check_finite(checks: list, alloc: Alloc, keep: list, stream) -> None:
    """Raise the CPU path's NaN/inf error for the first non-finite entry of the device inputs
    ``checks`` ((name, (B, size) view, size), in argument order): one flag kernel per input, one
    copy of the flags back."""
    if not checks:
        return
    sentinel = np.iinfo(np.int64).max
    owner, flags = alloc.upload(np.full(len(checks), sentinel, dtype=np.int64))
    keep.append(owner)
    for slot, (a, v, size) in enumerate(checks):
        blocks, threads = _util_config(int(v.shape[0]) * size)
        _first_nonfinite[blocks, threads, stream](v, flags, slot)
    first = to_host_view(flags, stream)
    for (a, v, size), i in zip(checks, first):
        if i != sentinel:
            raise nonfinite_error(a, int(i) // size, int(i) % size)
