"""Joint types: how each expands into elementary frames (one per coordinate, each with one
:mod:`elementary motion <symgait.model.motions>`, in the order listed; a quaternion joint,
``spherical`` or ``free_flyer``, is one frame with all its coordinates)."""
from __future__ import annotations

import numpy as np

from ..errors import ModelError
from .motions import FREE_FLYER as _FF, MOTIONS, PRISMATIC, REVOLUTE, SPHERICAL as _SPH

_T, _R = PRISMATIC.name, REVOLUTE.name
FLOATING, PLANAR, FREE_FLYER = "floating", "planar", _FF.name  # the root-only joint types
SPHERICAL = _SPH.name
# type -> (elementary motions in chain order, default axes); "custom": motions and axes from the file
JOINT_TYPES = {
    FLOATING: ((_T,) * 3 + (_R,) * 3, ["x", "y", "z", "z", "x", "y"]),
    PLANAR: ((_T, _T, _R), ["x", "y", "z"]),
    FREE_FLYER: ((FREE_FLYER,), []),
    "ball": ((_R,) * 3, ["z", "x", "y"]),
    SPHERICAL: ((SPHERICAL,), []),
    "universal": ((_R, _R), ["z", "x"]),
    "hinge": ((_R,), ["z"]),
    "slider": ((_T,), ["x"]),
    "fixed": ((), []),
    "custom": (None, None),
}
ROOT_ONLY = {FLOATING, PLANAR, FREE_FLYER}
QUATERNION_TYPES = {FREE_FLYER, SPHERICAL}  # one frame, named by one name, its entries <name>_qx, ...


def root_joint_type(spec) -> str | None:
    """The root body's joint type when it is a root-only joint (:data:`FLOATING`, :data:`PLANAR`,
    :data:`FREE_FLYER`), else None (a fixed or otherwise jointed root)."""
    jt = spec.bodies[0].joint_type
    return jt if jt in ROOT_ONLY else None


def joint_motions(jt: str, given, where: str) -> tuple:
    """The elementary motions of a joint of type ``jt`` (``given``: the file's ``motions`` list, which
    only a ``custom`` joint takes: rotations and translations in any order)."""
    motions, _ = JOINT_TYPES[jt]
    if motions is not None:
        if given is not None:
            raise ModelError(f"{where}: 'motions' is for joints of type 'custom' (a {jt!r} joint has "
                             f"{list(motions) or 'none'})")
        return tuple(MOTIONS[m] for m in motions)
    if not isinstance(given, (list, tuple)) or not given:
        raise ModelError(f"{where}: a 'custom' joint needs 'motions', a list of {_R!r} and {_T!r} in chain order, "
                         f"e.g. motions: [{_R}, {_T}]")
    bad = [m for m in given if m not in (_R, _T)]
    if bad:
        raise ModelError(f"{where}: unknown motions {bad} in 'motions'; use {_R!r} or {_T!r}")
    return tuple(MOTIONS[m] for m in given)

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
        if any(isinstance(x, bool) for x in value):
            raise TypeError
        a = np.array([float(x) for x in value], dtype=float)
    except (TypeError, ValueError):
        raise ModelError(f"{where}: axis {value!r} must be x, y, z (optionally signed) or three numbers") from None
    if a.shape != (3,) or not np.all(np.isfinite(a)) or np.linalg.norm(a) < 1e-12:
        raise ModelError(f"{where}: axis {value!r} must be three finite numbers, not all zero")
    return a / np.linalg.norm(a)


def euler_xyz_deg(angles, where: str) -> np.ndarray:
    """Body-fixed X-Y-Z Euler angles in degrees -> rotation matrix (parent <- child)."""
    try:
        if isinstance(angles, str) or any(isinstance(x, bool) for x in angles):
            raise TypeError
        a = np.radians([float(x) for x in angles])
    except (TypeError, ValueError):
        raise ModelError(f"{where}: orientation must be three numbers (degrees), got {angles!r}") from None
    if a.shape != (3,) or not np.all(np.isfinite(a)):
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
