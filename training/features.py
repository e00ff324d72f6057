"""Network inputs from motion, invariant to the global horizontal position and heading.

Root (the model's first joint, Y up):

* ``floating`` (3 translations, then 3 rotations about the listed axes, body-fixed order, e.g.
  gait3d's pelvis_tilt (z), pelvis_list (x), pelvis_rotation (y)): ``R = R_a1(q_3) R_a2(q_4)
  R_a3(q_5)``. Heading ``psi = atan2(-f_z, f_x)`` with ``f = R e_x`` (the pelvis's forward axis),
  ``H = R_y(psi)``. Features: height ``q_ty``; the up vector in the pelvis frame ``R^T e_y`` (the
  orientation modulo yaw: ``(R_y R)^T e_y = R^T e_y``); the root velocity in the heading frame
  ``H^T v``; the angular velocity in the pelvis frame ``omega_b = R^T sum_i qd_i R_<i a_i``.
  Horizontal translations and yaw are dropped.
* ``planar`` (translations along x, y; rotation about z): features ``q_ty, q_tilt`` and all three
  root velocities (the plane fixes the heading: ``H = I``).
* any other root: every coordinate is a joint.

Then the joint coordinates and velocities as they are (they do not depend on the heading), and for
cFI-net the contact labels (0/1, not normalised). Wrenches are learnt in the heading frame:
:meth:`Featurizer.to_heading` / :meth:`Featurizer.to_world` rotate forces and moments by ``H^T`` /
``H`` (moments about a contact body's origin rotate like forces).

:class:`Normalizer`: per-channel mean and standard deviation of the features (all training
sequences) and of the per-kg targets in the heading frame (labelled sequences), stored in checkpoints.
"""
from __future__ import annotations

from typing import Dict, List

import numpy as np
import torch

from symgait.model.joints import FLOATING, PLANAR, root_joint_type

__all__ = ["Featurizer", "Normalizer", "root_kind"]


def root_kind(model) -> str | None:
    """The model's root joint type (:data:`~symgait.model.joints.FLOATING`,
    :data:`~symgait.model.joints.PLANAR`) or None."""
    return root_joint_type(model.spec)


def _axis_rotation(axis, angle):
    """Rotation matrices (..., 3, 3) about a unit axis (numpy 3-vector) by angle (...)."""
    a = torch.as_tensor(np.asarray(axis, dtype=float), dtype=angle.dtype, device=angle.device)
    K = torch.zeros(3, 3, dtype=angle.dtype, device=angle.device)
    K[0, 1], K[0, 2], K[1, 2] = -a[2], a[1], -a[0]
    K = K - K.T
    s, c = torch.sin(angle)[..., None, None], torch.cos(angle)[..., None, None]
    eye = torch.eye(3, dtype=angle.dtype, device=angle.device)
    return eye + s * K + (1 - c) * (K @ K)


def _rot_y(psi):
    c, s = torch.cos(psi), torch.sin(psi)
    z, o = torch.zeros_like(psi), torch.ones_like(psi)
    return torch.stack([torch.stack([c, z, s], -1), torch.stack([z, o, z], -1),
                        torch.stack([-s, z, c], -1)], -2)


class Featurizer:
    """Root-relative features of a model's (q, qd) (see the module docstring)."""

    def __init__(self, model, contacts: bool = False):
        self.model = model
        self.kind = root_kind(model)
        self.n, self.nc = model.nq, model.n_contacts
        self.use_contacts = bool(contacts)
        b = model.spec.bodies[0]
        if self.kind == FLOATING:
            self.root = list(range(6))
            self.rot_axes = [np.asarray(a, float) for a in b.joint_axes[3:6]]
            names = (["root_ty", "up_x", "up_y", "up_z"], ["root_vfwd", "root_vup", "root_vlat",
                                                            "omega_x", "omega_y", "omega_z"])
        elif self.kind == PLANAR:
            self.root = list(range(3))
            names = (["root_ty", "root_rot"], ["root_vx", "root_vy", "root_vrot"])
        else:
            self.root = []
            names = ([], [])
        joints = [i for i in range(self.n) if i not in self.root]
        self.joints = joints
        c = model.coordinates
        self.names: List[str] = (names[0] + [c[i] for i in joints] + names[1] + [c[i] + "_dot" for i in joints]
                                 + ([f"contact_{x}" for x in model.contacts] if contacts else []))
        self.n_features = len(self.names)
        self.n_contact_channels = self.nc if contacts else 0

    # --- heading ---------------------------------------------------------------------------
    def _R(self, q):
        R = None
        for a, i in zip(self.rot_axes, (3, 4, 5)):
            Ri = _axis_rotation(a, q[..., i])
            R = Ri if R is None else R @ Ri
        return R

    def heading(self, q) -> torch.Tensor:
        """Yaw angle psi (...,) of the root about the vertical (0 for non-floating roots)."""
        if self.kind != FLOATING:
            return torch.zeros(q.shape[:-1], dtype=q.dtype, device=q.device)
        f = self._R(q)[..., :, 0]
        return torch.atan2(-f[..., 2], f[..., 0])

    def to_heading(self, w, psi):
        """World wrenches (..., nc, 6) -> heading frame (force and moment rotated by H^T)."""
        if self.kind != FLOATING:
            return w
        Ht = _rot_y(-psi)[..., None, :, :].to(w.dtype)
        v = w.reshape(*w.shape[:-1], 2, 3)
        return (Ht[..., None, :, :] @ v[..., None]).squeeze(-1).reshape(w.shape)

    def to_world(self, w, psi):
        """Heading-frame wrenches (..., nc, 6) -> world frame (rotated by H)."""
        if self.kind != FLOATING:
            return w
        return self.to_heading(w, -psi)

    # --- features ----------------------------------------------------------------------------
    def __call__(self, q, qd, contact=None) -> torch.Tensor:
        """q, qd (..., n) [, contact (..., nc)] -> features (..., F) in the dtype of q."""
        j = self.joints
        if self.kind == FLOATING:
            R = self._R(q)
            up = R[..., 1, :]                                   # R^T e_y
            psi = self.heading(q)
            v = (_rot_y(-psi) @ qd[..., 0:3, None]).squeeze(-1)  # H^T v
            omega = torch.zeros_like(v)
            Rp = None
            for a, i in zip(self.rot_axes, (3, 4, 5)):
                ax = torch.as_tensor(a, dtype=q.dtype, device=q.device)
                wa = ax.expand_as(v) if Rp is None else (Rp @ ax)
                omega = omega + qd[..., i:i + 1] * wa
                Ri = _axis_rotation(a, q[..., i])
                Rp = Ri if Rp is None else Rp @ Ri
            omega_b = (R.transpose(-1, -2) @ omega[..., None]).squeeze(-1)
            pos = [q[..., 1:2], up, q[..., j]]
            vel = [v, omega_b, qd[..., j]]
        elif self.kind == PLANAR:
            pos = [q[..., 1:3], q[..., j]]
            vel = [qd[..., 0:3], qd[..., j]]
        else:
            pos, vel = [q], [qd]
        parts = pos + vel
        if self.use_contacts:
            if contact is None:
                raise ValueError("this network (cFI-net) needs contact labels as input: pass contact (..., nc)")
            parts.append(contact.to(q.dtype))
        return torch.cat(parts, -1)


class Normalizer:
    """Per-channel statistics: ``x_n = (x - mean) / std`` for features, ``y = mean + std * y_n``
    for the network's per-kg outputs."""

    def __init__(self, f_mean, f_std, y_mean, y_std):
        self.f_mean, self.f_std = (torch.as_tensor(a, dtype=torch.float32) for a in (f_mean, f_std))
        self.y_mean, self.y_std = (torch.as_tensor(a, dtype=torch.float32) for a in (y_mean, y_std))

    @classmethod
    def fit(cls, featurizer: Featurizer, sequences, layout) -> "Normalizer":
        feats, ys = [], []
        for s in sequences:
            q, qd = torch.from_numpy(s.q).double(), torch.from_numpy(s.qd).double()
            c = torch.from_numpy(np.asarray(s.contact, dtype=float))
            feats.append(featurizer(q, qd, c if featurizer.use_contacts else None))
            if s.label_kind != "none":
                psi = featurizer.heading(q)
                wh = featurizer.to_heading(torch.from_numpy(s.w).double(), psi) / s.mass
                jt = torch.from_numpy(s.JT).double() / s.mass
                y = torch.cat([wh.reshape(len(s), -1), jt], -1)
                ys.append(y[torch.isfinite(y).all(-1)])
        F = torch.cat(feats)
        f_mean, f_std = F.mean(0), F.std(0).clamp_min(1e-3)
        nfc = featurizer.n_contact_channels
        if nfc:
            f_mean[-nfc:], f_std[-nfc:] = 0.0, 1.0
        if ys and sum(len(y) for y in ys) > 1:
            Y = torch.cat(ys)
            y_mean, y_std = Y.mean(0), Y.std(0).clamp_min(1e-2)
        else:  # no labels: unit scale (the physics losses set it)
            y_mean, y_std = torch.zeros(layout.n_out), torch.ones(layout.n_out)
        return cls(f_mean, f_std, y_mean, y_std)

    def normalize_features(self, f):
        return (f - self.f_mean.to(f)) / self.f_std.to(f)

    def denormalize_outputs(self, y):
        return y * self.y_std.to(y) + self.y_mean.to(y)

    def normalize_targets(self, y):
        return (y - self.y_mean.to(y)) / self.y_std.to(y)

    def state_dict(self) -> Dict[str, torch.Tensor]:
        return {"f_mean": self.f_mean, "f_std": self.f_std, "y_mean": self.y_mean, "y_std": self.y_std}

    @classmethod
    def from_state_dict(cls, d) -> "Normalizer":
        return cls(d["f_mean"], d["f_std"], d["y_mean"], d["y_std"])
