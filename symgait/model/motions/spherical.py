"""Rotation by a unit quaternion (a ball joint), as Pinocchio's JointModelSpherical.

q = (qx, qy, qz, qw): the rotation of the frame relative to its placement in the parent (the frame
turns by R(q) after the fixed rotation); v = ω, the angular velocity of the frame relative to its
parent, in the frame's own coordinates; the generalized force is the moment n (frame coordinates).
A configuration perturbed in the tangent space is q ⊗ exp(δ/2), i.e. R -> R exp([δ]×)."""
from __future__ import annotations

from .base import AXES, Motion


class Spherical(Motion):
    name = "spherical"
    quaternion = True
    nq, nv = 4, 3
    position_entries = 0  # q: the quaternion
    urdf_type = ""  # URDF has no spherical joint
    coordinate_suffixes = ("_qx", "_qy", "_qz", "_qw")
    velocity_suffixes = ("_wx", "_wy", "_wz")

    def dofs(self, axis) -> list:
        return [(AXES[k], True) for k in range(3)]

    def mirror_sign(self, d: float) -> float:
        raise ValueError("a spherical joint has no scalar coordinate to mirror")

