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
            import torch
            if torch.is_grad_enabled():
                raise InputError(f"{name} requires grad, but symgait.kernels(...) returns plain tensors without "
                                 f"a graph; for autograd use the layers (symgait.layers.InverseDynamics / "
                                 f"ForwardDynamics), or pass {name}.detach()")
            x = x.detach()
        if str(x.dtype) not in ("torch.float32", "torch.float64"):
            raise InputError(f"{name} has dtype {x.dtype}; kernels take torch.float32 or torch.float64 "
                             f"(use {name}.double() or {name}.float())")
        return x.numpy(), "torch"
    if isinstance(x, np.ndarray):
        return x, "numpy"
    if isinstance(x, (list, tuple, float, int)):
        return np.asarray(x, dtype=np.float64), "numpy"
    raise InputError(f"{name} must be a numpy array or a torch tensor, got {type(x).__name__}")


def check_batch_meta(name: str, dtype, shape: tuple, trailing: tuple, ref_dtype, batch: int | None):
    """The dtype and shape checks of :func:`batch_input`, on metadata only (shared with the device-array
    path of backend='cuda', :mod:`symgait.runtime.cuda_arrays`)."""
    if dtype not in FLOATS:
        raise InputError(f"{name} has dtype {dtype}; kernels take float32 or float64 (use .astype(np.float64))")
    if ref_dtype is not None and dtype != ref_dtype:
        raise InputError(f"{name} has dtype {dtype} but the other inputs are {np.dtype(ref_dtype)}; "
                         f"pass all inputs in one dtype")
    want = ("B",) + trailing
    if len(shape) != len(want) or tuple(shape[1:]) != trailing:
        hint = " (add a batch axis: x[None])" if tuple(shape) == trailing else ""
        raise InputError(f"{name} has shape {tuple(shape)}; expected {want}{hint}")
    if batch is not None and shape[0] != batch:
        raise InputError(f"{name} has batch size {shape[0]} but q has {batch}; all inputs need the same batch")


def nonfinite_error(name: str, sample: int, entry: int) -> InputError:
    return InputError(f"{name} contains NaN or inf (first at sample {sample}, entry {entry})")


def batch_input(name: str, x, size: int, trailing: tuple, dtype, batch: int | None):
    """Check a batched input of shape (B, *trailing); return a C-contiguous (B, size) view."""
    check_batch_meta(name, x.dtype, x.shape, trailing, dtype, batch)
    if not np.all(np.isfinite(x)):
        bad = np.argwhere(~np.isfinite(x.reshape(x.shape[0], -1)))[0]
        raise nonfinite_error(name, bad[0], bad[1])
    return np.ascontiguousarray(x.reshape(x.shape[0], size))


def check_param_meta(dtype, shape: tuple, n_p: int, batch: int) -> tuple:
    """The dtype and shape checks of :func:`param_input` on metadata; returns p's 2-D shape."""
    if dtype not in FLOATS:
        raise InputError(f"p has dtype {dtype}; use model.parameters(height=..., mass=...)")
    shape2 = (1,) + tuple(shape) if len(shape) == 1 else tuple(shape)
    if len(shape2) != 2 or shape2[1] != n_p or shape2[0] not in (1, batch):
        raise InputError(f"p has shape {shape2}; expected ({n_p},) or (B={batch}, {n_p}) "
                         f"(build it with model.parameters(height=..., mass=...))")
    return shape2


NONFINITE_P = "p contains NaN or inf; build it with model.parameters(height=..., mass=...)"


def param_input(x, n_p: int, dtype, batch: int):
    shape2 = check_param_meta(x.dtype, x.shape, n_p, batch)
    x = x.reshape(shape2)
    if not np.all(np.isfinite(x)):
        raise InputError(NONFINITE_P)
    return np.ascontiguousarray(x, dtype=dtype)


def check_outputs(kernel: str, outs: dict, inputs: dict) -> None:
    """Raise :class:`InputError` if a kernel produced NaN or inf from finite inputs (an overflow: an
    input too large for its dtype, e.g. qdd = 1e308 or 1e20 in float32), naming the largest input."""
    for a, x in outs.items():
        if not np.isfinite(x).all():
            sample = int(np.argwhere(~np.isfinite(x))[0][0])
            rows = {k: v[sample if len(v) > 1 else 0] for k, v in inputs.items()}
            big = max(rows, key=lambda k: float(np.abs(rows[k]).max()))
            peak = float(np.abs(rows[big]).max())
            raise InputError(f"{kernel} overflowed to NaN or inf at sample {sample} (output {a}) from finite "
                             f"inputs: the largest is |{big}| = {peak:.3g} in {x.dtype}; check the inputs' units "
                             f"and magnitudes" + (" (or use float64)" if x.dtype == np.float32 else "")
                             + ("; or the mass matrix is singular there (a floating root at gimbal lock, "
                                "pelvis_list = ±90°)" if kernel.startswith("forward_dynamics") else ""))


def wrap(kind: str, x):
    if kind == "torch":
        import torch
        return torch.from_numpy(x)
    return x
