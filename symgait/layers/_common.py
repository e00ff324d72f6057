"""Shared helpers of the physics layers: resolving a model's kernels and checking layer inputs.

Every check raises :class:`symgait.InputError` naming the argument, what was expected and how to
fix it (the kernels check again, but their messages speak of kernel arguments, not layer ones).
"""
from __future__ import annotations

import numpy as np
import torch

from ..errors import InputError
from ..model import load_model
from ..runtime.kernels import Kernels, kernels

FLOAT_DTYPES = (torch.float32, torch.float64)


def resolve_kernels(model, generated=None):
    """(Model, Kernels) from a Model, a built-in name / YAML path, or a ready Kernels object."""
    if isinstance(model, Kernels):
        if generated is not None:
            raise InputError("pass either a Kernels object or generated=..., not both")
        return model.model, model
    if not hasattr(model, "spec"):
        model = load_model(model)
    return model, kernels(model, generated=generated)


def check_tensor(name: str, x, shape: tuple, meaning: str, ref=None):
    """Check a floating CPU or CUDA tensor of ``shape`` (entries: int, or a str label matching anything);
    with ``ref`` (name, tensor) its dtype and device must match the reference's. Returns ``x``."""
    if isinstance(x, np.ndarray):
        raise InputError(f"{name} is a numpy array; the layers take torch tensors (torch.from_numpy({name}))")
    if not isinstance(x, torch.Tensor):
        raise InputError(f"{name} must be a torch tensor, got {type(x).__name__}")
    if x.dtype not in FLOAT_DTYPES:
        raise InputError(f"{name} has dtype {x.dtype}; the layers take torch.float32 or torch.float64 "
                         f"(use {name}.double() or {name}.float())")
    if ref is not None:
        rname, r = ref
        if x.dtype != r.dtype:
            raise InputError(f"{name} has dtype {x.dtype} but {rname} has {r.dtype}; pass all inputs in one dtype")
        if x.device != r.device:
            raise InputError(f"{name} is on {x.device} but {rname} is on {r.device}; put all inputs on one device")
    if x.device.type not in ("cpu", "cuda"):
        raise InputError(f"{name} is on {x.device}; the layers run the CPU kernels (backend 'cpu') on CPU "
                         f"tensors or the CUDA kernels (backend 'cuda') on CUDA tensors: move the inputs with "
                         f".cpu() or .cuda()")
    want = tuple(shape)
    if x.dim() != len(want) or any(isinstance(s, int) and s != d for s, d in zip(want, x.shape)):
        shown = "(" + ", ".join(str(s) for s in want) + ")"
        raise InputError(f"{name} has shape {tuple(x.shape)}; expected {shown}: {meaning}")
    return x


def check_finite(name: str, x):
    if not bool(torch.isfinite(x).all()):
        idx = torch.nonzero(~torch.isfinite(x))[0].tolist()
        raise InputError(f"{name} contains NaN or inf (first at index {tuple(idx)})")


def check_all_finite(named, one_sync: bool = False):
    """:func:`check_finite` of each (name, tensor), in order. ``one_sync`` (the CUDA backend): the flags
    are reduced on the device and copied back together, one host synchronization for all of them."""
    named = list(named)
    if one_sync and named:
        flags = torch.stack([torch.isfinite(x).all() for _, x in named]).tolist()
        named = [nx for nx, ok in zip(named, flags) if not ok]
    for name, x in named:
        check_finite(name, x)


def contact_wrenches(model, w, B: int, T: int, ref_name: str, ref):
    """w checked as (B, T, n_contacts, 6) like the reference; None -> zeros."""
    nc = model.n_contacts
    if w is None:
        return ref.new_zeros(B, T, nc, 6)
    check_tensor("w", w, (B, T, nc, 6), f"contact wrenches (world force, world moment about the contact "
                 f"body's origin) of the {nc} contacts {model.contacts}", (ref_name, ref))
    return w


def params_tensor(model, p, ref_name: str, ref, batch: int, cache: dict | None = None):
    """p as a tensor of the reference's dtype: (n_p,) or (B, n_p); None -> the model's defaults.
    A numpy p (e.g. ``model.parameters()``) is converted (and then carries no gradient)."""
    n_p = model.n_parameters
    if p is None:
        p = model.parameters()
    if isinstance(p, np.ndarray):
        if p.dtype not in (np.float32, np.float64):
            raise InputError(f"p has dtype {p.dtype}; build it with model.parameters(height=..., mass=...)")
        p = torch.from_numpy(np.ascontiguousarray(p)).to(device=ref.device, dtype=ref.dtype)
    if not isinstance(p, torch.Tensor):
        raise InputError(f"p must be a torch tensor or numpy array, got {type(p).__name__}")
    if p.dim() == 1:
        check_tensor("p", p, (n_p,), f"the {n_p} model parameters, shared, or (B={batch}, {n_p}) per sample",
                     (ref_name, ref))
    else:
        check_tensor("p", p, (batch, n_p), f"the {n_p} model parameters per sample, or ({n_p},) shared",
                     (ref_name, ref))
    arr = p.detach().cpu().numpy()  # (a no-op on the CPU; on a GPU one small copy per call, not per stage)
    if not np.isfinite(arr).all():
        idx = np.argwhere(~np.isfinite(arr))[0].tolist()
        raise InputError(f"p contains NaN or inf (first at index {tuple(idx)})")
    key = (arr.dtype.str, arr.shape, arr.tobytes())
    if cache is None or cache.get("p") != key:
        try:
            model.check_parameters(arr)
        except InputError as e:
            raise InputError(f"p: {e}") from None
        if cache is not None:
            cache["p"] = key
    return p
