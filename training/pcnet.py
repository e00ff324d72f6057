"""Physics-consistent prediction (``pcnet``): the motion sets the total external force, the network
only distributes it over the contacts.

Per frame, the inverse layer gives the root residual of the observed motion with zero contact
wrenches, ``r0 = ID_root(q, qd, qdd, 0, p)`` (on the sequence's parameters, the CPU kernels, the
trainer's ``loss.layer_dtype``). Its force part ``F = r0[:3]`` is the total external force the
motion needs. The network outputs, per contact c (6 channels, heading frame):

* a share logit ``a_c``: ``s = softmax_c(a)`` (non-negative, ``sum_c s_c = 1``);
* an internal horizontal force ``d_c = D_SCALE (d_x, 0, d_z)`` (N/kg): two loaded feet may push
  against each other (braking in front, propulsion behind) without changing the total;
* the centre of pressure ``cop_c``: horizontal offset ``COP_BOUND tanh(c_x, c_z)`` (m) from the
  contact body's origin ``o_c``, on the ground ``y = GROUND`` (:mod:`training.metrics`) (the vertical offset is ``-o_c,y``);
* the free moment ``T_c = T_SCALE t_c`` (N m/kg) about the vertical.

Wrenches per kg (world frame, moment about the contact body's origin, the model's convention):
``F_c = s_c F + s_c (d_c - sum_k s_k d_k)``, ``M_c = (cop_c - o_c) x F_c + T_c e_y``. Hence
``sum_c F_c = F`` exactly (the total vertical force over a cycle is body weight up to the
kinematics' own error) and a contact with ``s_c -> 0`` carries nothing. The total root *moment* of
the motion is not imposed: the part that the centres of pressure and free moments cannot explain
is left to the kinematics' error (it is what FI-net's inverse loss would penalise). Joint torques
follow from inverse dynamics with the predicted wrenches, so torques, wrenches and motion are
consistent by construction (the network predicts no torques). For a planar root the forces
keep only the components along its degrees of freedom (x, y).
"""
from __future__ import annotations

import numpy as np
import torch

from symgait.layers import InverseDynamics
from symgait.model.joints import PLANAR

from .metrics import GROUND
import symgait

__all__ = ["PhysicsConsistent", "distribute", "root_dof_mask", "COP_BOUND", "D_SCALE", "T_SCALE",
           "N_CHANNELS"]

COP_BOUND = 0.3     # m, |horizontal COP offset| from the contact body's origin, per axis
D_SCALE = 2.0       # N/kg per unit output: internal horizontal force
T_SCALE = 0.1       # N m/kg per unit output: free moment
N_CHANNELS = 6      # network outputs per contact


def root_dof_mask(model) -> np.ndarray:
    """(6,) bool: the root residual components along the root's degrees of freedom (all six for
    a floating root; force x, y and moment z for the planar root of the built-in models)."""
    b = model.spec.bodies[0]
    if b.joint_type == PLANAR:
        axes = [np.asarray(a, float) for a in b.joint_axes]
        return np.r_[np.abs(axes[0]) + np.abs(axes[1]), np.abs(axes[2])] > 0.5
    return np.ones(6, bool)


def distribute(raw, force, origin, to_world, force_mask=None):
    """The construction of the module docstring (differentiable in ``raw`` and ``force``).

    ``raw`` (..., nc, 6) network outputs [a, d_x, d_z, c_x, c_z, t]; ``force`` (..., 3) total
    external force per kg (world); ``origin`` (..., nc, 3) contact body origins (world, m);
    ``to_world``: maps heading-frame 6-vectors (..., nc, 6) to the world frame; ``force_mask``
    (3,): force components kept (None: all). Returns wrenches per kg (..., nc, 6)."""
    s = torch.softmax(raw[..., 0], -1)[..., None]                      # (..., nc, 1)
    z = torch.zeros_like(raw[..., 1])
    d_h = D_SCALE * torch.stack([raw[..., 1], z, raw[..., 2]], -1)
    c = COP_BOUND * torch.tanh(raw[..., 3:5])
    c_h = torch.stack([c[..., 0], z, c[..., 1]], -1)
    dc = to_world(torch.cat([d_h, c_h], -1))
    d, r = dc[..., :3], dc[..., 3:]
    r = torch.cat([r[..., :1], (GROUND - origin[..., 1:2]).to(r), r[..., 2:]], -1)
    f = s * force[..., None, :] + s * (d - (s * d).sum(-2, keepdim=True))
    if force_mask is not None:
        f = f * force_mask.to(f)
    ey = torch.zeros(3, dtype=f.dtype, device=f.device)
    ey[1] = 1.0
    m = torch.linalg.cross(r, f) + (T_SCALE * raw[..., 5:6]) * ey
    return torch.cat([f, m], -1)


class PhysicsConsistent:
    """``pcnet`` outputs of a batch: network raw outputs -> world wrenches and joint torques per kg."""

    def __init__(self, model, featurizer, dtype=torch.float64, kernels=None):
        self.model, self.featurizer = model, featurizer
        self.kernels = kernels or symgait.kernels(model)
        self.inv = InverseDynamics(self.kernels, backend="cpu")
        self.dtype = dtype
        self.force_mask = torch.as_tensor(root_dof_mask(model)[:3], dtype=dtype)
        self.n_out = N_CHANNELS * model.n_contacts

    def motion_terms(self, batch):
        """(q, qd, qdd, p, total force per kg (B, T, 3), contact origins (B, T, nc, 3)) of a batch,
        in the layer dtype on the CPU; the motion is data (no gradient)."""
        q, qd, qdd, p = (batch[k].to(device="cpu", dtype=self.dtype) for k in ("q", "qd", "qdd", "p"))
        m = batch["mass"].to(device="cpu", dtype=self.dtype)
        with torch.no_grad():
            r0 = self.inv(q, qd, qdd, None, p)
        B, T, n = q.shape
        pf = p[:, None, :].expand(B, T, p.shape[-1]).reshape(B * T, -1)
        o = self.kernels.contact_points(q.reshape(B * T, n).numpy(), pf.numpy())
        origin = torch.as_tensor(np.asarray(o), dtype=self.dtype).reshape(B, T, -1, 3)
        return q, qd, qdd, p, r0[..., :3] * self.force_mask / m[:, None, None], origin

    def __call__(self, batch, raw, psi):
        """``raw`` (B, T, nc*6) network outputs, ``psi`` (B, T) heading -> (w_per_kg (B, T, nc, 6)
        world frame, jt_per_kg (B, T, n_act)) on ``raw``'s device and dtype."""
        dev, odt = raw.device, raw.dtype
        q, qd, qdd, p, force, origin = self.motion_terms(batch)
        x = raw.to(device="cpu", dtype=self.dtype).reshape(*raw.shape[:-1], -1, N_CHANNELS)
        ps = psi.to(device="cpu", dtype=self.dtype)
        w = distribute(x, force, origin, lambda v: self.featurizer.to_world(v, ps), self.force_mask)
        m = batch["mass"].to(device="cpu", dtype=self.dtype)
        jt = self.inv.joint_torques(q, qd, qdd, w * m[:, None, None, None], p) / m[:, None, None]
        return w.to(device=dev, dtype=odt), jt.to(device=dev, dtype=odt)
