"""No motion: a frame that only places its child (a body welded to its parent)."""
from __future__ import annotations

from .base import Motion


class Fixed(Motion):
    """No coordinate; the frame's placement is constant."""
    name = "fixed"
    urdf_type = "fixed"
    nq = nv = 0

    def mirror_sign(self, d: float) -> float:
        raise ValueError("a fixed frame has no coordinate to mirror")
