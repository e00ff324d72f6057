"""Model coordinates from an OpenSim coordinates file (.mot/.sto): degrees to radians, names matched."""
from __future__ import annotations

from typing import Tuple, List

import numpy as np
from ..io import read_mot
from ..model.coordinates import rotational_coordinates

def coordinates_from_mot(model, path, *, time_range=None) -> Tuple[np.ndarray, np.ndarray, List[str]]:
    """Direct mapping of an OpenSim coordinates ``.mot`` onto ``model`` (gait3d, planar or any
    model with OpenSim coordinate names): returns ``(q (T, nq), time (T,), missing)`` with
    rotations in radians (converted when the header says ``inDegrees=yes``) and translations in
    metres; model coordinates the file lacks are 0 and listed in ``missing``; file columns the
    model lacks are ignored."""
    t = read_mot(path)
    if time_range is not None:
        t = t.select(*time_range)
    rot = set(rotational_coordinates(model))
    t = t.to_radians([n for n in t.names if n in rot])
    q = np.zeros((t.time.size, model.nq))
    missing = []
    for i, c in enumerate(model.coordinates):
        if c in t.names:
            q[:, i] = t.column(c)
        else:
            missing.append(c)
    return q, t.time.copy(), missing
