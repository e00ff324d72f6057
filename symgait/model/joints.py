"""Joint types: how each expands into elementary frames (one per coordinate)."""
from __future__ import annotations

import numpy as np

from ..errors import ModelError

# type -> (number of translations, number of rotations, default axes)
JOINT_TYPES = {
    "floating": (3, 3, ["x", "y", "z", "z", "x", "y"]),
    "planar": (2, 1, ["x", "y", "z"]),
    "ball": (0, 3, ["z", "x", "y"]),
    "universal": (0, 2, ["z", "x"]),
    "hinge": (0, 1, ["z"]),
    "slider": (1, 0, ["x"]),
    "fixed": (0, 0, []),
}
ROOT_ONLY = {"floating", "planar"}

_NAMED_AXES = {"x": (1, 0, 0), "y": (0, 1, 0), "z": (0, 0, 1)}


def parse_axis(value, where: str) -> np.ndarray:
    """'x', '-y', or a 3-list of numbers -> unit 3-vector."""
    if isinstance(value, str):
        v = value.strip().lower()
        sign = -1.0 if v.startswith("-") else 1.0
        v = v.lstrip("+-")
        if v not in _NAMED_AXES:
            raise ModelError(f"{where}: axis {value!r} is not one of x, y, z, -x, -y, -z or [ax, ay, az]")
        return sign * np.array(_NAMED_AXES[v], dtype=float)
    try:
        a = np.array([float(x) for x in value], dtype=float)
    except (TypeError, ValueError):
        raise ModelError(f"{where}: axis {value!r} must be x, y, z (optionally signed) or three numbers") from None
    if a.shape != (3,) or not np.all(np.isfinite(a)) or np.linalg.norm(a) < 1e-12:
        raise ModelError(f"{where}: axis {value!r} must be three finite numbers, not all zero")
    return a / np.linalg.norm(a)


def euler_xyz_deg(angles, where: str) -> np.ndarray:
    """Body-fixed X-Y-Z Euler angles in degrees -> rotation matrix (parent <- child)."""
    try:
        a = np.radians([float(x) for x in angles])
    except (TypeError, ValueError):
        raise ModelError(f"{where}: orientation must be three numbers (degrees), got {angles!r}") from None
    if a.shape != (3,):
        raise ModelError(f"{where}: orientation must be three numbers (degrees), got {angles!r}")
    r = np.eye(3)
    for k, ang in enumerate(a):
        r = r @ axis_rotation(np.eye(3)[k], ang)
    r[np.abs(r) < 1e-15] = 0.0
    return r


def axis_rotation(axis: np.ndarray, angle: float) -> np.ndarray:
    """Rodrigues' formula (numeric)."""
    k = np.asarray(axis, dtype=float)
    kx = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    return np.eye(3) + np.sin(angle) * kx + (1 - np.cos(angle)) * (kx @ kx)
