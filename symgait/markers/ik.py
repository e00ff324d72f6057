"""Retargeting: markers or joint centres → model coordinates by inverse kinematics.

Per frame, Levenberg–Marquardt on the weighted squared distances between the source positions
``y_m`` (OpenSim axes, metres) and the matching model points ``A_m · P(q)`` (``P`` =
``kernels.points``; a row of ``A`` averages model points, see :mod:`symgait.markers.markersets`),
with the generated point Jacobians (``kernels.point_jacobians``)::

    min_q  Σ_m w_m |A_m P(q) - y_m|² + Σ_j λ_j q_j²

The small Tikhonov term (``prior``, default 1e-5 per rad² on non-root coordinates, i.e. 3 mm of
marker error per rad) keeps coordinates the markers do not see (mtp without toe markers, lumbar
rotation from two shoulder points) at zero instead of drifting, and soft joint ranges
(:data:`DEFAULT_LIMITS`, 0.1 per rad² beyond them) keep sparse marker sets (no heel markers, no
thigh wands) out of mirror-image solutions such as a hip rotated by 180°.  Rotations are
wrapped to within π of the previous frame.

Warm start: each frame starts from the previous frame's solution extrapolated with its
velocity.  ``mode="batched"`` (default) solves every ``stride``-th frame sequentially that way,
then all frames at once in one batch (each frame its own damping) starting from the keyframes'
interpolation — the kernels are batched, so this is several times faster than the pure
``mode="sequential"`` sweep for long trials.  The first frame is initialised by a batched
root-only fit from several headings (the pelvis pose from the points that move with the root).

Bad markers: after the fit, :func:`retarget` leaves out a marker whose residual stays far above
the others' (:func:`~symgait.markers.ik_report.bad_marker`: above 3 x the median marker RMS and
30 mm), over the frames where it is bad or the whole trial, and solves again, the worst first,
while every body keeps a marker (the root two); the report names each (``report.dropped``).  The
residual judged is the one a body-fixed offset cannot explain (:func:`body_frame_residuals`): a
marker placed elsewhere on its body than the marker set says (re-fitted by
:mod:`symgait.markers.registration`) is not bad; one that is mislabelled, swapped with another or
slipping is.  A constant lab-frame offset on a body that hardly rotates looks like the former.

Reported: per-frame RMS (unweighted Euclidean distance over the targets present), per-target
RMS over the trial and the maximum, in metres (:class:`IKResult`).  :func:`retarget` chooses the
marker set (:func:`choose_markerset`), attaches an :class:`~symgait.markers.ik_report.IKReport` and
refuses fits above 40 mm with the likely cause (:mod:`symgait.markers.ik_report`); the one-call
entry point with registration is :func:`symgait.markers.fit.fit_trial_markers`.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import numpy as np

from ..atomic import atomic_write

from .ik_report import DEFAULT_MAX_RMS
from .markersets import ResolvedTargets
from ..signals.gaps import fill_interior_gaps
from ..signals.runs import longest_true_run, true_runs
from .markersets import MIN_MATCHED, MarkerSet, detect, load_markerset, resolve, strip_prefix
from .osim_markerset import markerset_from_osim
from .anatomical_names import anatomical_markerset
from .body_markers import body_anchors, body_poses, is_arm, model_tree
from .ik_report import DROP_MIN, DroppedMarker, IKFitError, bad_marker, ik_report, swap_sides, unit_ratio

__all__ = ["IKResult", "DEFAULT_LIMITS", "coordinate_limits", "solve_ik", "retarget", "valid_range", "scale_from_joint_centres", "root_coordinates",
           "single_thread", "SEGMENT_PAIRS", "stick_figure", "choose_markerset", "DEFAULT_MAX_RMS",
           "marker_rms", "MAX_DROPPED", "MIN_ROOT_MARKERS", "target_bodies", "body_frame_residuals"]

MAX_DROPPED = 0.25     # at most this fraction of a trial's targets are left out as bad markers
MIN_ROOT_MARKERS = 2   # a bad marker is left out only if the root body keeps this many (others: 1)


# Soft joint ranges (degrees) by coordinate name (OpenSim gait2354's coordinate ranges, the
# lumbar ones narrowed; the arms' from Hamner et al. 2010's full-body model): outside them the fit
# pays ``limit_weight * excess**2`` (rad²).  They keep coordinates that sparse marker sets hardly
# see (hip rotation, subtalar) plausible, and the elbow from bending backwards (a humerus turned
# half a turn about its long axis fits the same markers with the elbow hyperextended).
DEFAULT_LIMITS = {
    "hip_flexion": (-40.0, 120.0), "hip_adduction": (-50.0, 30.0), "hip_rotation": (-40.0, 40.0),
    "knee_angle": (-120.0, 10.0), "ankle_angle": (-40.0, 30.0), "subtalar_angle": (-20.0, 20.0),
    "mtp_angle": (-30.0, 30.0), "lumbar_extension": (-90.0, 45.0), "lumbar_bending": (-40.0, 40.0),
    "lumbar_rotation": (-40.0, 40.0),
    "arm_flex": (-90.0, 90.0), "arm_add": (-120.0, 90.0), "arm_rot": (-90.0, 90.0), "elbow_flex": (0.0, 150.0),
}


def coordinate_limits(model, limits=None):
    """(lo, hi) arrays in radians/metres for ``model``'s coordinates (±inf where none):
    ``limits`` maps coordinate names (or names without the ``_r``/``_l`` suffix) to (lo, hi)
    degrees; default :data:`DEFAULT_LIMITS`."""
    limits = DEFAULT_LIMITS if limits is None else limits
    lo = np.full(model.nq, -np.inf)
    hi = np.full(model.nq, np.inf)
    for i, c in enumerate(model.coordinates):
        key = c if c in limits else (c[:-2] if c[-2:] in ("_r", "_l") else c)
        if key in limits:
            lo[i], hi[i] = np.radians(limits[key][0]), np.radians(limits[key][1])
    return lo, hi


@contextlib.contextmanager
def single_thread(enabled: bool = True):
    """Run Numba-parallel kernels on one thread (small batches: thread start-up dominates)."""
    if not enabled:
        yield
        return
    import numba
    n = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        yield
    finally:
        numba.set_num_threads(n)


def root_coordinates(model) -> List[int]:
    """Indices of the root joint's coordinates."""
    root = model.spec.bodies[0]
    return [model.coordinates.index(c) for c in root.coordinates]


@dataclass
class IKResult:
    """Result of :func:`solve_ik`.

    ``q`` (T, nq) model coordinates (rad, m); ``time`` (T,) s; ``rms`` (T,) per-frame RMS fit
    error (m) over the targets present; ``max_error`` (T,) m; ``target_rms`` per target name (m);
    ``fitted`` (T, m, 3) model positions of the targets; ``targets`` the resolved targets;
    ``iterations`` (T,); ``p`` the parameters used.
    """
    q: np.ndarray
    time: np.ndarray
    rms: np.ndarray
    max_error: np.ndarray
    target_rms: Dict[str, float]
    fitted: np.ndarray
    targets: ResolvedTargets
    iterations: np.ndarray
    p: np.ndarray
    notes: List[str] = field(default_factory=list)
    offset: np.ndarray = field(default_factory=lambda: np.zeros(3))  # added to the source (m)
    report: object = None   # IKReport (symgait.markers.ik_report), set by retarget

    @property
    def rate(self) -> float:
        return float((self.time.size - 1) / (self.time[-1] - self.time[0])) if self.time.size > 1 else float("nan")

    def summary(self) -> str:
        worst = sorted(self.target_rms.items(), key=lambda kv: -kv[1])[:3]
        ms = f"marker set {self.targets.markerset}, " if self.targets.markerset else ""
        return (f"IK: {ms}{self.q.shape[0]} frames, {len(self.targets.names)} targets, RMS "
                f"{1000 * np.nanmean(self.rms):.1f} mm mean / {1000 * np.nanmax(self.rms):.1f} mm worst "
                f"frame; largest per-target RMS: "
                + ", ".join(f"{n} {1000 * v:.1f} mm" for n, v in worst))


def marker_rms(kern, A, positions, q, p, *, positions_time=None, time=None) -> float:
    """Mean over frames of the per-frame RMS distance (m) between the markers ``positions``
    (T, m, 3; NaN where missing) and the model's markers ``A @ points(q, p)`` (``A`` the rows of
    :class:`~symgait.markers.markersets.ResolvedTargets`): the figure :meth:`IKResult.summary`
    reports, for any ``q`` (T, nq).  With ``positions_time`` (the markers' times) and ``time``
    (``q``'s, a subset of them: a low-passed, cropped motion), the markers at ``time`` are used;
    ``ValueError`` if a time of ``q`` has no marker frame."""
    positions = np.asarray(positions, float)
    if time is not None:
        pt = np.asarray(positions_time, float)
        i = np.clip(np.searchsorted(pt, np.asarray(time, float) - 1e-9), 0, pt.size - 1)
        if not np.allclose(pt[i], time, atol=1e-6):
            raise ValueError("marker_rms: the motion's times are not marker frames")
        positions = positions[i]
    q = np.ascontiguousarray(q, dtype=float)
    P = kern.points(q, np.ascontiguousarray(np.broadcast_to(np.asarray(p, float), (q.shape[0], len(p)))))
    err = np.linalg.norm(np.einsum("mk,tkx->tmx", np.asarray(A, float), P) - positions, axis=-1)
    with np.errstate(invalid="ignore"):
        rms = np.sqrt(np.nanmean(err ** 2, axis=1))
    return float(np.nanmean(rms))


class _Problem:
    def __init__(self, model, kern, p, targets: ResolvedTargets, prior: float, root_prior: float,
                 limits=None, limit_weight: float = 0.1):
        self.model, self.kern, self.p = model, kern, np.asarray(p, float)
        self.lo, self.hi = coordinate_limits(model, limits) if limits is not False else \
            (np.full(model.nq, -np.inf), np.full(model.nq, np.inf))
        self.kappa = limit_weight
        fr = model.spec.coordinate_frames()
        self.rot = np.array([model.spec.frames[f].motion.rotates for f in fr])
        self.A = targets.A
        self.sw = np.sqrt(targets.weights)
        nq = model.nq
        self.lam_prior = np.full(nq, prior)
        self.lam_prior[root_coordinates(model)] = root_prior
        self.nz = np.nonzero(np.any(self.A != 0, axis=0))[0]   # model points in use
        self.Ar = self.A[:, self.nz]

    def residual(self, q, y, mask):
        P = self.kern.points(q, self.p)[:, self.nz]                       # (B, n, 3)
        r = np.matmul(self.Ar, P) - y                                      # (B, m, 3)
        r = np.where(mask[..., None], r, 0.0) * self.sw[None, :, None]
        return r

    def excess(self, q):
        return np.where(q > self.hi, q - self.hi, 0.0) + np.where(q < self.lo, q - self.lo, 0.0)

    def cost(self, q, y, mask):
        r = self.residual(q, y, mask)
        return (np.sum(r ** 2, axis=(1, 2)) + np.sum(self.lam_prior * q ** 2, axis=1)
                + self.kappa * np.sum(self.excess(q) ** 2, axis=1))

    def linearize(self, q, y, mask, cols=None):
        P = self.kern.points(q, self.p)[:, self.nz]
        J = self.kern.point_jacobians(q, self.p)[:, self.nz]                # (B, n, 3, nq)
        if cols is not None:
            J = J[..., cols]
        r = np.matmul(self.Ar, P) - y
        B, n = J.shape[:2]
        Jr = np.matmul(self.Ar, J.reshape(B, n, -1)).reshape(B, -1, 3, J.shape[-1])
        wm = (mask * self.sw[None, :])[..., None]
        r = np.where(mask[..., None], r, 0.0) * wm
        Jr = Jr * wm[..., None]
        r = r.reshape(B, -1)
        Jr = Jr.reshape(B, r.shape[1], -1)
        return r, Jr


def _wrap(q, rot, ref=None):
    """Rotational coordinates into (-pi, pi] (or within pi of ``ref``)."""
    q = q.copy()
    base = 0.0 if ref is None else ref[..., rot]
    q[..., rot] = base + (q[..., rot] - base + np.pi) % (2 * np.pi) - np.pi
    return q


def _lm(prob: _Problem, q, y, mask, *, cols=None, max_iter=40, tol=1e-7, lam=1e-3,
        max_step=(0.35, 0.15)):
    """Batched Levenberg–Marquardt; each sample its own damping; steps limited to
    ``max_step`` (rad, m) per coordinate (trust region).  Returns (q, iterations)."""
    q = q.copy()
    B, nq = q.shape
    cols = np.arange(nq) if cols is None else np.asarray(cols)
    lam = np.full(B, lam)
    active = np.ones(B, bool)
    its = np.zeros(B, int)
    lp = prob.lam_prior[cols]
    c0 = prob.cost(q, y, mask)
    for _ in range(max_iter):
        idx = np.nonzero(active)[0]
        if idx.size == 0:
            break
        qa = q[idx]
        r, J = prob.linearize(qa, y[idx], mask[idx], cols)
        Jt = np.swapaxes(J, 1, 2)
        ex = prob.excess(qa)[:, cols]
        g = np.matmul(Jt, r[..., None])[..., 0] + lp * qa[:, cols] + prob.kappa * ex
        H = np.matmul(Jt, J) + np.diag(lp)
        H = H + (prob.kappa * (ex != 0))[:, :, None] * np.eye(len(cols))
        dH = np.einsum("bjj->bj", H)
        Hd = H + (lam[idx, None] * (dH + 1e-9))[..., None] * np.eye(len(cols))
        step = -np.linalg.solve(Hd, g[..., None])[..., 0]
        lim = np.where(prob.rot[cols], max_step[0], max_step[1])
        scale = np.min(np.minimum(1.0, lim / np.maximum(np.abs(step), 1e-300)), axis=1)
        step = step * scale[:, None]
        qn = qa.copy()
        qn[:, cols] += step
        cn = prob.cost(qn, y[idx], mask[idx])
        better = cn < c0[idx]
        its[idx] += 1
        q[idx[better]] = qn[better]
        rel = (c0[idx] - cn) / np.maximum(c0[idx], 1e-30)
        c0[idx[better]] = cn[better]
        lam[idx[better]] = np.maximum(lam[idx[better]] / 3.0, 1e-9)
        lam[idx[~better]] = lam[idx[~better]] * 4.0
        small = np.max(np.abs(step), axis=1) < tol
        done = (better & (small | (rel < 1e-10))) | (~better & (lam[idx] > 1e8))
        active[idx[done]] = False
    return q, its


def _initial_pose(prob: _Problem, y0, m0, n_headings: int = 8):
    """First frame: root-only LM from several headings (batched), then the best."""
    model = prob.model
    nq = model.nq
    rc = root_coordinates(model)
    root = model.spec.bodies[0]
    # targets whose model points move with the root only
    q0 = np.zeros((1, nq))
    J = prob.kern.point_jacobians(q0, prob.p)[0]
    nonroot = [j for j in range(nq) if j not in rc]
    rigid = np.all(np.abs(np.einsum("mk,kxj->mxj", prob.A, J)[..., nonroot]) < 1e-12, axis=(1, 2))
    use = m0 & rigid
    if use.sum() < 3:
        use = m0.copy()
    # translation guess: centroid difference
    P = prob.kern.points(q0, prob.p)[0]
    mp = prob.A @ P
    shift = np.nanmean(y0[use], axis=0) - np.nanmean(mp[use], axis=0)
    trans = [i for i, c in zip(rc, root.coordinates) if model.spec.frames[
        model.spec.coordinate_frames()[i]].motion.translates]
    rots = [i for i in rc if i not in trans]
    base = np.zeros(nq)
    for i in trans:
        ax = model.spec.frames[model.spec.coordinate_frames()[i]].axis
        base[i] = float(np.dot(ax, shift))
    yaw = [i for i in rots if abs(abs(model.spec.frames[model.spec.coordinate_frames()[i]].axis[1]) - 1) < 1e-9]
    cand = []
    if yaw:
        for a in np.linspace(-np.pi, np.pi, n_headings, endpoint=False):
            q = base.copy()
            q[yaw[0]] = a
            cand.append(q)
    else:
        cand.append(base)
    Q = np.array(cand)
    # centre each heading's rotation about the targets' centroid
    Y = np.repeat(y0[None], len(cand), 0)
    M = np.repeat(use[None], len(cand), 0)
    Q, _ = _lm(prob, Q, Y, M, cols=rc, max_iter=60)
    c = prob.cost(Q, Y, M)
    return _wrap(Q[int(np.argmin(c))], prob.rot)


def solve_ik(model, kern, p, targets: ResolvedTargets, time=None, *, mode: str = "batched",
             stride: int = 5, prior: float = 1e-5, root_prior: float = 0.0, max_iter: int = 40,
             q0=None, limits=None, limit_weight: float = 0.1, q_init=None, free=None) -> IKResult:
    """Fit ``model`` at parameters ``p`` to ``targets`` (see the module docstring).

    ``limits``: soft coordinate ranges (:func:`coordinate_limits`; ``False`` for none),
    weighted by ``limit_weight`` per rad² of excess.
    ``time`` (T,) s (default frame index / 1).  ``q0`` (nq,) optional start for the first
    frame.  ``q_init`` (T, nq): start every frame there and solve all frames in one batch (no
    sweep; for refits near a known solution).  ``free``: indices of the only coordinates that
    move, the others held at ``q_init``'s (required) frame by frame (the arms of a body whose
    trunk and legs are known); ``mode`` then applies to the free coordinates, which start from
    ``q_init``'s first solved frame, unless ``mode="init"``.  Frames where fewer than 3 targets
    are present keep the previous frame's solution (noted).
    """
    Y = np.asarray(targets.positions, float)
    T = Y.shape[0]
    mask = np.all(np.isfinite(Y), axis=-1)
    Yz = np.where(mask[..., None], Y, 0.0)
    prob = _Problem(model, kern, p, targets, prior, root_prior, limits, limit_weight)
    notes = []
    time = np.arange(T, dtype=float) if time is None else np.asarray(time, float)
    q = np.zeros((T, model.nq))
    its = np.zeros(T, int)
    good = mask.sum(1) >= 3
    if not good.any():
        raise ValueError("no frame has 3 or more targets present")
    first = int(np.argmax(good))
    if q_init is not None:
        q_init = np.asarray(q_init, float)
        if q_init.shape != (T, model.nq):
            raise ValueError(f"q_init must be ({T}, {model.nq}), got {q_init.shape}")
        mode = "init" if free is None else mode
    elif free is not None:
        raise ValueError("solve_ik: free= needs q_init= (the values of the other coordinates)")

    def held(guess, t):   # the free coordinates of ``guess``, the others q_init's at frame t
        if free is None:
            return guess
        out = q_init[t].copy()
        out[..., free] = guess[..., free]
        return out
    with single_thread(True):
        qs = None if mode == "init" else q_init[first] if free is not None else \
            _initial_pose(prob, Yz[first], mask[first]) if q0 is None else np.asarray(q0, float)
        if mode == "sequential":
            keys = np.arange(T)
        elif mode == "init":
            keys = np.zeros(0, int)
        elif mode == "batched":
            keys = np.unique(np.r_[np.arange(first, T, max(1, stride)), T - 1])
        else:
            raise ValueError(f"mode must be 'batched' or 'sequential', got {mode!r}")
        keys = keys[keys >= first]
        prev, prev2 = None, None
        solved = {}
        for t in keys:
            if not good[t]:
                continue
            if prev is None:
                guess = qs
            elif prev2 is None:
                guess = prev
            else:  # velocity extrapolation in key steps
                guess = prev + (prev - prev2)
            qt, it = _lm(prob, held(guess, t)[None], Yz[t:t + 1], mask[t:t + 1], max_iter=max_iter, cols=free)
            qt = _wrap(qt, prob.rot, None if prev is None else prev[None])
            prev2, prev = prev, qt[0]
            solved[t] = qt[0]
            its[t] = it[0]
    kk = np.array(sorted(solved))
    if mode == "init":
        idx = np.nonzero(good)[0]
        with single_thread(idx.size < 64):
            Qr, itr = _lm(prob, q_init[idx], Yz[idx], mask[idx], max_iter=max_iter, cols=free)
        q[idx] = _wrap(Qr, prob.rot, q_init[idx])
        its[idx] = itr
        kk = idx
    elif mode == "batched" and kk.size:
        Q0 = held(np.stack([np.interp(np.arange(T), kk, np.array([solved[k] for k in kk])[:, j])
                            for j in range(model.nq)], 1), slice(None))
        rest = np.array([t for t in range(T) if t not in solved and good[t]], int)
        if rest.size:
            with single_thread(rest.size < 64):
                Qr, itr = _lm(prob, Q0[rest], Yz[rest], mask[rest], max_iter=max_iter, cols=free)
            q[rest] = _wrap(Qr, prob.rot, Q0[rest])
            its[rest] = itr
        for t in kk:
            q[t] = solved[t]
    else:
        for t in kk:
            q[t] = solved[t]
    # frames without enough targets: hold the nearest solved frame
    bad = np.nonzero(~good)[0]
    if bad.size:
        okidx = np.nonzero(good)[0]
        for t in bad:
            q[t] = q[okidx[np.argmin(np.abs(okidx - t))]]
        notes.append(f"{bad.size} frames with < 3 targets hold the nearest fitted frame")
    if free is not None:   # the held coordinates exactly as given (wrapping aside)
        q = held(q, slice(None))
    with single_thread(T < 64):
        P = kern.points(q, p)
    fitted = np.einsum("mk,tkx->tmx", targets.A, P)
    err = np.linalg.norm(fitted - Y, axis=-1)         # NaN where missing
    with np.errstate(invalid="ignore"):
        rms = np.sqrt(np.nanmean(err ** 2, axis=1))
        mx = np.nanmax(np.where(mask, err, -np.inf), axis=1)
    trms = {n: float(np.sqrt(np.nanmean(err[:, i] ** 2))) if mask[:, i].any() else float("nan")
            for i, n in enumerate(targets.names)}
    return IKResult(q=q, time=time, rms=rms, max_error=mx, target_rms=trms, fitted=fitted,
                    targets=targets, iterations=its, p=np.asarray(p, float), notes=notes)


# --------------------------------------------------------------------------- #
# subject scaling from joint centres
# --------------------------------------------------------------------------- #
SEGMENT_PAIRS = [  # (point a, point b, parameter whose value the distance is proportional to)
    ("hip_r_center", "knee_r_center", "thigh_r_length"),
    ("knee_r_center", "ankle_r_center", "shank_r_length"),
    ("hip_l_center", "knee_l_center", "thigh_l_length"),
    ("knee_l_center", "ankle_l_center", "shank_l_length"),
]


def scale_from_joint_centres(model, kern, p, targets: ResolvedTargets, pairs=SEGMENT_PAIRS,
                             max_change: float = 0.3):
    """Parameter overrides (dict) from measured joint-centre distances.

    For each ``(a, b, param)`` whose model points are targets (exactly, not averaged) the
    median measured distance over the trial divided by the model distance at ``p`` scales the
    parameter (the built-in models' thigh/shank offsets are proportional to their length
    parameter).  Changes beyond ``max_change`` (30 %) are rejected as mapping errors.
    """
    names = model.parameter_names
    P = kern.points(np.zeros((1, model.nq)), p)[0]
    pidx = {n: i for i, n in enumerate(model.points)}
    out = {}
    single = {}
    for r, pt in enumerate(targets.points):
        if pt in pidx and np.count_nonzero(targets.A[r]) == 1:
            single[pt] = r
    for a, b, par in pairs:
        if a in single and b in single and par in names:
            d = np.linalg.norm(targets.positions[:, single[a]] - targets.positions[:, single[b]], axis=-1)
            dm = float(np.linalg.norm(P[pidx[a]] - P[pidx[b]]))
            if np.isfinite(d).sum() < 3 or dm <= 0:
                continue
            ratio = float(np.nanmedian(d)) / dm
            if abs(ratio - 1) <= max_change:
                out[par] = float(p[names.index(par)] * ratio)
    return out


# --------------------------------------------------------------------------- #
# stick figure
# --------------------------------------------------------------------------- #
_SEGMENTS = [
    ("hip_r_center", "knee_r_center"), ("knee_r_center", "ankle_r_center"),
    ("ankle_r_center", "heel_r"), ("heel_r", "toe_r"), ("ankle_r_center", "toe_r"),
    ("hip_l_center", "knee_l_center"), ("knee_l_center", "ankle_l_center"),
    ("ankle_l_center", "heel_l"), ("heel_l", "toe_l"), ("ankle_l_center", "toe_l"),
    ("hip_r_center", "hip_l_center"), ("R.ASIS", "L.ASIS"), ("R.ASIS", "hip_r_center"),
    ("L.ASIS", "hip_l_center"), ("V.Sacral", "lumbar_center"), ("lumbar_center", "Sternum"),
    ("R.Acromium", "L.Acromium"), ("lumbar_center", "R.Acromium"), ("lumbar_center", "L.Acromium"),
    ("Sternum", "Top.Head"),
]


def stick_figure(model, kern, ik: IKResult, path, frames: Optional[Sequence[int]] = None,
                 title: str = "", segments=_SEGMENTS):
    """PNG of source targets (dots) vs the fitted model (stick figure, crosses at the fitted
    target points, grey lines = fit errors) for ``frames`` (default 4 evenly spaced), in the
    sagittal (X–Y) and frontal (Z–Y) views.  Returns the path."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    T = ik.q.shape[0]
    if frames is None:
        frames = np.linspace(0, T - 1, min(4, T)).round().astype(int)
    frames = list(frames)
    P = kern.points(ik.q[frames], ik.p)
    pidx = {n: i for i, n in enumerate(model.points)}
    segs = [(pidx[a], pidx[b]) for a, b in segments if a in pidx and b in pidx]
    fig, axes = plt.subplots(2, len(frames), figsize=(3.2 * len(frames), 6.4), squeeze=False)
    for c, f in enumerate(frames):
        for r, (hx, lab) in enumerate(((0, "X forward (m)"), (2, "Z right (m)"))):
            ax = axes[r, c]
            src = ik.targets.positions[f]
            fit = ik.fitted[f]
            for i, j in segs:
                col = "tab:red" if model.points[i].endswith("_r") or "_r_" in model.points[i] \
                    or model.points[i].startswith("R.") else "tab:blue"
                ax.plot([P[c, i, hx], P[c, j, hx]], [P[c, i, 1], P[c, j, 1]], "-", color=col, lw=2)
            ok = np.all(np.isfinite(src), axis=1)
            for m in np.nonzero(ok)[0]:
                ax.plot([src[m, hx], fit[m, hx]], [src[m, 1], fit[m, 1]], "-", color="0.6", lw=0.8)
            ax.plot(src[ok, hx], src[ok, 1], "o", ms=3.5, color="k", label="source")
            ax.plot(fit[ok, hx], fit[ok, 1], "x", ms=4, color="tab:green", label="fitted")
            ax.set_aspect("equal")
            ax.set_xlabel(lab)
            if c == 0:
                ax.set_ylabel("Y up (m)")
            if r == 0:
                ax.set_title(f"frame {f}  t={ik.time[f]:.2f} s\nRMS {1000 * ik.rms[f]:.1f} mm",
                             fontsize=9)
    axes[0, 0].legend(fontsize=7, loc="lower left")
    fig.suptitle(title or f"{model.name}: source vs fitted", fontsize=10)
    fig.tight_layout()
    with atomic_write(path) as f:  # the format from the name's suffix, as savefig(path) does
        fig.savefig(f, dpi=90, format=Path(path).suffix[1:].lower() or None)
    plt.close(fig)
    return path


# --------------------------------------------------------------------------- #
# one call: source -> coordinates
# --------------------------------------------------------------------------- #
def _root_translation_axes(model):
    rc = root_coordinates(model)
    fr = model.spec.coordinate_frames()
    return [model.spec.frames[fr[i]].axis for i in rc if model.spec.frames[fr[i]].motion.translates]


def valid_range(positions, min_fraction: float = 0.8) -> slice:
    """Longest run of frames where at least ``min_fraction`` of the targets (and >= 3) are
    present."""
    ok = np.all(np.isfinite(positions), axis=-1)
    m = ok.shape[1]
    good = ok.sum(1) >= max(3, int(np.ceil(min_fraction * m)))
    keep = longest_true_run(good)
    if keep.stop == keep.start:
        raise ValueError(f"no frame has {100 * min_fraction:.0f} % of the {m} targets present")
    return keep


def _detected(labels):
    """``(Detection or None, anatomical MarkerSet, its matched label count, error)``."""
    try:
        d, err = detect(labels), None
    except ValueError as e:
        d, err = None, e
    an = anatomical_markerset(labels)
    return d, an, len(an.labels() & {strip_prefix(x) for x in labels}), err


def _arms_from_labels(model, ms: MarkerSet, labels):
    """``ms`` plus, on a model with arms where ``ms`` has no arm entries (an OpenSim model without
    arms, such as gait2354's), the arm entries that the labels' own convention gives (the set
    detected from them, or anatomical names); ``(set, note or "")``."""
    if ms.arm_entries() or not any(is_arm(b) for b in model.bodies):
        return ms, ""
    d, an, n_an, _ = _detected(labels)
    src = an if d is None or n_an > d.matched else d.markerset
    labs = {strip_prefix(x) for x in labels}
    arms = [e for e in src.arm_entries() if set(e.source_labels) <= labs]
    if not arms:
        return ms, ""
    return (MarkerSet(ms.name, ms.entries + arms, ms.notes + [f"arm markers from {src.name}"]),
            f"; {len(arms)} arm markers from {src.name}")


def choose_markerset(model, labels, markerset=None, osim=None):
    """``(MarkerSet, reason)`` for a trial's ``labels``: the MarkerSet of OpenSim model ``osim``
    (an .osim path, :func:`~symgait.markers.osim_markerset.markerset_from_osim`; on a model with
    arms, when it has no arm markers, with the arm entries of the labels' own convention), else
    ``markerset`` (a built-in name, a mapping file, an .osim path or a
    :class:`~symgait.markers.markersets.MarkerSet`), else the built-in set that matches the labels
    best (:func:`~symgait.markers.markersets.detect`), or descriptive anatomical names
    (:mod:`symgait.markers.anatomical_names`) when they match more labels; ValueError naming the
    fixes when nothing does."""

    if osim is None and isinstance(markerset, (str, Path)) and str(markerset).lower().endswith(".osim"):
        osim, markerset = markerset, None
    if osim is not None:
        ms = markerset_from_osim(osim, model.bodies)
        ms, arms = _arms_from_labels(model, ms, labels)
        return ms, f"MarkerSet of {Path(osim).name} ({len(ms.entries)} markers on {model.name} bodies{arms})"
    if markerset is not None:
        ms = markerset if isinstance(markerset, MarkerSet) else load_markerset(markerset)
        return ms, "given"
    d, an, n_an, err = _detected(labels)
    if n_an >= MIN_MATCHED and (d is None or n_an > d.matched):
        return an, (f"detected from the labels: anatomical names: {n_an} labels matched by name"
                    + ("" if d is None else f" (best built-in {d.markerset.name}: {d.matched})"))
    if d is None:
        raise err
    return d.markerset, "detected from the labels: " + d.reason


def _lr_swap_rms(model, kern, p, ms, labels, pos, keep, frames, **ik_kwargs):
    """Mean IK RMS on ``frames`` (of the kept range) with the left/right labels exchanged (None
    when the trial has no left/right pairs)."""
    sw = swap_sides(list(labels))
    if sw == list(labels):
        return None
    tg = resolve(ms, sw, pos, model, p)
    tg.positions = tg.positions[keep][frames]
    r = solve_ik(model, kern, p, tg, mode="sequential", **ik_kwargs)
    return float(np.nanmean(r.rms))


def _ik_failure(model, kern, p, ms, choice, labels, pos, keep, res, report, max_rms, ik_kwargs,
                extra=(), kept=()):
    """The :class:`~symgait.markers.ik_report.IKFitError` for a fit above ``max_rms`` (after
    leaving out the bad markers ``extra``; ``kept``: why bad markers could not be left out)."""
    tg = res.targets
    mp = tg.A @ kern.points(np.zeros((1, model.nq)), p)[0]
    ratio = unit_ratio(tg.positions, mp)
    head = (f"IK RMS {report.checked_rms_mm:.0f} mm ({report.checked_on}, mean over {report.frames} "
            f"frames) is above the {report.threshold_mm:.0f} mm threshold for marker set {ms.name} "
            f"({choice})")
    if ratio > 20 or ratio < 0.05:
        unit = ("millimetres read as metres" if ratio > 500 else "centimetres read as metres"
                if ratio > 20 else "metres read as millimetres" if ratio < 0.002 else "a wrong unit")
        cause = (f"likely cause: units — the markers span {ratio:.3g} x the model's size "
                 f"({unit}?); fix the file's Units field or convert the positions to metres")
    else:
        n = res.q.shape[0]
        frames = np.unique(np.linspace(0, n - 1, min(n, 12)).round().astype(int))
        sw = _lr_swap_rms(model, kern, p, ms, labels, pos, keep, frames, **ik_kwargs)
        base = float(np.nanmean(res.rms[frames]))   # 3-D RMS on both sides of the comparison
        if sw is not None and sw < 0.6 * base:
            cause = (f"likely cause: left/right labels swapped — with L/R exchanged the RMS is "
                     f"{1000 * sw:.0f} mm instead of {1000 * base:.0f} mm; relabel the markers")
        else:
            worst = sorted(report.marker_rms_mm.items(), key=lambda kv: -kv[1])[:4]
            cause = ("likely cause: a wrong marker set or mislabelled markers (worst: "
                     + ", ".join(f"{k} {v:.0f} mm" for k, v in worst)
                     + "); give the lab's OpenSim model (--osim), a mapping file (--markerset), or "
                       "register the markers (symgait.markers.registration)"
                     + ("" if sw is None else f"; L/R exchanged gives {1000 * sw:.0f} mm"))
    after = ""
    if extra:
        after += " after leaving out " + ", ".join(f"{d.marker} ({d.rms_mm:.0f} mm)" for d in extra)
    if kept:
        after += "; " + "; ".join(kept)
    return IKFitError(f"{head}{after}: {cause}. Raise max_rms (--max-ik-rms) only if the fit is known "
                      "to be this poor.", report)


def retarget(model, kern, source, *, height: float, mass: float, markerset=None, osim=None,
             scale_segments: str = "auto", mode: str = "batched", fill_gaps: float = 0.25,
             trim: bool = True, min_fraction: float = 0.8, max_rms=DEFAULT_MAX_RMS,
             choice: Optional[str] = None, drop_bad: bool = True, drop_min: float = DROP_MIN,
             **ik_kwargs):
    """Scale ``model`` to the subject and fit it to a :class:`~symgait.markers.sources.Source`.

    Marker set: :func:`choose_markerset` (``osim`` = an OpenSim model whose MarkerSet gives
    each marker's body and offset; else ``markerset``; else the best built-in match to the
    labels — the choice and why are in the result's ``report`` and notes; ``choice`` overrides
    the reason reported).
    Subject scaling: ``model.parameters(height=, mass=)`` (de Leva for the built-in models);
    with ``scale_segments="auto"`` thigh and shank lengths are then set from the measured
    joint-centre distances when the source has hip, knee and ankle centres (CMU skeletons,
    exported virtual joint centres), see :func:`scale_from_joint_centres` (``"off"`` to keep
    de Leva's).  Models without a lateral root translation (``planar``) see the source shifted
    along Z so that the mean lateral position of the targets is 0.  Interior gaps up to
    ``fill_gaps`` s are filled (:func:`fill_interior_gaps`); with ``trim`` the trial is cut to the
    longest run of frames where ``min_fraction`` of the targets are present
    (:func:`valid_range`; the result's ``time`` says which frames were kept).

    Every fit gets an :class:`~symgait.markers.ik_report.IKReport` (``result.report``); a mean
    RMS above ``max_rms`` (m, default 40 mm; None: no check) raises
    :class:`~symgait.markers.ik_report.IKFitError` naming the likely cause (units, left/right
    labels swapped, wrong marker set).  With ``drop_bad`` bad markers are left out first (module
    docstring; ``report.dropped`` and the notes name them, with their residual and frames;
    ``drop_min`` the residual (m) below which no marker is bad).

    Returns ``(IKResult, p, targets)``; ``IKResult.offset`` is the shift applied to the source
    (apply it to force-plate data too).
    """

    if markerset is None and osim is None and not source.labels:
        raise ValueError(f"{source.path}: no labels: pass markerset= (a built-in name or a mapping file)")
    seen = [lab for i, lab in enumerate(source.labels) if np.isfinite(source.positions[:, i]).any()]
    ms, why = choose_markerset(model, seen, markerset, osim)
    choice = why if choice is None else choice
    pos = source.positions
    axes = _root_translation_axes(model)
    notes = [f"marker set {ms.name}: {choice}"]
    offset = np.zeros(3)
    planar = not any(abs(a[2]) > 0.5 for a in axes)
    if planar:
        zc = float(np.nanmean(pos[..., 2]))
        pos = pos.copy()
        pos[..., 2] -= zc
        offset[2] = -zc
        notes.append(f"model {model.name} has no lateral root translation: source shifted by "
                     f"{-zc:+.3f} m along Z")
    p = model.parameters(height=height, mass=mass)
    targets = resolve(ms, source.labels, pos, model, p)
    time = np.asarray(source.time, float)
    rate = float(source.rate)
    keep = slice(0, targets.positions.shape[0])
    if fill_gaps and fill_gaps > 0:
        targets.positions, nfill = fill_interior_gaps(targets.positions, rate, max_gap=fill_gaps)
        if nfill:
            notes.append(f"{nfill} missing target samples filled (gaps <= {fill_gaps} s, PCHIP)")
    if trim:
        keep = valid_range(targets.positions, min_fraction=min_fraction)
        if keep.stop - keep.start < targets.positions.shape[0]:
            notes.append(f"frames {keep.start}-{keep.stop - 1} of 0-{targets.positions.shape[0] - 1} "
                         f"kept (>= {100 * min_fraction:.0f} % of the targets present)")
            targets.positions = targets.positions[keep]
            time = time[keep]
    if scale_segments == "auto":
        ov = scale_from_joint_centres(model, kern, p, targets)
        if ov:
            p = model.parameters(height=height, mass=mass, **ov)
            notes.append("segment lengths from joint centres: " +
                         ", ".join(f"{k} {v:.3f} m" for k, v in ov.items()))
            if any(b is not None for b in targets.bodies):   # body-fixed rows follow the new p
                positions = targets.positions
                targets = resolve(ms, source.labels, pos, model, p)
                targets.positions = positions
    res = solve_ik(model, kern, p, targets, time, mode=mode, **ik_kwargs)
    dropped, kept = [], []
    if drop_bad:
        res, dropped, kept = _drop_bad_markers(model, kern, p, targets, time, rate, res, mode,
                                               ik_kwargs, drop_min)
    res.notes = notes + res.notes + [d.text() for d in dropped] + kept
    res.offset = offset
    res.report = ik_report(res, choice, max_rms, planar=planar)
    res.report.dropped = [d.to_dict() for d in dropped]
    if not res.report.passed:
        raise _ik_failure(model, kern, p, ms, choice, source.labels, pos, keep, res, res.report,
                          max_rms, ik_kwargs, extra=dropped, kept=kept)
    return res, p, targets


def target_bodies(model, targets: ResolvedTargets) -> List[Optional[str]]:
    """The body each target moves with: its body-fixed entry's body, else the body of the model
    points its row combines (None where they lie on several bodies)."""
    out = []
    pts = model.spec.points
    for i, row in enumerate(targets.A):
        b = targets.bodies[i] if i < len(targets.bodies) else None
        if b is None:
            bs = {pts[j].body for j in np.nonzero(row)[0]}
            b = bs.pop() if len(bs) == 1 else None
        out.append(b)
    return out


def body_frame_residuals(model, kern, p, targets: ResolvedTargets, res: IKResult, bodies=None):
    """(T, m) distance (m) of each target from its fitted point once the residual's median in the
    target's body frame is taken away: what a re-fitted body-fixed offset cannot explain (a
    mislabelled, swapped or slipping marker), unlike a marker merely placed elsewhere on its
    body.  Targets without a single body (``bodies``: :func:`target_bodies`) keep their plain
    distance; a body without anchors uses its nearest ancestor's frame."""
    bodies = target_bodies(model, targets) if bodies is None else bodies
    r = np.asarray(targets.positions, float) - res.fitted
    d = np.linalg.norm(r, axis=-1)
    anchors = body_anchors(model, p)
    _, parents, _, _ = model_tree(model, p)
    with single_thread(res.q.shape[0] < 64):
        P = kern.points(np.ascontiguousarray(res.q), p)
    frames = {}
    for i, b in enumerate(bodies):
        while b is not None and b in anchors and not anchors[b].usable:
            b = parents.get(b)
        if b is None or b not in anchors:
            continue
        if b not in frames:
            frames[b] = body_poses(anchors[b], P)[0]
        loc = np.einsum("tji,tj->ti", frames[b], r[:, i])
        if not np.isfinite(loc).any():
            continue
        d[:, i] = np.linalg.norm(loc - np.nanmedian(loc, axis=0), axis=-1)
    return d


def _drop_bad_markers(model, kern, p, targets, time, rate, res, mode, ik_kwargs, minimum=DROP_MIN):
    """Leave out bad markers one at a time, the worst first, solving again after each (module
    docstring).  Returns ``(IKResult, [DroppedMarker], [notes on bad markers kept])``;
    ``targets.positions`` is NaN where a marker was left out."""
    bodies = target_bodies(model, targets)
    root = model.spec.bodies[0].name
    limit = max(1, int(MAX_DROPPED * len(targets.names)))
    dropped, kept, skip = [], [], set()
    while len(dropped) < limit:
        Y = targets.positions
        err = np.linalg.norm(res.fitted - Y, axis=-1)
        off = body_frame_residuals(model, kern, p, targets, res, bodies)
        found = bad_marker(err, rate, skip, off, minimum=minimum)
        if found is None:
            break
        i, frames, r, med = found
        name, body = targets.names[i], bodies[i]
        present = np.all(np.isfinite(Y), axis=-1)
        sel = frames & present[:, i]
        r_off = float(np.sqrt(np.mean(off[sel, i] ** 2)))
        n_ok = present.sum(0)
        med_off = float(np.median(np.sqrt(np.nansum(off ** 2, axis=0)[n_ok > 0] / n_ok[n_ok > 0])))
        if body is not None:
            same = [j for j, b in enumerate(bodies) if b == body and j != i]
            left = int(present[frames][:, same].all(0).sum()) if same else 0
            need = MIN_ROOT_MARKERS if body == root else 1
            if left < need:
                skip.add(i)
                kept.append(f"marker {name} fits badly ({1000 * r:.0f} mm RMS, median marker "
                            f"{1000 * med:.0f} mm) but is kept: body {body} would keep {left} "
                            f"marker(s) where it is bad, fewer than {need}")
                continue
        again = [d for d in dropped if d.marker == name]
        if again:   # bad once more where it was kept: a recurring fault, left out of every frame
            dropped.remove(again[0])
            frames = np.ones_like(frames)
        runs = true_runs(frames)
        dropped.append(DroppedMarker(marker=name, rms_mm=1000 * r, median_mm=1000 * med,
                                     offset_rms_mm=1000 * r_off, offset_median_mm=1000 * med_off,
                                     frames=[(int(a), int(b)) for a, b in runs],
                                     times=[(float(time[a]), float(time[b - 1])) for a, b in runs],
                                     whole=bool(frames.all())))
        targets.positions = Y.copy()
        targets.positions[frames, i] = np.nan
        res = solve_ik(model, kern, p, targets, time, mode=mode, **ik_kwargs)
    return res, dropped, kept
