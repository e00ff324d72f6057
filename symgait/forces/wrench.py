"""Conversions between force-plate style ground reactions and 6-vector wrenches.

Conventions
-----------
* World frame: OpenSim ground, **Y up** (X forward, Z right); the vertical is
  ``up = (0, 1, 0)`` by default.  Any other unit vector may be passed (e.g.
  ``(0, 0, 1)`` for a Z-up C3D lab).
* A ground reaction is given as ``force`` (N), centre of pressure ``cop`` (m)
  on the ground plane, and ``free_moment`` (N·m): the moment about the vertical
  axis through the COP (OpenSim's ``ground_torque_y`` column with a Y-up
  ground).  At the COP the reaction's moment is purely vertical.
* A wrench is a 6-vector ``[Fx, Fy, Fz, Mx, My, Mz]``: the same force and its
  moment **about a stated point** (e.g. a foot origin), all in world
  coordinates.

Every function is batched: leading dimensions broadcast (frames, plates, ...).
"""

from __future__ import annotations

from typing import Tuple

import numpy as np

__all__ = ["cop_to_wrench", "wrench_to_cop", "transport_moment"]

_Y_UP = (0.0, 1.0, 0.0)


def _unit(up) -> np.ndarray:
    n = np.asarray(up, dtype=np.float64)
    if n.shape != (3,):
        raise ValueError(f"up must be a 3-vector, got shape {n.shape}")
    norm = np.linalg.norm(n)
    if norm == 0:
        raise ValueError("up must be non-zero")
    return n / norm


def transport_moment(moment, force, from_point, to_point) -> np.ndarray:
    """Moment about ``to_point`` of a wrench whose moment about ``from_point`` is ``moment``.

    ``M_to = M_from + (from_point - to_point) x F``.  All (..., 3), world frame.
    """
    M = np.asarray(moment, dtype=np.float64)
    F = np.asarray(force, dtype=np.float64)
    d = np.asarray(from_point, dtype=np.float64) - np.asarray(to_point, dtype=np.float64)
    return M + np.cross(d, F)


def cop_to_wrench(force, cop, free_moment, point=(0.0, 0.0, 0.0), *, up=_Y_UP) -> np.ndarray:
    """Wrench ``[F, M]`` (..., 6) about ``point`` from force, COP and free moment.

    Parameters
    ----------
    force : (..., 3) N, world frame.
    cop : (..., 3) m, centre of pressure, world frame.
    free_moment : (...,) N·m, moment about the ``up`` axis through the COP; or
        (..., 3) a full torque vector applied at the COP (OpenSim's
        ``ground_torque_{x,y,z}`` columns, which in published files are not
        always purely vertical), added as is.
    point : (3,) or (..., 3) m, the point the moment is taken about.
    up : unit vertical (default OpenSim Y up).

    ``M = (cop - point) x F + free_moment * up`` (or ``+ torque``).
    """
    F = np.asarray(force, dtype=np.float64)
    p = np.asarray(cop, dtype=np.float64)
    T = np.asarray(free_moment, dtype=np.float64)
    n = _unit(up)
    tvec = T if (T.ndim >= 1 and T.shape[-1] == 3 and T.shape[:-1] == F.shape[:-1]) \
        else T[..., None] * n
    M = np.cross(p - np.asarray(point, dtype=np.float64), F) + tvec
    F, M = np.broadcast_arrays(F, M)
    return np.concatenate([F, M], axis=-1)


def wrench_to_cop(wrench, point=(0.0, 0.0, 0.0), *, plane_height: float = 0.0, up=_Y_UP,
                  min_vertical_force: float = 1e-6) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Force, centre of pressure and free moment from a wrench about ``point``.

    The COP ``p`` is the point of the plane ``up · p = plane_height`` about which
    the wrench's moment is parallel to ``up``::

        r = p - point = (up x M + F d) / (up · F),   d = plane_height - up · point
        free_moment = up · (M - r x F)

    Parameters
    ----------
    wrench : (..., 6) ``[F, M]``, N and N·m about ``point``, world frame.
    point : (3,) or (..., 3) m.
    plane_height : float, m, height of the ground plane along ``up``.
    min_vertical_force : float, N.  Where ``|up · F|`` is below it the COP is
        undefined: COP and free moment are NaN there.

    Returns
    -------
    force (..., 3) N, cop (..., 3) m, free_moment (...,) N·m.
    """
    w = np.asarray(wrench, dtype=np.float64)
    if w.shape[-1] != 6:
        raise ValueError(f"wrench must have 6 components in its last axis, got {w.shape}")
    F, M = w[..., :3], w[..., 3:]
    n = _unit(up)
    o = np.asarray(point, dtype=np.float64)
    fn = F @ n
    d = plane_height - o @ n
    ok = np.abs(fn) >= min_vertical_force
    safe = np.where(ok, fn, 1.0)
    r = (np.cross(n, M) + F * np.asarray(d)[..., None]) / safe[..., None]
    cop = o + r
    free = (M - np.cross(r, F)) @ n
    cop = np.where(ok[..., None], cop, np.nan)
    free = np.where(ok, free, np.nan)
    return F.copy(), cop, free


GROUND = 0.0       # m, height of the ground plane (world Y)


STANCE_N = 20.0    # N, labelled vertical force above which a contact is in stance


def centre_of_pressure(w, origin, ground: float = GROUND):
    """Centre of pressure (..., 3) on the plane ``y = ground`` and free moment (...) (N·m, about
    the vertical through it) of wrenches ``w`` (..., 6): force F and moment M about ``origin``
    (..., 3). From ``M = r x F + T e_y`` with ``r = cop - origin``, ``r_y = ground - origin_y``:
    ``r_x = (M_z + r_y F_x) / F_y``, ``r_z = (r_y F_z - M_x) / F_y``, ``T = M_y - r_z F_x + r_x F_z``.
    NaN where ``F_y`` is 0."""
    w, o = np.asarray(w, float), np.asarray(origin, float)
    F, M = w[..., :3], w[..., 3:]
    ry = ground - o[..., 1]
    with np.errstate(invalid="ignore", divide="ignore"):
        fy = np.where(F[..., 1] != 0, F[..., 1], np.nan)
        rx = (M[..., 2] + ry * F[..., 0]) / fy
        rz = (ry * F[..., 2] - M[..., 0]) / fy
    T = M[..., 1] - rz * F[..., 0] + rx * F[..., 2]
    cop = o + np.stack([rx, ry + 0 * rx, rz], -1)
    return cop, T
