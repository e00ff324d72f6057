"""The interface of an elementary joint motion."""
from __future__ import annotations

import numpy as np

AXES = np.eye(3)  # the frame's unit axes x, y, z (the motion subspaces of the quaternion joints)


class Motion:
    """What one elementary frame does with its coordinates (axis ``s`` in the frame's coordinates).

    ``rotates``: the frame turns by q about s (angular velocity s q̇); ``translates``: its origin moves
    by s q along s (linear velocity s q̇); neither: fixed, no coordinate, or a quaternion joint
    (``quaternion``: :class:`~symgait.model.motions.Spherical`, :class:`~symgait.model.motions.FreeFlyer`).
    ``nq`` and ``nv`` are the joint's numbers of configuration and velocity entries (1 and 1 for a
    rotation or translation, 0 and 0 when fixed, 4 and 3 for a spherical joint, 7 and 6 for a
    free flyer). ``urdf_type`` is the URDF joint type it exports as."""
    name = ""
    rotates = False
    translates = False
    quaternion = False
    position_entries = 0  # a quaternion joint's q: this many position entries, then (qx, qy, qz, qw)
    nq = 1
    nv = 1
    urdf_type = ""
    # a quaternion joint's entries are named <joint><suffix> (q, then v); a scalar coordinate is its own name
    coordinate_suffixes = ("",)
    velocity_suffixes = ("",)

    def names(self, joint: str) -> tuple[list, list]:
        """(configuration names, velocity names) of a joint named ``joint`` with this motion."""
        if not self.has_coordinate:
            return [], []
        return [joint + s for s in self.coordinate_suffixes], [joint + s for s in self.velocity_suffixes]

    @property
    def has_coordinate(self) -> bool:
        return self.nq > 0

    def dofs(self, axis) -> list:
        """The velocity directions of the joint in order, each ``(unit vector in the frame's coordinates,
        rotates)``: the motion subspace, one column per velocity entry."""
        if self.rotates or self.translates:
            return [(np.asarray(axis, dtype=float), bool(self.rotates))]
        return []

    def mirror_sign(self, d: float) -> float:
        """Sign relating a coordinate to its mirror partner's under a reflection S, given
        d = s'·(S s) = ±1 (how the reflected axis lines up with the partner's axis s'): a
        translation (a vector) maps with S, so the sign is d; a rotation (an axial vector) with −S,
        so it is −d."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<{self.name} motion>"
