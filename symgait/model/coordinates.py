"""Which coordinates of a model are rotations."""
from __future__ import annotations

from typing import List

def rotational_coordinates(model) -> List[str]:
    """Coordinates whose elementary frame is a rotation (kind 'R')."""
    fr = model.spec.coordinate_frames()
    return [c for c, f in zip(model.coordinates, fr) if model.spec.frames[f].motion.rotates]
