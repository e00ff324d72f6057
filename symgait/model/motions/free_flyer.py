"""A free-flying root as Pinocchio's JointModelFreeFlyer.

q = (x, y, z, qx, qy, qz, qw): the position of the frame's origin and the unit quaternion of its
rotation, both relative to its placement in the parent (the world for the root); v = (v, ω): the
linear velocity of the origin and the angular velocity, both in the frame's own (local)
coordinates; the generalized force is the wrench (force, moment about the origin) in those
coordinates. A configuration perturbed in the tangent space is M exp(δ) (SE(3)): to first order the
position moves by R δ_v and R -> R exp([δ_ω]×)."""
from __future__ import annotations

from .base import AXES, Motion


class FreeFlyer(Motion):
    name = "free_flyer"
    quaternion = True
    nq, nv = 7, 6
    position_entries = 3  # q: position (3), then the quaternion
    urdf_type = "floating"
    coordinate_suffixes = ("_tx", "_ty", "_tz", "_qx", "_qy", "_qz", "_qw")
    velocity_suffixes = ("_vx", "_vy", "_vz", "_wx", "_wy", "_wz")

    def dofs(self, axis) -> list:
        return [(AXES[k], False) for k in range(3)] + [(AXES[k], True) for k in range(3)]

    def mirror_sign(self, d: float) -> float:
        raise ValueError("a free flyer has no scalar coordinate to mirror")
