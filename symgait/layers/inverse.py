"""Inverse-dynamics layer: per-frame root residual wrench and joint torques, differentiably.

Frames are independent: the (B, T) frames are flattened into one kernel batch of B*T samples.
The residual is the wrench the root joint would have to supply (world force, world moment about
the root body's origin) for the motion (q, qd, qdd) under gravity and the contact wrenches w; for
a physically consistent motion and complete contact wrenches it is 0. Backward passes use the
generated reverse-mode products (``root_residual_vjp``, ``inverse_dynamics_vjp``): gradients for
q, qd, qdd, w and p (subject parameters such as segment lengths and masses). A model with quaternion
joints takes q (B, T, nq) with unit quaternions and qd, qdd (B, T, nv) (CPU backend); the kernels'
gradient with respect to q is in the tangent space and comes back as the gradient of q's entries
with no component off the manifold (:meth:`~symgait.runtime.manifold.ConfigurationSpace.gradient_from_tangent`).
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.autograd.function import once_differentiable

from ..errors import InputError
from ._backend import TORCH, check_backend, cuda_kernels, resolve_backend
from ..runtime.manifold import ConfigurationSpace
from ._common import check_all_finite, check_tensor, contact_wrenches, params_tensor, resolve_kernels


def _flat_p(p, B, T):
    """p (n_p,) stays shared; (B, n_p) -> (B*T, n_p) (each frame of a sample gets its row)."""
    if p.dim() == 1:
        return p
    return p.unsqueeze(1).expand(B, T, p.shape[1]).reshape(B * T, p.shape[1])


def _p_grad(gp, p, B, T):
    """Per-frame parameter gradients (B*T, n_p) -> the shape of p."""
    if p.dim() == 1:
        return gp.sum(0)
    return gp.reshape(B, T, -1).sum(1)


class _FrameFn(torch.autograd.Function):
    """One kernel over B*T frames with a vjp kernel for its backward. ``what`` = 'residual' | 'torques';
    ``kern``: the CPU :class:`Kernels` or the :class:`~symgait.runtime.cuda.TorchCudaKernels`; ``act``:
    index tensor of the actuated coordinates on the inputs' device; ``space``: the configuration space of
    a model with quaternion joints (None otherwise)."""

    @staticmethod
    def forward(q, qd, qdd, w, p, kern, act, what, space=None):
        B, T, nq = q.shape
        n = qd.shape[2]
        args = (q.reshape(B * T, nq), qd.reshape(B * T, n), qdd.reshape(B * T, n),
                w.reshape(B * T, w.shape[2], 6), _flat_p(p, B, T))
        if what == "residual":
            return kern.root_residual(*args).reshape(B, T, 6)
        tau = kern.inverse_dynamics(*args)
        return tau[:, act].reshape(B, T, -1)

    @staticmethod
    def setup_context(ctx, inputs, output):
        q, qd, qdd, w, p, kern, act, what, space = inputs
        ctx.save_for_backward(q, qd, qdd, w, p)
        ctx.kern, ctx.act, ctx.what, ctx.space = kern, act, what, space

    @staticmethod
    @once_differentiable
    def backward(ctx, g):
        q, qd, qdd, w, p = ctx.saved_tensors
        kern, act = ctx.kern, ctx.act
        B, T, nq = q.shape
        n = qd.shape[2]
        args = (q.reshape(B * T, nq), qd.reshape(B * T, n), qdd.reshape(B * T, n),
                w.reshape(B * T, w.shape[2], 6), _flat_p(p, B, T))
        g = g.reshape(B * T, -1)
        if ctx.what == "residual":
            r = kern.root_residual_vjp(*args, g.contiguous())
        else:
            mu = g.new_zeros(B * T, n)
            mu[:, act] = g
            r = kern.inverse_dynamics_vjp(*args, mu)
        need = ctx.needs_input_grad
        gq = r["grad_q"]
        if ctx.space is not None and need[0]:  # tangent space -> q's entries
            gq = torch.from_numpy(ctx.space.gradient_from_tangent(args[0].detach().numpy(), gq.numpy())).to(q)
        out = [gq.reshape(B, T, nq) if need[0] else None,
               r["grad_qd"].reshape(B, T, n) if need[1] else None,
               r["grad_qdd"].reshape(B, T, n) if need[2] else None,
               r["grad_w"].reshape(w.shape) if need[3] else None,
               _p_grad(r["grad_p"], p, B, T) if need[4] else None]
        return (*out, None, None, None, None)


class InverseDynamics(nn.Module):
    """Per-frame inverse dynamics of a model.

    ``forward(q, qd, qdd, w=None, p=None)`` -> residual (B, T, 6): root force (N, world) then root
    moment (N m, world, about the root body's origin), from the generated ``root_residual``.
    :meth:`joint_torques` -> (B, T, n_actuated) generalized forces of ``model.actuated``.

    Shapes: q, qd, qdd (B, T, n); w (B, T, n_contacts, 6) world force and world moment about each
    contact body's origin (None: zero); p (n_p,) shared or (B, n_p) per sample (None or numpy:
    no gradient; None = default subject). float32 or float64 tensors, all on one device (CPU, or one
    GPU). Gradients for all of them (reverse-mode kernels; frames are independent).

    ``backend``: ``"auto"`` (default: ``"cuda"`` for CUDA tensors, else ``"cpu"``), ``"cpu"`` or
    ``"cuda"`` (the generated CUDA kernels on the inputs' GPU; in Numba's CUDA simulator it takes
    CPU tensors). See docs/layers.md.
    """

    def __init__(self, model, generated=None, *, backend: str = "auto"):
        super().__init__()
        self.backend = check_backend(backend)
        self.model, self.kernels = resolve_kernels(model, generated)
        self._act = torch.as_tensor(self.model.actuated_indices, dtype=torch.long)
        self._act_np = np.asarray(self.model.actuated_indices, dtype=np.intp)
        self._cuda_kernels = None
        self._p_cache = {}
        self._space = ConfigurationSpace.of(self.model) if self.model.quaternion_joints else None

    def extra_repr(self) -> str:
        return f"model={self.model.name!r}, backend={self.backend!r}"

    def _kernels_for(self, q):
        """(kernels, actuated index, configuration space or None) for the backend that runs inputs like ``q``."""
        if resolve_backend(self.backend, "q", q) == "cpu":
            return self.kernels, self._act, self._space
        if self._space is not None:
            raise InputError(f"model {self.model.name!r} has quaternion joints: this layer takes them on the CPU "
                             f"only; build it with backend='cpu' and pass CPU tensors")
        if self._cuda_kernels is None:  # the CUDA launchers are imported (and compiled) on first use
            self._cuda_kernels = cuda_kernels(self.kernels)
        return self._cuda_kernels, TORCH.index(self._act_np, q), None

    def check_inputs(self, q, qd, qdd, w=None, p=None):
        """Validate (raises :class:`symgait.InputError`); returns (q, qd, qdd, w, p)."""
        m = self.model
        n = m.nv
        check_tensor("q", q, ("B", "T", m.nq), f"coordinates {m.coordinates} for B samples and T frames")
        backend = resolve_backend(self.backend, "q", q)
        B, T = q.shape[0], q.shape[1]
        if T == 0:
            raise InputError("q has T = 0 frames; pass at least one frame")
        for name, x in (("qd", qd), ("qdd", qdd)):
            check_tensor(name, x, (B, T, n), f"like q: (B, T, n) for the {n} coordinates" if n == m.nq else
                         f"(B, T, nv) for the {n} velocity entries {m.velocities}", ("q", q))
        w = contact_wrenches(m, w, B, T, "q", q)
        p = params_tensor(m, p, "q", q, B, self._p_cache)
        check_all_finite((("q", q), ("qd", qd), ("qdd", qdd), ("w", w)), one_sync=backend == "cuda")
        return q, qd, qdd, w, p

    def forward(self, q, qd, qdd, w=None, p=None):
        q, qd, qdd, w, p = self.check_inputs(q, qd, qdd, w, p)
        kern, act, space = self._kernels_for(q)
        return _FrameFn.apply(q, qd, qdd, w, p, kern, act, "residual", space)

    def joint_torques(self, q, qd, qdd, w=None, p=None):
        """(B, T, n_actuated): inverse-dynamics generalized forces of the actuated coordinates."""
        q, qd, qdd, w, p = self.check_inputs(q, qd, qdd, w, p)
        kern, act, space = self._kernels_for(q)
        return _FrameFn.apply(q, qd, qdd, w, p, kern, act, "torques", space)


class _SafeNorm(torch.autograd.Function):
    """Euclidean norm over the last axis with gradient r / |r|, and 0 where r = 0."""

    @staticmethod
    def forward(r):
        return torch.linalg.vector_norm(r, dim=-1)

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(inputs[0], output)

    @staticmethod
    def backward(ctx, g):
        r, nrm = ctx.saved_tensors
        safe = torch.where(nrm > 0, nrm, torch.ones_like(nrm))
        unit = torch.where((nrm > 0).unsqueeze(-1), r / safe.unsqueeze(-1), torch.zeros_like(r))
        return g.unsqueeze(-1) * unit


def inverse_loss(residual, mass, reduction: str = "mean"):
    """Residual loss per kg of body mass.

    ``L = mean over frames of (|F_res|_2 + |M_res|_2) / mass`` with ``F_res = residual[..., :3]``
    (N) and ``M_res = residual[..., 3:]`` (N m); the mean runs over every frame of every sample
    (``reduction="none"`` returns the per-frame values, shape ``residual.shape[:-1]``). ``mass``:
    a number (kg), or a tensor broadcastable to the per-frame values, e.g. (B, 1) per subject.

    Gradient: dL/dF_res = F_res / |F_res| / (mass * N_frames) (likewise for M_res); at F_res = 0
    the norm is not differentiable and the gradient is defined as 0 (the minimum-norm
    subgradient), so a perfect frame contributes no gradient and no NaN.
    """
    if not isinstance(residual, torch.Tensor) or residual.shape[-1:] != (6,) or residual.dim() < 1:
        raise InputError(f"residual must be a tensor (..., 6) of root force and moment, got "
                         f"{getattr(residual, 'shape', type(residual).__name__)}")
    if reduction not in ("mean", "none"):
        raise InputError(f"reduction must be 'mean' or 'none', got {reduction!r}")
    if not isinstance(mass, torch.Tensor):
        mass = torch.as_tensor(float(mass), dtype=residual.dtype)
    if not bool((mass > 0).all()):
        raise InputError(f"mass must be positive (kg), got {mass}")
    per_frame = (_SafeNorm.apply(residual[..., :3]) + _SafeNorm.apply(residual[..., 3:])) / mass
    return per_frame.mean() if reduction == "mean" else per_frame
