"""Input checking and conversion for the batched kernels: numpy arrays or CPU torch tensors in,
the same type out. Every error names the argument, what was expected and how to fix it."""
from __future__ import annotations

import numpy as np

from ..errors import InputError

FLOATS = (np.float32, np.float64)


def is_torch(x) -> bool:
    t = type(x)
    return t.__module__.startswith("torch") and t.__name__ in ("Tensor", "Parameter")


def to_numpy(name: str, x):
    """-> (numpy array, 'torch' | 'numpy'); torch tensors must be on the CPU for backend='cpu'."""
    if is_torch(x):
        if x.device.type != "cpu":
            raise InputError(f"{name} is a torch tensor on {x.device}; the cpu backend needs CPU tensors "
                             f"(use backend='cuda' or .cpu())")
        if x.requires_grad:
            x = x.detach()
        return x.numpy(), "torch"
    if isinstance(x, np.ndarray):
        return x, "numpy"
    if isinstance(x, (list, tuple, float, int)):
        return np.asarray(x, dtype=np.float64), "numpy"
    raise InputError(f"{name} must be a numpy array or a torch tensor, got {type(x).__name__}")


def batch_input(name: str, x, size: int, trailing: tuple, dtype, batch: int | None):
    """Check a batched input of shape (B, *trailing); return a C-contiguous (B, size) view."""
    if x.dtype not in FLOATS:
        raise InputError(f"{name} has dtype {x.dtype}; kernels take float32 or float64 (use .astype(np.float64))")
    if dtype is not None and x.dtype != dtype:
        raise InputError(f"{name} has dtype {x.dtype} but the other inputs are {np.dtype(dtype)}; "
                         f"pass all inputs in one dtype")
    want = ("B",) + trailing
    if x.ndim != len(want) or tuple(x.shape[1:]) != trailing:
        hint = " (add a batch axis: x[None])" if tuple(x.shape) == trailing else ""
        raise InputError(f"{name} has shape {tuple(x.shape)}; expected {want}{hint}")
    if batch is not None and x.shape[0] != batch:
        raise InputError(f"{name} has batch size {x.shape[0]} but q has {batch}; all inputs need the same batch")
    if not np.all(np.isfinite(x)):
        bad = np.argwhere(~np.isfinite(x.reshape(x.shape[0], -1)))[0]
        raise InputError(f"{name} contains NaN or inf (first at sample {bad[0]}, entry {bad[1]})")
    return np.ascontiguousarray(x.reshape(x.shape[0], size))


def param_input(x, n_p: int, dtype, batch: int):
    if x.dtype not in FLOATS:
        raise InputError(f"p has dtype {x.dtype}; use model.parameters(height=..., mass=...)")
    if x.ndim == 1:
        x = x[None]
    if x.ndim != 2 or x.shape[1] != n_p or x.shape[0] not in (1, batch):
        raise InputError(f"p has shape {tuple(x.shape)}; expected ({n_p},) or (B={batch}, {n_p}) "
                         f"(build it with model.parameters(height=..., mass=...))")
    if not np.all(np.isfinite(x)):
        raise InputError("p contains NaN or inf; build it with model.parameters(height=..., mass=...)")
    return np.ascontiguousarray(x, dtype=dtype)


def wrap(kind: str, x):
    if kind == "torch":
        import torch
        return torch.from_numpy(x)
    return x
