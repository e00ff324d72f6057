"""Forward-kinematics layer: world positions (and velocities) of a model's named points, differentiably.

Positions come from the generated ``points`` kernel, Jacobians J = d point / d q from
``point_jacobians``; the backward pass is the exact vector-Jacobian product Jᵀ g. With velocities
v = J(q) q̇ the gradient for q needs d(J q̇)/dq, which follows exactly from the structure of a
kinematic tree: every velocity entry j moves a point x below it by the world twist of its joint,
J_j = a_j × (x - o_j) (a rotation about the world axis a_j through o_j) or a_j (a translation). A
change of entry k carries the twists of the entries it moves rigidly (those at or below k) and the
point, so for entries k, j on the point's path to the root

    d J_j / d q_k = a_k × J_j   (k rotates, j at or below k; 0 for k a translation)
    d J_k / d q_j = a_j × J_k   (j rotates, j above k)

(Featherstone, Rigid Body Dynamics Algorithms, 2008, sec. 4.2; for twists [ξ_k, ξ_j] with the Jacobi
identity). Hence

    d v / d q_k = [k rotates] a_k × Σ_{j at or below k} J_j q̇_j  +  ω_{above k} × J_k,

ω_{above k} = Σ_{j rotating above k} a_j q̇_j, the angular velocity of k's parent frame. The world
axes are the elementary frames' fixed rotations and joint rotations composed along the tree (the
model's frames, numbers only); no finite differences.

Models with quaternion joints (a free-flyer root, spherical joints; Pinocchio's conventions,
:mod:`symgait.runtime.manifold`): q has nq entries, the velocities v (body frame) and the kernels'
Jacobian columns nv, one per tangent direction q ⊕ δ e_k. Such a joint's three rotations (a free
flyer's six entries) act in the joint's own, moving frame, so each is "at or below" every other
entry of the joint (the tree relation above, with the joint's block filled): rotating about one
body axis turns the others with it, and a free flyer's translation moves the pivot of its
rotations along with the point. The layer evaluates the kernels at q̂, q with each quaternion
divided by its norm (the kernels compute the polynomial R(quat) of Eigen's ``toRotationMatrix``,
a rotation only for a unit quaternion), so the positions depend on a quaternion only through the
rotation R(quat / |quat|). Its gradient with respect to q's entries is the gradient of that
function: the tangent gradient Jᵀ g taken back to q̂'s entries with no component off the manifold
(``ConfigurationSpace.gradient_from_tangent``, J (JᵀJ)⁻¹), then through the normalization (a
factor 1 / |quat|, nothing along the quaternion itself). So ``torch.autograd.gradcheck`` passes when
q's entries are perturbed freely, and a configuration parametrized by a tangent vector,
``symgait.layers.integrate(model, q0, delta)``, gets the tangent gradient exactly.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.autograd.function import once_differentiable

from ..errors import InputError
from ..runtime.manifold import ConfigurationSpace, quat_matrix
from ._backend import TORCH, check_backend, cuda_kernels, resolve_backend
from ._common import check_all_finite, check_tensor, params_tensor, resolve_kernels

MIN_QUATERNION_NORM = 1e-6  # a quaternion of q shorter than this has no meaningful direction


class _TreeAxes:
    """World axes of the velocity entries of a model at a batch of q, and the tree of the entries
    (``below[k, j]``: moving entry k carries entry j's twist: j is k, a descendant of k, or an entry
    of the same quaternion joint; ``above[k, j]``: j is an entry of a strict ancestor joint)."""

    def __init__(self, spec):
        n = spec.nv
        par = spec.coordinate_parents()
        below = np.zeros((n, n))
        for j in range(n):
            k = j
            while k >= 0:
                below[k, j] = 1.0
                k = par[k]
        for f in spec.frames:  # a quaternion joint's entries act in its moving frame: each carries all
            if f.motion.quaternion:
                below[f.velocity: f.velocity + f.motion.nv, f.velocity: f.velocity + f.motion.nv] = 1.0
        self.below = below
        self.above = below.T * (1.0 - below)
        # per frame: parent, fixed rotation, (entry, axis, rotates) of its velocity entries, how it rotates
        self.frames = []
        self.revolute = np.zeros(n)
        for f in spec.frames:
            dofs = [(f.velocity + i, np.asarray(s, float), bool(r)) for i, (s, r) in enumerate(f.motion.dofs(f.axis))]
            for v, _, r in dofs:
                self.revolute[v] = float(r)
            quat = f.coordinate + f.motion.position_entries if f.motion.quaternion else None
            self.frames.append((f.parent, np.asarray(f.rotation, float), dofs, bool(f.motion.rotates),
                                f.coordinate, np.asarray(f.axis, float), quat))
        self.n = n
        self._const = {}

    def const(self, name, like):
        key = (name, like.dtype, like.device)
        if key not in self._const:
            self._const[key] = torch.as_tensor(getattr(self, name), dtype=like.dtype, device=like.device)
        return self._const[key]

    def world_axes(self, q):
        """(B, 3, nv): world axis of each velocity entry (rotations composed along the tree); q (B, nq)
        with unit quaternions."""
        B = q.shape[0]
        eye = torch.eye(3, dtype=q.dtype, device=q.device).expand(B, 3, 3)
        R, axes = [], q.new_zeros(B, 3, self.n)
        for parent, rot, dofs, rotates, coord, s, quat in self.frames:
            Rp = eye if parent < 0 else R[parent]
            Ri = Rp @ torch.as_tensor(rot, dtype=q.dtype, device=q.device)
            if quat is not None:  # the joint's entries are along its moving frame's axes
                Ri = Ri @ torch.from_numpy(quat_matrix(q[:, quat: quat + 4].detach().cpu().numpy())).to(q)
            for v, axis, _ in dofs:
                axes[:, :, v] = Ri @ torch.as_tensor(axis, dtype=q.dtype, device=q.device)
            if rotates:
                s = torch.as_tensor(s, dtype=q.dtype, device=q.device)
                c, sn = torch.cos(q[:, coord]), torch.sin(q[:, coord])
                K = q.new_zeros(3, 3)
                K[0, 1], K[0, 2], K[1, 0], K[1, 2], K[2, 0], K[2, 1] = -s[2], s[1], s[2], -s[0], -s[1], s[0]
                rotation = (torch.eye(3, dtype=q.dtype, device=q.device) + sn[:, None, None] * K
                            + (1 - c)[:, None, None] * (K @ K))
                Ri = Ri @ rotation
            R.append(Ri)
        return axes

    def velocity_q_vjp(self, q, qd, J, g):
        """gᵀ d(J q̇)/dq (tangent directions): J (B, P, 3, nv), g (B, P, 3) -> (B, nv)."""
        a = self.world_axes(q)                                          # (B, 3, n)
        JQ = J * qd[:, None, None, :]                                   # J_j q̇_j
        v_sub = JQ @ self.const("below", q).T                           # (B, P, 3, n): Σ_{j ⪰ k} J_j q̇_j
        om = (a * (qd * self.const("revolute", q))[:, None, :]) @ self.const("above", q).T  # (B, 3, n)
        rev = self.const("revolute", q)
        t1 = torch.linalg.cross(a[:, None].expand_as(v_sub), v_sub, dim=2) * rev
        t2 = torch.linalg.cross(om[:, None].expand_as(J), J, dim=2)
        return torch.einsum("bpc,bpck->bk", g, t1 + t2)


class _FkFn(torch.autograd.Function):
    """Positions (and velocities) of the selected points; backward by the point Jacobians. With a
    configuration space (a model with quaternion joints) q has unit quaternions and q's gradient is
    taken from the tangent directions back to q's entries (module docstring)."""

    @staticmethod
    def forward(q, qd, p, kern, idx, tree, space):
        q, p = q.detach(), p.detach()
        x = kern.points(q, p)[:, idx]
        if qd is None:
            return x
        J = kern.point_jacobians(q, p)[:, idx]
        return x, (J @ qd.detach()[:, None, :, None]).squeeze(-1)

    @staticmethod
    def setup_context(ctx, inputs, output):
        q, qd, p, kern, idx, tree, space = inputs
        ctx.save_for_backward(q.detach(), qd.detach() if qd is not None else q.new_zeros(0), p.detach())
        ctx.kern, ctx.idx, ctx.tree, ctx.space, ctx.has_qd = kern, idx, tree, space, qd is not None
        ctx.set_materialize_grads(False)

    @staticmethod
    @once_differentiable
    def backward(ctx, gx, gv=None):
        q, qd, p = ctx.saved_tensors
        J = ctx.kern.point_jacobians(q, p)[:, ctx.idx]                    # (B, P, 3, nv)
        grad_q = J.new_zeros(J.shape[0], J.shape[-1]) if gx is None else torch.einsum("bpc,bpck->bk", gx, J)
        grad_qd = None
        if ctx.has_qd and gv is not None:
            if ctx.needs_input_grad[1]:
                grad_qd = torch.einsum("bpc,bpck->bk", gv, J)
            if ctx.needs_input_grad[0]:
                grad_q = grad_q + ctx.tree.velocity_q_vjp(q, qd, J, gv)
        if not ctx.needs_input_grad[0]:
            grad_q = None
        elif ctx.space is not None:  # tangent directions (nv) -> q's entries (nq), nothing off the manifold
            grad_q = torch.from_numpy(ctx.space.gradient_from_tangent(q.numpy(), grad_q.numpy())).to(q)
        return grad_q, grad_qd, None, None, None, None, None


def _normalized(q, starts):
    """q (B, nq) with the quaternions at ``starts`` divided by their norms (differentiably)."""
    parts, last = [], 0
    for a in starts:
        quat = q[:, a: a + 4]
        parts += [q[:, last: a], quat / torch.linalg.vector_norm(quat, dim=-1, keepdim=True)]
        last = a + 4
    parts.append(q[:, last:])
    return torch.cat(parts, 1)


class ForwardKinematics(nn.Module):
    """World positions of a model's named points, and optionally their velocities.

    ``forward(q, qd=None, p=None)``: q (B, nq) -> positions (B, n_points, 3); with qd (B, nv) ->
    (positions, velocities), velocities = J(q) q̇ (B, n_points, 3). ``points``: names from
    ``model.points`` (default: all of them, in that order). Gradients reach q (and qd): exact, by the
    point Jacobians and, for the velocities' dependence on q, by the tree's second-order terms (module
    docstring). p (n_p,) shared or (B, n_p) per sample (None: the model's defaults; numpy accepted)
    carries no gradient: there is no kernel for d points / d p, and a p that requires grad raises.

    A model with quaternion joints (free-flyer root, spherical joints): q (B, nq), qd = v (B, nv) the
    body-frame velocities; each quaternion of q is used divided by its norm (a norm below
    :data:`MIN_QUATERNION_NORM` raises), and q's gradient is that of this function with respect to q's
    entries (module docstring). CPU backend only (a CUDA tensor raises :class:`~symgait.InputError`).

    :meth:`jacobian` (B, n_points, 3, nv): d point / d q of the selected points along the tangent
    directions (nv = nq without quaternion joints; no graph).

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
        self._space = ConfigurationSpace.of(self.model) if self.model.quaternion_joints else None
        # (joint name, index of qx) of each quaternion of q
        self._quats = [(name, qi + (3 if kind == "free_flyer" else 0)) for name, kind, qi, _ in
                       self.model.quaternion_joints]
        self._cuda_kernels = None
        self._p_cache = {}

    def extra_repr(self) -> str:
        return f"model={self.model.name!r}, points={len(self.points)}, backend={self.backend!r}"

    def _kernels_for(self, q):
        if resolve_backend(self.backend, "q", q) == "cpu":
            return self.kernels, self._idx
        if self._space is not None:
            raise InputError(f"model {self.model.name!r} has quaternion joints: ForwardKinematics takes them on "
                             f"the CPU only; build it with backend='cpu' and pass CPU tensors")
        if self._cuda_kernels is None:
            self._cuda_kernels = cuda_kernels(self.kernels)
        return self._cuda_kernels, TORCH.index(self._idx_np, q)

    def check_inputs(self, q, qd=None, p=None):
        """Validate (raises :class:`symgait.InputError`); returns (q, qd, p)."""
        m = self.model
        check_tensor("q", q, ("B", m.nq), f"coordinates {m.coordinates} for B samples")
        backend = resolve_backend(self.backend, "q", q)
        B = q.shape[0]
        if B == 0:
            raise InputError("q has B = 0 samples; pass at least one")
        if qd is not None:
            check_tensor("qd", qd, (B, m.nv), f"like q: (B, n) for the {m.nq} coordinates" if m.nv == m.nq else
                         f"(B, nv): the {m.nv} body-frame velocity entries {m.velocities}", ("q", q))
        if isinstance(p, torch.Tensor) and p.requires_grad:
            raise InputError("p requires grad, but ForwardKinematics gives no gradient for the parameters (no "
                             "kernel for d points / d p); pass p.detach()")
        p = params_tensor(m, p, "q", q, B, self._p_cache)
        named = [("q", q)] + ([("qd", qd)] if qd is not None else [])
        check_all_finite(named, one_sync=backend == "cuda")
        self._check_quaternions(q)
        return q, qd, p

    def _check_quaternions(self, q):
        for name, a in self._quats:
            norm = torch.linalg.vector_norm(q.detach()[:, a: a + 4], dim=-1)
            bad = torch.nonzero(~(norm >= MIN_QUATERNION_NORM))
            if len(bad):
                b = int(bad[0, 0])
                raise InputError(f"q: the quaternion of joint {name!r} (q[:, {a}:{a + 4}] = (qx, qy, qz, qw)) has "
                                 f"norm {float(norm[b]):.3g} at sample {b}: it has no direction; set it to a unit "
                                 f"quaternion, e.g. (0, 0, 0, 1) at rest (symgait.runtime.manifold.neutral(model))")

    def _unit(self, q):
        return _normalized(q, [a for _, a in self._quats]) if self._quats else q

    def forward(self, q, qd=None, p=None):
        q, qd, p = self.check_inputs(q, qd, p)
        kern, idx = self._kernels_for(q)
        return _FkFn.apply(self._unit(q), qd, p, kern, idx, self._tree, self._space)

    def jacobian(self, q, p=None):
        """(B, n_points, 3, nv): d point / d q of the selected points at q (B, nq) along the tangent
        directions (q's entries for a model without quaternion joints); no graph."""
        q, _, p = self.check_inputs(q.detach(), None, p)
        kern, idx = self._kernels_for(q)
        return kern.point_jacobians(self._unit(q), p)[:, idx]
