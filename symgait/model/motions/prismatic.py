"""Translation along the frame's axis."""
from __future__ import annotations

import numpy as np

from .base import Motion


class Prismatic(Motion):
    """The frame's origin moves by s q (s in the parent's coordinates after the fixed rotation);
    linear velocity s q̇; the generalized force is s·f (force)."""
    name = "prismatic"
    translates = True
    urdf_type = "prismatic"

    def mirror_sign(self, d: float) -> float:
        return float(np.sign(d))
