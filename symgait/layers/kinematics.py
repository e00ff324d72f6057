"""Forward-kinematics layer: world positions (and velocities) of a model's named points, differentiably.

Positions come from the generated ``points`` kernel, Jacobians J = d point / d q from
``point_jacobians``; the backward pass is the exact vector-Jacobian product Jᵀ g. With velocities
v = J(q) q̇ the gradient for q needs d(J q̇)/dq, which follows exactly from the structure of a
kinematic tree of elementary joints: for coordinates k, j on the point's path to the root,

    d J_j / d q_k = a_k × J_j   (k revolute, j at or below k; 0 for k prismatic)
    d J_k / d q_j = a_j × J_k   (j revolute above k)

with a_k the world axis of coordinate k (Featherstone, Rigid Body Dynamics Algorithms, 2008, sec.
4.2; the rotation of the subtree below k carries J_j with it). Hence

    d v / d q_k = [k revolute] a_k × Σ_{j at or below k} J_j q̇_j  +  ω_{above k} × J_k,

ω_{above k} = Σ_{j revolute above k} a_j q̇_j, the angular velocity of k's parent frame. The world
axes are the elementary frames' fixed rotations and joint rotations composed along the tree (the
model's frames, numbers only); no finite differences.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.autograd.function import once_differentiable

from ..errors import InputError
from ._backend import TORCH, check_backend, cuda_kernels, resolve_backend
from ._common import check_all_finite, check_tensor, params_tensor, resolve_kernels


class _TreeAxes:
    """World axes of the revolute coordinates of a model at a batch of q, and the coordinate tree
    (``below[k, j]``: coordinate j is k or a descendant of k; ``above[k, j]``: j is a strict ancestor)."""

    def __init__(self, spec):
        coordinate_frames = spec.coordinate_frames()  # refuses quaternion joints (one angle per coordinate here)
        n = spec.nq
        par = spec.coordinate_parents()
        self.below = np.zeros((n, n))
        for j in range(n):
            k = j
            while k >= 0:
                self.below[k, j] = 1.0
                k = par[k]
        self.above = (self.below.T - np.eye(n))
        self.frames = [(f.parent, np.asarray(f.rotation, float), np.asarray(f.axis, float), f.coordinate,
                        bool(f.motion.rotates)) for f in spec.frames]
        self.revolute = np.array([bool(spec.frames[i].motion.rotates) for i in coordinate_frames], float)
        self.n = n
        self._const = {}

    def const(self, name, like):
        key = (name, like.dtype, like.device)
        if key not in self._const:
            self._const[key] = torch.as_tensor(getattr(self, name), dtype=like.dtype, device=like.device)
        return self._const[key]

    def world_axes(self, q):
        """(B, 3, n): world axis of each coordinate's frame (rotations composed along the tree)."""
        B = q.shape[0]
        eye = torch.eye(3, dtype=q.dtype, device=q.device).expand(B, 3, 3)
        R, axes = [], q.new_zeros(B, 3, self.n)
        for parent, rot, axis, coord, rotates in self.frames:
            Rp = eye if parent < 0 else R[parent]
            Ri = Rp @ torch.as_tensor(rot, dtype=q.dtype, device=q.device)
            s = torch.as_tensor(axis, dtype=q.dtype, device=q.device)
            if coord is not None:
                axes[:, :, coord] = Ri @ s
            if rotates:
                c, sn = torch.cos(q[:, coord]), torch.sin(q[:, coord])
                K = q.new_zeros(3, 3)
                K[0, 1], K[0, 2], K[1, 0], K[1, 2], K[2, 0], K[2, 1] = -s[2], s[1], s[2], -s[0], -s[1], s[0]
                rotation = (torch.eye(3, dtype=q.dtype, device=q.device) + sn[:, None, None] * K
                            + (1 - c)[:, None, None] * (K @ K))
                Ri = Ri @ rotation
            R.append(Ri)
        return axes

    def velocity_q_vjp(self, q, qd, J, g):
        """gᵀ d(J q̇)/dq: J (B, P, 3, n), g (B, P, 3) -> (B, n)."""
        a = self.world_axes(q)                                          # (B, 3, n)
        JQ = J * qd[:, None, None, :]                                   # J_j q̇_j
        v_sub = JQ @ self.const("below", q).T                           # (B, P, 3, n): Σ_{j ⪰ k} J_j q̇_j
        om = (a * (qd * self.const("revolute", q))[:, None, :]) @ self.const("above", q).T  # (B, 3, n)
        rev = self.const("revolute", q)
        t1 = torch.linalg.cross(a[:, None].expand_as(v_sub), v_sub, dim=2) * rev
        t2 = torch.linalg.cross(om[:, None].expand_as(J), J, dim=2)
        return torch.einsum("bpc,bpck->bk", g, t1 + t2)


class _FkFn(torch.autograd.Function):
    """Positions (and velocities) of the selected points; backward by the point Jacobians."""

    @staticmethod
    def forward(q, qd, p, kern, idx, tree):
        q, p = q.detach(), p.detach()
        x = kern.points(q, p)[:, idx]
        if qd is None:
            return x
        J = kern.point_jacobians(q, p)[:, idx]
        return x, (J @ qd.detach()[:, None, :, None]).squeeze(-1)

    @staticmethod
    def setup_context(ctx, inputs, output):
        q, qd, p, kern, idx, tree = inputs
        ctx.save_for_backward(q.detach(), qd.detach() if qd is not None else q.new_zeros(0), p.detach())
        ctx.kern, ctx.idx, ctx.tree, ctx.has_qd = kern, idx, tree, qd is not None
        ctx.set_materialize_grads(False)

    @staticmethod
    @once_differentiable
    def backward(ctx, gx, gv=None):
        q, qd, p = ctx.saved_tensors
        J = ctx.kern.point_jacobians(q, p)[:, ctx.idx]                    # (B, P, 3, n)
        grad_q = q.new_zeros(q.shape) if gx is None else torch.einsum("bpc,bpck->bk", gx, J)
        grad_qd = None
        if ctx.has_qd and gv is not None:
            if ctx.needs_input_grad[1]:
                grad_qd = torch.einsum("bpc,bpck->bk", gv, J)
            if ctx.needs_input_grad[0]:
                grad_q = grad_q + ctx.tree.velocity_q_vjp(q, qd, J, gv)
        return (grad_q if ctx.needs_input_grad[0] else None), grad_qd, None, None, None, None


class ForwardKinematics(nn.Module):
    """World positions of a model's named points, and optionally their velocities.

    ``forward(q, qd=None, p=None)``: q (B, nq) -> positions (B, n_points, 3); with qd (B, nq) ->
    (positions, velocities), velocities = J(q) q̇ (B, n_points, 3). ``points``: names from
    ``model.points`` (default: all of them, in that order). Gradients reach q (and qd): exact, by the
    point Jacobians and, for the velocities' dependence on q, by the tree's second-order terms (module
    docstring). p (n_p,) shared or (B, n_p) per sample (None: the model's defaults; numpy accepted)
    carries no gradient: there is no kernel for d points / d p, and a p that requires grad raises.

    :meth:`jacobian` (B, n_points, 3, nq): d point / d q of the selected points (no graph).

    float32 or float64 tensors on one device; ``backend`` as for
    :class:`~symgait.layers.InverseDynamics` (``"auto"``, ``"cpu"``, ``"cuda"``).
    """

    def __init__(self, model, points=None, generated=None, *, backend: str = "auto"):
        super().__init__()
        self.backend = check_backend(backend)
        self.model, self.kernels = resolve_kernels(model, generated)
        names = self.model.points
        if not names:
            raise InputError(f"model {self.model.name!r} has no named points; add 'points:' to its model file")
        if points is None:
            points = names
        if isinstance(points, str) or not all(isinstance(s, str) for s in points):
            raise InputError(f"points must be a list of point names of model {self.model.name!r}, got {points!r}")
        unknown = [s for s in points if s not in names]
        if unknown or not points:
            raise InputError(f"points {unknown or points} are not named points of model {self.model.name!r}; "
                             f"it has {names}")
        self.points = list(points)
        self._idx_np = np.array([names.index(s) for s in self.points], dtype=np.intp)
        self._idx = torch.as_tensor(self._idx_np, dtype=torch.long)
        self._tree = _TreeAxes(self.model.spec)
        self._cuda_kernels = None
        self._p_cache = {}

    def extra_repr(self) -> str:
        return f"model={self.model.name!r}, points={len(self.points)}, backend={self.backend!r}"

    def _kernels_for(self, q):
        if resolve_backend(self.backend, "q", q) == "cpu":
            return self.kernels, self._idx
        if self._cuda_kernels is None:
            self._cuda_kernels = cuda_kernels(self.kernels)
        return self._cuda_kernels, TORCH.index(self._idx_np, q)

    def check_inputs(self, q, qd=None, p=None):
        """Validate (raises :class:`symgait.InputError`); returns (q, qd, p)."""
        m = self.model
        n = m.nq
        check_tensor("q", q, ("B", n), f"coordinates {m.coordinates} for B samples")
        backend = resolve_backend(self.backend, "q", q)
        B = q.shape[0]
        if B == 0:
            raise InputError("q has B = 0 samples; pass at least one")
        if qd is not None:
            check_tensor("qd", qd, (B, n), f"like q: (B, n) for the {n} coordinates", ("q", q))
        if isinstance(p, torch.Tensor) and p.requires_grad:
            raise InputError("p requires grad, but ForwardKinematics gives no gradient for the parameters (no "
                             "kernel for d points / d p); pass p.detach()")
        p = params_tensor(m, p, "q", q, B, self._p_cache)
        named = [("q", q)] + ([("qd", qd)] if qd is not None else [])
        check_all_finite(named, one_sync=backend == "cuda")
        return q, qd, p

    def forward(self, q, qd=None, p=None):
        q, qd, p = self.check_inputs(q, qd, p)
        kern, idx = self._kernels_for(q)
        return _FkFn.apply(q, qd, p, kern, idx, self._tree)

    def jacobian(self, q, p=None):
        """(B, n_points, 3, nq): d point / d q of the selected points at q (B, nq); no graph."""
        q, _, p = self.check_inputs(q.detach(), None, p)
        kern, idx = self._kernels_for(q)
        return kern.point_jacobians(q, p)[:, idx]
