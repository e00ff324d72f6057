"""The interface of an elementary joint motion."""
from __future__ import annotations


class Motion:
    """What one elementary frame does with its coordinate q (axis ``s`` in the frame's coordinates).

    ``rotates``: the frame turns by q about s (angular velocity s q̇); ``translates``: its origin moves
    by s q along s (linear velocity s q̇); neither: fixed, no coordinate. ``urdf_type`` is the URDF
    joint type it exports as."""
    name = ""
    rotates = False
    translates = False
    urdf_type = ""

    @property
    def has_coordinate(self) -> bool:
        return self.rotates or self.translates

    def mirror_sign(self, d: float) -> float:
        """Sign relating a coordinate to its mirror partner's under a reflection S, given
        d = s'·(S s) = ±1 (how the reflected axis lines up with the partner's axis s'): a
        translation (a vector) maps with S, so the sign is d; a rotation (an axial vector) with −S,
        so it is −d."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<{self.name} motion>"
