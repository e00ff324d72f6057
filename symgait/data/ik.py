"""Retargeting: markers or joint centres → model coordinates by inverse kinematics.

Per frame, Levenberg–Marquardt on the weighted squared distances between the source positions
``y_m`` (OpenSim axes, metres) and the matching model points ``A_m · P(q)`` (``P`` =
``kernels.points``; a row of ``A`` averages model points, see :mod:`symgait.data.markersets`),
with the generated point Jacobians (``kernels.point_jacobians``)::

    min_q  Σ_m w_m |A_m P(q) - y_m|² + Σ_j λ_j q_j²

The small Tikhonov term (``prior``, default 1e-5 per rad² on non-root coordinates, i.e. 3 mm of
marker error per rad) keeps coordinates the markers do not see (mtp without toe markers, lumbar
rotation from two shoulder points) at zero instead of drifting.

Warm start: each frame starts from the previous frame's solution extrapolated with its
velocity.  ``mode="batched"`` (default) solves every ``stride``-th frame sequentially that way,
then all frames at once in one batch (each frame its own damping) starting from the keyframes'
interpolation — the kernels are batched, so this is several times faster than the pure
``mode="sequential"`` sweep for long trials.  The first frame is initialised by a batched
root-only fit from several headings (the pelvis pose from the points that move with the root).

Reported: per-frame RMS (unweighted Euclidean distance over the targets present), per-target
RMS over the trial and the maximum, in metres (:class:`IKResult`).
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence

import numpy as np

from .markersets import ResolvedTargets

__all__ = ["IKResult", "solve_ik", "scale_from_joint_centres", "root_coordinates",
           "single_thread", "SEGMENT_PAIRS", "stick_figure"]


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

    @property
    def rate(self) -> float:
        return float((self.time.size - 1) / (self.time[-1] - self.time[0])) if self.time.size > 1 else float("nan")

    def summary(self) -> str:
        worst = sorted(self.target_rms.items(), key=lambda kv: -kv[1])[:3]
        return (f"IK: {self.q.shape[0]} frames, {len(self.targets.names)} targets, RMS "
                f"{1000 * np.nanmean(self.rms):.1f} mm mean / {1000 * np.nanmax(self.rms):.1f} mm worst "
                f"frame; largest per-target RMS: "
                + ", ".join(f"{n} {1000 * v:.1f} mm" for n, v in worst))


class _Problem:
    def __init__(self, model, kern, p, targets: ResolvedTargets, prior: float, root_prior: float):
        self.model, self.kern, self.p = model, kern, np.asarray(p, float)
        self.A = targets.A
        self.sw = np.sqrt(targets.weights)
        nq = model.nq
        self.lam_prior = np.full(nq, prior)
        self.lam_prior[root_coordinates(model)] = root_prior
        self.nz = np.nonzero(np.any(self.A != 0, axis=0))[0]   # model points in use
        self.Ar = self.A[:, self.nz]

    def residual(self, q, y, mask):
        P = self.kern.points(q, self.p)[:, self.nz]                       # (B, n, 3)
        r = np.einsum("mk,bkx->bmx", self.Ar, P) - y                       # (B, m, 3)
        r = np.where(mask[..., None], r, 0.0) * self.sw[None, :, None]
        return r

    def cost(self, q, y, mask):
        r = self.residual(q, y, mask)
        return np.sum(r ** 2, axis=(1, 2)) + np.sum(self.lam_prior * q ** 2, axis=1)

    def linearize(self, q, y, mask, cols=None):
        P = self.kern.points(q, self.p)[:, self.nz]
        J = self.kern.point_jacobians(q, self.p)[:, self.nz]                # (B, n, 3, nq)
        if cols is not None:
            J = J[..., cols]
        r = np.einsum("mk,bkx->bmx", self.Ar, P) - y
        Jr = np.einsum("mk,bkxj->bmxj", self.Ar, J)
        wm = (mask * self.sw[None, :])[..., None]
        r = np.where(mask[..., None], r, 0.0) * wm
        Jr = Jr * wm[..., None]
        B = q.shape[0]
        r = r.reshape(B, -1)
        Jr = Jr.reshape(B, r.shape[1], -1)
        return r, Jr


def _lm(prob: _Problem, q, y, mask, *, cols=None, max_iter=40, tol=1e-7, lam=1e-3):
    """Batched Levenberg–Marquardt; each sample its own damping.  Returns (q, iterations)."""
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
        g = np.einsum("bij,bi->bj", J, r) + lp * qa[:, cols]
        H = np.einsum("bij,bik->bjk", J, J) + np.diag(lp)
        dH = np.einsum("bjj->bj", H)
        Hd = H + (lam[idx, None] * (dH + 1e-9))[..., None] * np.eye(len(cols))
        step = -np.linalg.solve(Hd, g[..., None])[..., 0]
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
        model.spec.coordinate_frames()[i]].kind == "P"]
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
    return Q[int(np.argmin(c))]


def solve_ik(model, kern, p, targets: ResolvedTargets, time=None, *, mode: str = "batched",
             stride: int = 5, prior: float = 1e-5, root_prior: float = 0.0, max_iter: int = 40,
             q0=None, threads_for_small_batches: int = 1) -> IKResult:
    """Fit ``model`` at parameters ``p`` to ``targets`` (see the module docstring).

    ``time`` (T,) s (default frame index / 1).  ``q0`` (nq,) optional start for the first
    frame.  Frames where fewer than 3 targets are present keep the previous frame's solution
    (noted).
    """
    Y = np.asarray(targets.positions, float)
    T = Y.shape[0]
    mask = np.all(np.isfinite(Y), axis=-1)
    Yz = np.where(mask[..., None], Y, 0.0)
    prob = _Problem(model, kern, p, targets, prior, root_prior)
    notes = []
    time = np.arange(T, dtype=float) if time is None else np.asarray(time, float)
    q = np.zeros((T, model.nq))
    its = np.zeros(T, int)
    good = mask.sum(1) >= 3
    if not good.any():
        raise ValueError("no frame has 3 or more targets present")
    first = int(np.argmax(good))
    with single_thread(True):
        qs = _initial_pose(prob, Yz[first], mask[first]) if q0 is None else np.asarray(q0, float)
        if mode == "sequential":
            keys = np.arange(T)
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
            qt, it = _lm(prob, guess[None], Yz[t:t + 1], mask[t:t + 1], max_iter=max_iter)
            prev2, prev = prev, qt[0]
            solved[t] = qt[0]
            its[t] = it[0]
    kk = np.array(sorted(solved))
    if mode == "batched" and kk.size:
        Q0 = np.stack([np.interp(np.arange(T), kk, np.array([solved[k] for k in kk])[:, j])
                       for j in range(model.nq)], 1)
        rest = np.array([t for t in range(T) if t not in solved and good[t]], int)
        if rest.size:
            with single_thread(rest.size < 64):
                Qr, itr = _lm(prob, Q0[rest], Yz[rest], mask[rest], max_iter=max_iter)
            q[rest] = Qr
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
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path
