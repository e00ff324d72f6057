"""A trunk that no marker sees keeps the root's slow orientation in the world.

Lower-body marker sets (Fukuchi et al. 2017's treadmill runners, Plug-in Gait's lower body, the
Helen Hayes set) put no marker on the trunk.  Inverse kinematics then holds the trunk joint's
coordinates at zero (its prior, :mod:`symgait.markers.ik`), so the trunk (in ``gait3d`` the torso
with head and arms, about half the body's mass, its centre of mass some 0.3 m above the lumbar
joint) turns rigidly with every step-frequency tilt, list and rotation of the pelvis: a pelvis
list of ±5 degrees at 3 Hz swings that centre of mass sideways at about 8 m/s², which no runner's
trunk does and the plates never see.  :func:`hold_unseen_trunk` gives such a trunk the root's
orientation low-passed at :data:`TRUNK_CUTOFF` (below any stride frequency) instead: the slow
lean and heading of the pelvis without its sway, the trunk's own coordinates relative to that
orientation kept as the fit left them.

Checked on the trials whose trunk markers are fitted (docs/data.md, "Trunk without markers"):
with their trunk held rigid to the pelvis, the root residual's anterior-posterior / medio-lateral
force grows from 0.94 / 0.99 to 2.45 / 4.49 N/kg (Hamner et al. 2010's runners), from 0.33 / 0.24
to 0.68 / 1.91 (Schreiber & Moissenet 2019's walkers) and from 0.41 / 0.18 to 0.68 / 1.20
(biomechZoo's children); with the trunk held as here it is 1.69 / 1.54, 0.57 / 0.61 and
0.53 / 0.29.

The new trunk coordinates are solved, frame by frame, so that the trunk's points relative to
one another (its orientation; the joint's centre stays where the root puts it) are those of the
trunk on the low-passed root: Gauss-Newton on the generated point positions and Jacobians, so
any axis convention of the model's joints is respected.
"""
from __future__ import annotations

from typing import List, Optional, Tuple

import numpy as np

from ..model.coordinates import rotational_coordinates
from ..signals.filters import lowpass, min_filter_length

__all__ = ["TRUNK_CUTOFF", "unseen_trunks", "hold_trunk", "hold_unseen_trunk"]

TRUNK_CUTOFF = 0.5      # Hz: the root's orientation below this is the trunk's (strides are ≥ 0.7 Hz)
_SENSITIVITY = 1e-9     # m/rad: a target this insensitive to a coordinate does not see it
_CHUNK = 1000           # frames per batch of point Jacobians (memory)


def _trunk_candidates(model) -> List:
    """The root's child bodies whose joints only rotate and below which no contact lies (the
    trunk of the built-in models, not the thighs)."""
    root = model.spec.bodies[0]
    rot = set(rotational_coordinates(model))
    parent = {b.name: b.parent for b in model.spec.bodies}

    def below(body, top):
        while body in parent:
            if body == top:
                return True
            body = parent[body]
        return False
    feet = [c.body for c in model.spec.contacts]
    return [b for b in model.spec.bodies[1:] if b.parent == root.name and b.coordinates
            and all(c in rot for c in b.coordinates) and not any(below(f, b.name) for f in feet)]


def unseen_trunks(model, kern, A, positions, q, p, *, frames: int = 5) -> List[str]:
    """Names of the root's child bodies with rotation-only joints and no contact below them
    (``torso`` in the built-in models) whose coordinates no target sees: ``A`` (m, n_points) the targets' rows over the
    model's points, ``positions`` (T, m, 3) their data (NaN where missing; a target without any
    sample sees nothing), checked on ``frames`` frames of ``q`` (T, nq) at parameters ``p``."""
    A = np.asarray(A, float)
    seen = np.isfinite(np.asarray(positions, float)).all(-1).any(0)
    cands = _trunk_candidates(model)
    if not cands or not seen.any():
        return [b.name for b in cands]
    q = np.asarray(q, float)
    idx = np.unique(np.linspace(0, len(q) - 1, min(frames, len(q))).astype(int))
    J = np.asarray(kern.point_jacobians(np.ascontiguousarray(q[idx]), p))     # (B, npts, 3, nq)
    JA = np.einsum("mp,bpkq->bmkq", A[seen], J)
    out = []
    for b in cands:
        cols = [model.coordinates.index(c) for c in b.coordinates]
        if np.abs(JA[..., cols]).max() < _SENSITIVITY:
            out.append(b.name)
    return out


def _smooth(x: np.ndarray, rate: float, cutoff: float) -> np.ndarray:
    """``x`` (T, k) low-passed at ``cutoff`` Hz (zero-phase), mirrored at both ends over up to
    two periods of the cut-off first (a sway caught mid-swing at an end would otherwise leak into
    the first and last second); its mean where too short to filter."""
    if x.shape[0] >= min_filter_length() and 0 < cutoff < rate / 2:
        n = min(x.shape[0] - 1, int(round(2.0 * rate / cutoff)))
        y = np.pad(x, ((n, n), (0, 0)), mode="reflect")
        return lowpass(y, cutoff, rate)[n:n + x.shape[0]]
    return np.broadcast_to(x.mean(0), x.shape).copy()


def hold_trunk(model, kern, q, p, rate: float, body: str, *, cutoff: float = TRUNK_CUTOFF,
               iterations: int = 12, tol: float = 1e-9) -> Optional[np.ndarray]:
    """``q`` (T, nq) with the coordinates of ``body``'s joint changed so that, in the world, the
    body turns with the root's orientation low-passed at ``cutoff`` Hz (module docstring); None
    when ``body`` carries fewer than three model points to solve its orientation on (or they are
    collinear)."""
    q = np.array(q, dtype=float)
    root = model.spec.bodies[0]
    rot = set(rotational_coordinates(model))
    rcols = [model.coordinates.index(c) for c in root.coordinates if c in rot]
    b = next(x for x in model.spec.bodies if x.name == body)
    cols = [model.coordinates.index(c) for c in b.coordinates]
    pts = [i for i, pt in enumerate(model.spec.points) if pt.body == body]
    if len(pts) < 3 or not rcols:
        return None
    qs = q.copy()
    qs[:, rcols] = _smooth(q[:, rcols], rate, cutoff)
    out = q.copy()
    for a in range(0, len(q), _CHUNK):
        sl = slice(a, a + _CHUNK)
        Xs = np.asarray(kern.points(np.ascontiguousarray(qs[sl]), p))[:, pts]
        want = Xs[:, 1:] - Xs[:, :1]                                  # the trunk's shape and orientation
        qn = q[sl].copy()
        for _ in range(iterations):
            X = np.asarray(kern.points(np.ascontiguousarray(qn), p))[:, pts]
            J = np.asarray(kern.point_jacobians(np.ascontiguousarray(qn), p))[:, pts][..., cols]
            r = ((X[:, 1:] - X[:, :1]) - want).reshape(len(qn), -1)
            JD = (J[:, 1:] - J[:, :1]).reshape(len(qn), -1, len(cols))
            H = np.einsum("tki,tkj->tij", JD, JD)
            if np.linalg.cond(H).max() > 1e10:
                return None                                           # collinear points
            dq = -np.linalg.solve(H, np.einsum("tki,tk->ti", JD, r)[..., None])[..., 0]
            qn[:, cols] += dq
            if np.abs(dq).max() < tol:
                break
        out[sl, cols] = qn[:, cols]
    return out


def hold_unseen_trunk(model, kern, q, p, rate: float, A, positions, *,
                      cutoff: float = TRUNK_CUTOFF) -> Tuple[np.ndarray, List[str]]:
    """``(q, notes)``: :func:`hold_trunk` for every body of :func:`unseen_trunks` (``q`` unchanged
    and no notes where the targets see the trunk)."""
    notes = []
    for body in unseen_trunks(model, kern, A, positions, q, p):
        b = next(x for x in model.spec.bodies if x.name == body)
        held = hold_trunk(model, kern, q, p, rate, body, cutoff=cutoff)
        if held is None:
            notes.append(f"no marker sees {', '.join(b.coordinates)}, and {body} carries too few model "
                         "points to hold its orientation: it moves rigidly with the "
                         f"{model.spec.bodies[0].name}")
            continue
        q = held
        notes.append(f"no marker sees {', '.join(b.coordinates)}: the {body} keeps the "
                     f"{model.spec.bodies[0].name}'s orientation low-passed at {cutoff:g} Hz (its lean "
                     "and heading, without the step-frequency sway; symgait.trials.trunk)")
    return q, notes
