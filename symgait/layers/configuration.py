"""Configurations of a model with quaternion joints in torch: :func:`integrate` (q ⊕ v dt, Pinocchio's
``integrate``) with gradients, for parametrizing a configuration by a tangent vector (e.g. an
initial orientation to optimize, q0 = q ⊕ δ) in front of :class:`~symgait.layers.ForwardDynamics`.

The numbers are :mod:`symgait.runtime.manifold`'s (numpy, on the CPU). Backward: the gradient with
respect to the output q goes to the tangent space at the output (Jᵀ, J = dq/dδ), through the
Jacobians of ``integrate`` (``dIntegrate``) to v and to the tangent space at the input q, and back to
the input q's entries as the gradient with no component off the manifold (J (JᵀJ)⁻¹ λ).
"""
from __future__ import annotations

import torch
from torch.autograd.function import once_differentiable

from ..errors import InputError
from ..runtime.manifold import ConfigurationSpace
from ._common import check_tensor


class _IntegrateFn(torch.autograd.Function):
    @staticmethod
    def forward(ctx, q, v, space, dt):
        qn, vn = q.detach().cpu().numpy(), v.detach().cpu().numpy()
        ctx.save_for_backward(q, v)
        ctx.space, ctx.dt = space, dt
        return torch.from_numpy(space.integrate(qn, vn, dt)).to(q)

    @staticmethod
    @once_differentiable
    def backward(ctx, g):
        q, v = ctx.saved_tensors
        space, dt = ctx.space, ctx.dt
        qn, vn, gn = q.detach().cpu().numpy(), v.detach().cpu().numpy(), g.detach().cpu().numpy()
        gt = space.gradient_to_tangent(space.integrate(qn, vn, dt), gn)
        Jq, Jv = space.integrate_jacobians(qn, vn, dt)
        gq = space.gradient_from_tangent(qn, (Jq.swapaxes(-1, -2) @ gt[..., None])[..., 0])
        gv = (Jv.swapaxes(-1, -2) @ gt[..., None])[..., 0]
        return torch.from_numpy(gq).to(q), torch.from_numpy(gv).to(v), None, None


def integrate(model, q, v, dt: float = 1.0):
    """q ⊕ v dt of ``model`` (a Model, a generated model or kernels) for torch tensors q (B, nq) and v
    (B, nv) on the CPU, differentiable in q and v (see the module docstring)."""
    space = ConfigurationSpace.of(model)
    check_tensor("q", q, ("B", space.nq), f"configurations of the {space.nq} entries of q")
    check_tensor("v", v, (q.shape[0], space.nv), f"tangent vectors of the {space.nv} velocity entries", ("q", q))
    if q.device.type != "cpu":
        raise InputError(f"q is on {q.device}; integrate runs on the CPU (pass q.cpu(), v.cpu())")
    return _IntegrateFn.apply(q, v, space, float(dt))
