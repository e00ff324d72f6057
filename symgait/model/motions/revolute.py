"""Rotation about the frame's axis."""
from __future__ import annotations

import numpy as np

from .base import Motion


class Revolute(Motion):
    """The frame turns by q about its axis s: E(q) = rotation(s, q) after the fixed rotation; angular
    velocity s q̇; the generalized force is s·n (moment)."""
    name = "revolute"
    rotates = True
    urdf_type = "revolute"

    def mirror_sign(self, d: float) -> float:
        return -float(np.sign(d))
