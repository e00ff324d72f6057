"""Built-in synthetic gait set: parametric walking for ``planar`` / ``gait3d`` (any model with
their coordinate names), physically consistent through the residual distribution of
:mod:`symgait.forces.derived` (root residual zero by construction), needing no data files.

Pattern (per sequence, randomised by ``seed``): a gait cycle of period ``1/cadence`` (0.95-1.15
s); sagittal joint angles are periodic cubic splines through normative key points of adult
walking (Winter 2009, Perry 1992: hip 30° flexion at heel strike to -10° extension at toe-off,
knee 5-18° stance flexion and ~60° swing peak, ankle -6° plantarflexion after heel strike, +10°
dorsiflexion in late stance, -18° at toe-off), scaled by 0.85-1.15 and the left side half a cycle
later; small pelvis/lumbar oscillations and (``gait3d``) frontal/transverse motion (pelvis list
±4°, rotation ±5°, hip adduction/rotation, subtalar).  Stance: right foot on 0-60 % of the cycle,
left 50-110 % (10 % double support).

The root follows from the feet: with the pelvis at the origin the feet move relative to it; the
pelvis's horizontal velocity is minus the stance-weighted velocity of the feet's lowest sole
points (smooth-transition weights), and its height puts the stance foot's lowest sole point on
the ground; both are low-passed at ``root_cutoff`` (3 Hz: the stance foot slides by a few cm
per step, in exchange the centre of mass moves smoothly, which is what the ground reactions
depend on).  Coordinates are low-passed (8 Hz), differentiated, and the wrenches distributed;
``label_kind = "derived"``, ``source = "synthetic"``.
"""
from __future__ import annotations

from typing import List, Optional

import numpy as np

from ..signals.runs import true_runs
from ..forces.contacts import foot_point_indices
import symgait
from ..trials.sequence import Sequence
from .cache import SequenceCache
from ..forces.derived import contact_weights, distribute_residual
from ..signals.kinematics import filtered_kinematics
from ..signals.filters import lowpass, velocity

__all__ = ["synthetic_gait", "gait_pattern", "KEYPOINTS"]

# (phase, degrees) key points of the right side; heel strike at phase 0
KEYPOINTS = {
    "hip_flexion": [(0.0, 30), (0.12, 25), (0.3, 8), (0.5, -8), (0.6, -4), (0.75, 22), (0.87, 32)],
    "knee_angle": [(0.0, -5), (0.15, -18), (0.4, -5), (0.6, -38), (0.73, -62), (0.87, -30),
                   (0.96, -4)],
    "ankle_angle": [(0.0, 0), (0.08, -6), (0.3, 7), (0.48, 10), (0.62, -18), (0.75, -2),
                    (0.9, 2)],
}


def _periodic(points, phase, scale=1.0):
    from scipy.interpolate import CubicSpline
    x = np.array([p for p, _ in points] + [1.0])
    y = np.radians(np.array([v for _, v in points] + [points[0][1]], float)) * scale
    return CubicSpline(x, y, bc_type="periodic")(phase % 1.0)


def gait_pattern(model, t, *, cadence: float = 0.9, scale: float = 1.0, rng=None) -> np.ndarray:
    """Joint coordinates (T, nq) at times ``t`` (root translations 0; see module docstring)."""
    rng = np.random.default_rng(rng)
    q = np.zeros((t.size, model.nq))
    idx = {c: i for i, c in enumerate(model.coordinates)}
    ph = cadence * t
    for side, off in (("r", 0.0), ("l", 0.5)):
        for base, pts in KEYPOINTS.items():
            c = f"{base}_{side}"
            if c in idx:
                q[:, idx[c]] = _periodic(pts, ph - off, scale * rng.uniform(0.95, 1.05))
    two = 2 * np.pi * ph

    def put(name, value):
        if name in idx:
            q[:, idx[name]] = value

    d = np.radians
    put("pelvis_tilt", d(-3.0) + d(2.0) * np.sin(2 * two + rng.uniform(0, 6.28)))
    put("lumbar_extension", d(-5.0) + d(2.0) * np.sin(2 * two + rng.uniform(0, 6.28)))
    put("pelvis_list", d(4.0) * np.sin(two))
    put("pelvis_rotation", d(5.0) * np.cos(two))
    put("lumbar_bending", -d(3.0) * np.sin(two))
    put("lumbar_rotation", -d(4.0) * np.cos(two))
    for side, off in (("r", 0.0), ("l", 0.5)):
        s = 2 * np.pi * (ph - off)
        put(f"hip_adduction_{side}", d(3.0) + d(4.0) * np.sin(s + 0.3))
        put(f"hip_rotation_{side}", d(3.0) * np.sin(s))
        put(f"subtalar_angle_{side}", d(3.0) * np.sin(s + 1.0))
    return q


def _stance(t, cadence, n_contacts):
    ph = (cadence * t) % 1.0
    r = ph < 0.6
    l = (ph >= 0.5) | (ph < 0.1)
    lab = np.stack([r, l], 1)
    return lab[:, :n_contacts]


def _balance(model, kern, p, q, qd, qdd, lab, a, rate):
    """Add a horizontal root motion δ(t) so that the centre of pressure of the required ground
    reaction follows heel → toe of the stance foot (weighted in double support).

    The residual at w = 0 is invariant to translating the whole body and linear in the root's
    horizontal acceleration, so the COP condition (no horizontal moment about the COP) is a
    per-frame linear equation for δ̈ (x, and z for 3-D roots); δ is its double integral with the
    mean velocity removed (the walking speed is kept)."""
    idx = {c: i for i, c in enumerate(model.coordinates)}
    cols = [idx[c] for c in ("pelvis_tx", "pelvis_tz") if c in idx]
    T = q.shape[0]
    w0 = np.zeros((T, model.n_contacts, 6))
    r0 = kern.root_residual(q, qd, qdd, w0, p)
    A = []
    for j in cols:
        e = qdd.copy()
        e[:, j] += 1.0
        A.append(kern.root_residual(q, qd, e, w0, p) - r0)
    A = np.stack(A, -1)                                          # (T, 6, k)
    P = kern.points(q, p)
    pidx = {n: i for i, n in enumerate(model.points)}
    fidx = foot_point_indices(model)
    target = np.zeros((T, 3))
    for ci, c in enumerate(model.contacts):
        side = c.split("_")[-1]
        ids = np.asarray(fidx[c])
        heel = P[:, pidx[f"heel_{side}"]] if f"heel_{side}" in pidx else P[np.arange(T), ids[np.argmin(P[:, ids, 0], 1)]]
        toe = P[:, pidx[f"toe_{side}"]] if f"toe_{side}" in pidx else P[np.arange(T), ids[np.argmax(P[:, ids, 0], 1)]]
        s = np.zeros(T)
        for t0, t1 in true_runs(lab[:, ci]):
            s[t0:t1] = (np.arange(t1 - t0) + 0.5) / (t1 - t0)
        cop = heel + (0.1 + 0.75 * s)[:, None] * (toe - heel)
        target += a[:, ci, None] * cop
    o = q[:, [idx["pelvis_tx"], idx["pelvis_ty"], idx.get("pelvis_tz", idx["pelvis_tx"])]].copy()
    if "pelvis_tz" not in idx:
        o[:, 2] = 0.0
    F, M = r0[:, :3], r0[:, 3:]
    AF, AM = A[:, :3], A[:, 3:]
    oy = o[:, 1]
    ux = target[:, 0] - o[:, 0]
    uz = target[:, 2] - o[:, 2]
    # x: (M_z + AM_z d) - oy (F_x + AF_x d) = ux F_y ;  z: -(M_x + AM_x d) - oy (F_z + AF_z d) = uz F_y
    rows = [AM[:, 2] - oy[:, None] * AF[:, 0]]
    rhs = [ux * F[:, 1] - M[:, 2] + oy * F[:, 0]]
    if len(cols) == 2:
        rows.append(-AM[:, 0] - oy[:, None] * AF[:, 2])
        rhs.append(uz * F[:, 1] + M[:, 0] + oy * F[:, 2])
    Amat = np.stack(rows, 1)                                     # (T, k, k)
    b = np.stack(rhs, 1)
    ok = F[:, 1] > 50.0
    dd = np.zeros((T, len(cols)))
    dd[ok] = np.linalg.solve(Amat[ok], b[ok][..., None])[..., 0]
    dd -= dd.mean(0)              # no net acceleration: keep the walking speed
    dv = np.cumsum(dd, 0) / rate
    dv -= dv.mean(0)
    dx = np.cumsum(dv, 0) / rate
    dx -= dx.mean(0)
    q, qd, qdd = q.copy(), qd.copy(), qdd.copy()
    for k, j in enumerate(cols):
        q[:, j] += dx[:, k]
        qd[:, j] += dv[:, k]
        qdd[:, j] += dd[:, k]
    return q, qd, qdd


def synthetic_gait(model="planar", n_sequences: int = 4, seconds: float = 4.0, rate: float = 100.0,
                   seed: int = 0, height: Optional[float] = None, mass: Optional[float] = None,
                   kern=None, cache=None, root_cutoff: float = 3.0, balance: bool = True) -> List["Sequence"]:  # noqa: F821
    """``n_sequences`` synthetic walking sequences (:class:`~symgait.trials.sequence.Sequence`).

    Subjects are drawn per sequence (height 1.60-1.90 m, BMI 20-27) unless given.  With
    ``cache`` (a :class:`~symgait.datasets.cache.SequenceCache`) the sequences are stored and
    reused.
    """

    if isinstance(model, str):
        model = symgait.load_model(model)
    kern = kern or symgait.kernels(model)
    out = []
    for k in range(n_sequences):
        key = None
        if cache is not None:
            key = SequenceCache.key(kind="synthetic", model=model.name, sha=model.source_hash,
                                    k=k, seed=seed, seconds=seconds, rate=rate, height=height,
                                    mass=mass, version=2)
            cached = cache.load(key)
            if cached is not None:
                out.append(cached)
                continue
        rng = np.random.default_rng([seed, k])
        h = height or float(rng.uniform(1.60, 1.90))
        mss = mass or float(rng.uniform(20, 27) * h * h)
        p = model.parameters(height=h, mass=mss)
        cad = float(rng.uniform(1 / 1.15, 1 / 0.95))
        margin = 1.0
        n = int(round((seconds + 2 * margin) * rate))
        t = np.arange(n) / rate
        t0 = float(rng.uniform(0, 1 / cad))        # random start within the cycle
        q = gait_pattern(model, t + t0, cadence=cad, scale=float(rng.uniform(0.85, 1.15)), rng=rng)
        lab = _stance(t + t0, cad, model.n_contacts)
        # feet relative to the pelvis (root translations 0)
        P = kern.points(q, p)
        fidx = foot_point_indices(model)
        names = model.contacts
        low = np.stack([P[:, fidx[c], 1].min(1) for c in names], 1)             # (T, nc)
        cw = contact_weights(lab, low - low.min(0))
        a = cw["weights"]
        # anchor: the lowest sole point of each foot (x, z) and its velocity
        V = velocity(P, rate)
        va = []
        for c in names:
            ids = np.asarray(fidx[c])
            j = ids[np.argmin(P[:, ids, 1], axis=1)]
            va.append(V[np.arange(n), j][:, [0, 2]])
        va = np.stack(va, 1)                                                     # (T, nc, 2)
        v_pelvis = lowpass(-np.einsum("tc,tcx->tx", a, va), root_cutoff, rate)
        x = np.cumsum(v_pelvis, 0) / rate
        y = lowpass(-np.einsum("tc,tc->t", a, low), root_cutoff, rate)
        idx = {c: i for i, c in enumerate(model.coordinates)}
        q[:, idx["pelvis_tx"]] = x[:, 0] - x[int(margin * rate), 0]
        q[:, idx["pelvis_ty"]] = y
        if "pelvis_tz" in idx:
            q[:, idx["pelvis_tz"]] = x[:, 1] - np.mean(x[:, 1])
        qf, qd, qdd = filtered_kinematics(q, rate, cutoff=8.0)
        if balance:
            qf, qd, qdd = _balance(model, kern, p, qf, qd, qdd, lab, a, rate)
        s = slice(int(margin * rate), int(margin * rate) + int(round(seconds * rate)))
        qf, qd, qdd, lab_s, a_s = qf[s], qd[s], qdd[s], lab[s], a[s]
        w = distribute_residual(kern, qf, qd, qdd, p, a_s)
        tau = kern.inverse_dynamics(qf, qd, qdd, w, p)
        seq = Sequence(name=f"synthetic_{model.name}_{seed}_{k}", model=model.name, rate=rate,
                       time=np.arange(qf.shape[0]) / rate, q=qf, qd=qd, qdd=qdd, w=w, tau=tau,
                       contact=lab_s.astype(bool), p=p, mass=mss, height=h, source="synthetic",
                       label_kind="derived", coordinates=tuple(model.coordinates),
                       contacts=tuple(model.contacts), actuated=tuple(model.actuated))
        if cache is not None:
            seq.save(cache.path(key))
        out.append(seq)
    return out
