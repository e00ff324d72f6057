"""Baselines without learning, scored beside the networks in the subject-wise protocol
(:mod:`training.protocol`): same test subjects, same frames, same metrics (:mod:`training.metrics`).

``zmp`` — physics only: the ground reaction of Dijkstra & Gutierrez-Farewik (2015, J Biomech
48:3776, "Computation of ground reaction force using Zero Moment Point").  The whole body's
momentum gives the total external wrench (our model: the root residual with zero contact wrenches,
``root_residual(q, q̇, q̈, 0, p)``); its zero-moment point on the ground is the centre of pressure of
the total reaction; contact phases come from kinematics (foot height and speed,
:func:`symgait.forces.contacts.labels_from_kinematics`); in single support the whole reaction acts
on the stance foot, in flight there is none, and across double support the load passes from the
trailing foot to the leading one by a smooth transition function of time between heel strike and
toe off.  Implemented with :mod:`symgait.forces.derived` (the same residual distribution that
labels motion without plates), with these choices, where the paper may differ:

* the transition function is the cubic ramp ``3s² − 2s³`` of
  :func:`symgait.forces.derived.contact_weights`, the same for every force and moment
  component (Ren, Jones & Howard (2008)'s smooth transition assumption, which the paper builds
  on, shapes the components differently);
* each foot's centre of pressure: the ZMP where one foot carries the load; in double support each
  foot's COP is its own lowest foot point moved by one common horizontal offset chosen so that
  the load-weighted mean of the two COPs is the ZMP (the relation between the ZMP and the feet's
  COPs; the total force *and* moment stay the motion's exactly), the free moment shared like the
  force;
* frames where kinematics put no foot on the ground get no force (in walking a detection miss);
  double support at a trial's ends, with no trailing foot known, is shared by foot height
  (:func:`~symgait.forces.derived.contact_weights`).

``meancurve`` — the training subjects' mean force curve: per activity class and foot, every
complete stance of the measured forces (vertical force above ``STANCE_N``) of the training
trials, per kg, in the trial's heading frame (anterior-posterior, vertical, medio-lateral),
time-normalised to ``N_PHASE`` points and averaged; on a test trial it is placed on that trial's
own kinematic stance phases (stretched to each; a stance cut by the trial's start or end gets the
training stances' mean duration), zero in swing.  Its force acts at the foot's lowest point with
no free moment (moments, centre of pressure and joint torques follow from that; the curve itself
carries forces only) — the mean-curve baseline of GaitDynamics (Tan et al., ASB 2024). A foot
with no complete stance of an activity in the training trials gets the other foot's curve,
mirrored (its medio-lateral component negated; the curve records which feet, ``mirrored``); an
activity with none on either foot gets the curve of all activities, with a warning.

Both predictions are ``{"w" (T, nc, 6), "JT" (T, n_act)}`` like a network's, joint torques by
inverse dynamics with the baseline's wrenches.
"""
from __future__ import annotations

import warnings
from typing import Dict, List, Optional, Sequence as Seq, Tuple

import numpy as np

from symgait.datasets.discover import activity_class
from symgait.forces.contacts import foot_point_indices, labels_from_kinematics
from symgait.forces.derived import contact_weights, transport_matrices
from symgait.signals.runs import true_runs
from symgait.trials.augment import S, swap_side
from .metrics import GROUND, stance

__all__ = ["BASELINES", "N_PHASE", "kinematic_contacts", "zmp_wrenches", "zmp_prediction",
           "heading", "stance_phases", "mean_curves", "mean_curve_prediction", "predictions_of"]

BASELINES = {"zmp": "ZMP (physics only)", "meancurve": "mean curve"}
N_PHASE = 101          # points of a time-normalised stance


def _arrays(seq):
    T = len(seq)
    p = np.ascontiguousarray(np.broadcast_to(np.asarray(seq.p, float), (T, len(seq.p))))
    return (np.ascontiguousarray(np.asarray(x, float)) for x in (seq.q, seq.qd, seq.qdd)), p


def kinematic_contacts(model, kern, seq) -> Dict[str, np.ndarray]:
    """Contact phases from the motion alone: ``labels`` (T, nc) bool
    (:func:`~symgait.forces.contacts.labels_from_kinematics`, default thresholds), ``height``
    (T, nc) lowest foot point above its trial minimum (m), ``anchor`` (T, nc, 3) each foot's
    lowest point put on the ground plane."""
    (q, _, _), p = _arrays(seq)
    P = np.asarray(kern.points(q, p))
    fidx = foot_point_indices(model)
    lab, det = labels_from_kinematics(P, seq.rate, fidx)
    names = list(model.contacts)
    height = np.stack([det[f"{c}_min_height"] for c in names], 1)
    anchor = np.empty((len(seq), len(names), 3))
    for ci, c in enumerate(names):
        ids = np.asarray(fidx[c])
        j = ids[np.argmin(P[:, ids, 1], axis=1)]
        anchor[:, ci] = P[np.arange(len(seq)), j]
    anchor[..., 1] = GROUND
    return dict(labels=lab, height=height, anchor=anchor)


def zmp_wrenches(model, kern, seq, *, labels=None) -> Dict[str, np.ndarray]:
    """The ``zmp`` baseline's wrenches (module docstring): ``w`` (T, nc, 6), ``weights``
    (T, nc) the load shares, ``labels`` (T, nc) the contact phases used (kinematic unless
    given), ``total`` (T, nc, 6) the motion's whole external wrench about each contact origin."""
    (q, qd, qdd), p = _arrays(seq)
    kc = kinematic_contacts(model, kern, seq)
    lab = kc["labels"] if labels is None else np.asarray(labels, bool)
    r0, T = transport_matrices(kern, q, qd, qdd, p)
    total = np.linalg.solve(T, np.broadcast_to(r0[:, None, :, None], T.shape[:3] + (1,)))[..., 0]
    a = contact_weights(lab, kc["height"])["weights"]
    a[~lab.any(1)] = 0.0                                     # no foot on the ground: no force
    w = a[..., None] * total
    F = total[:, 0, :3]                                      # the same force about every origin
    d = kc["anchor"] - np.einsum("tc,tcx->tx", a, kc["anchor"])[:, None, :]
    d[..., 1] = 0.0
    w[..., 3:] += a[..., None] * np.cross(d, F[:, None, :])  # Σ a_c d_c = 0: total moment kept
    return dict(w=w, weights=a, labels=lab, total=total)


def _with_torques(kern, seq, w) -> dict:
    (q, qd, qdd), p = _arrays(seq)
    tau = np.asarray(kern.inverse_dynamics(q, qd, qdd, np.ascontiguousarray(w), p))
    idx = list(seq.actuated_indices)
    return dict(w=np.asarray(w, float), JT=tau[:, idx])


def zmp_prediction(model, kern, seq) -> dict:
    """``{"w", "JT"}`` of the ``zmp`` baseline on ``seq`` (its labels are not used)."""
    return _with_torques(kern, seq, zmp_wrenches(model, kern, seq)["w"])


def heading(model, kern, seq) -> np.ndarray:
    """(3,) horizontal unit vector the subject faces over the trial: the mean direction from each
    foot's contact origin (calcaneus) to the mean of its foot points."""
    (q, _, _), p = _arrays(seq)
    P = np.asarray(kern.points(q, p))
    o = np.asarray(kern.contact_points(q, p))
    fidx = foot_point_indices(model)
    v = sum((P[:, fidx[c]].mean(1) - o[:, ci]).mean(0) for ci, c in enumerate(model.contacts))
    v[1] = 0.0
    n = np.linalg.norm(v)
    return v / n if n > 0 else np.array([1.0, 0.0, 0.0])


def _frame(e) -> np.ndarray:
    """(3, 3) rows: anterior-posterior, vertical, medio-lateral (right) unit vectors."""
    return np.array([e, [0.0, 1.0, 0.0], [-e[2], 0.0, e[0]]])


def stance_phases(on, rate: float, duration: Optional[float] = None) -> np.ndarray:
    """(T,) stance phase in [0, 1] of one foot's stance flags ``on`` (T,), NaN in swing: each run
    of stance stretched from 0 to 1; a run cut by the first or last frame, given the mean stance
    ``duration`` (s), keeps that duration (phase counted from its known end) unless it is longer."""
    on = np.asarray(on, bool)
    ph = np.full(on.shape, np.nan)
    for t0, t1 in true_runs(on):
        n = t1 - t0
        k = np.arange(n, dtype=float)
        full = n if duration is None else max(n, int(round(duration * rate)))
        if t0 == 0 and t1 < on.size and full > n:
            ph[t0:t1] = 1.0 - (n - 1 - k) / max(full - 1, 1)
        elif t1 == on.size and t0 > 0 and full > n:
            ph[t0:t1] = k / max(full - 1, 1)
        else:
            ph[t0:t1] = k / max(n - 1, 1)
    return ph


def mean_curves(model, kern, entries, n: int = N_PHASE) -> Dict[str, dict]:
    """{activity class | "all": dict(curve (nc, n, 3) N/kg as (AP, vertical, ML), duration (s),
    stances (nc,) count)} over the complete measured stances of ``entries``
    (``[(index row, Sequence)]`` labelled training sequences)."""
    grid = np.linspace(0.0, 1.0, n)
    acc: Dict[str, dict] = {}
    for row, seq in entries:
        if seq.label_kind == "none":
            continue
        w = np.asarray(seq.w, float)
        if not np.isfinite(w).all():
            continue
        R = _frame(heading(model, kern, seq))
        f = np.einsum("ij,tcj->tci", R, w[..., :3]) / seq.mass
        on = stance(w)
        for key in ("all", activity_class(row.get("activity", ""))):
            a = acc.setdefault(key, dict(sum=np.zeros((w.shape[1], n, 3)), count=np.zeros(w.shape[1]),
                                         durations=[]))
            for ci in range(w.shape[1]):
                for t0, t1 in true_runs(on[:, ci]):
                    if t0 == 0 or t1 == len(seq) or t1 - t0 < 4:
                        continue                                 # incomplete or a blip
                    s = np.linspace(0.0, 1.0, t1 - t0)
                    a["sum"][ci] += np.stack([np.interp(grid, s, f[t0:t1, ci, k]) for k in range(3)], -1)
                    a["count"][ci] += 1
                    a["durations"].append((t1 - t0) / seq.rate)
    partner = [model.contacts.index(swap_side(c)) if swap_side(c) in model.contacts else ci
               for ci, c in enumerate(model.contacts)]
    out = {}
    for key, a in acc.items():
        count = a["count"]
        curve = a["sum"] / np.maximum(count, 1)[:, None, None]
        mirrored = []
        for ci in range(len(count)):
            if not count[ci] and count[partner[ci]]:      # a foot with no complete stance here: the
                curve[ci] = curve[partner[ci]] @ S          # other foot's, mirrored (ML flips)
                mirrored.append(model.contacts[ci])
        if not all(count[ci] or model.contacts[ci] in mirrored for ci in range(len(count))):
            continue
        out[key] = dict(curve=curve, duration=float(np.mean(a["durations"])), stances=count.astype(int),
                        mirrored=mirrored)
    return out


def mean_curve_prediction(model, kern, seq, curves: Dict[str, dict], activity: str = "") -> dict:
    """``{"w", "JT"}`` of the ``meancurve`` baseline on ``seq``: the curve of ``activity``'s
    class (else of all activities) on the trial's kinematic stance phases (module docstring)."""
    act = activity_class(activity)
    c = curves.get(act)
    if c is None:
        c = curves.get("all")
        if c is None:
            raise ValueError("mean_curve_prediction: no complete stance in the training sequences")
        warnings.warn(f"mean curve: the training sequences hold no complete {act} stance; {seq.name!r} gets "
                      "the curve of all activities", stacklevel=2)
    kc = kinematic_contacts(model, kern, seq)
    R = _frame(heading(model, kern, seq))
    grid = np.linspace(0.0, 1.0, c["curve"].shape[1])
    T, nc = kc["labels"].shape
    F = np.zeros((T, nc, 3))
    for ci in range(nc):
        ph = stance_phases(kc["labels"][:, ci], seq.rate, c["duration"])
        on = np.isfinite(ph)
        loc = np.stack([np.interp(ph[on], grid, c["curve"][ci, :, k]) for k in range(3)], -1)
        F[on, ci] = loc @ R * seq.mass                     # (AP, V, ML) → world
    (q, _, _), p = _arrays(seq)
    o = np.asarray(kern.contact_points(q, p))
    M = np.cross(kc["anchor"] - o, F)
    return _with_torques(kern, seq, np.concatenate([F, M], -1))


def predictions_of(name: str, model, kern, test: Seq[Tuple[dict, object]],
                   train: Seq[Tuple[dict, object]] = ()) -> List[dict]:
    """The predictions of baseline ``name`` (a key of :data:`BASELINES`) on ``test``
    (``[(index row, Sequence)]``); ``meancurve`` averages ``train`` (the same kind of pairs)."""
    if name == "zmp":
        return [zmp_prediction(model, kern, s) for _, s in test]
    if name == "meancurve":
        curves = mean_curves(model, kern, train)
        return [mean_curve_prediction(model, kern, s, curves, r.get("activity", "")) for r, s in test]
    raise ValueError(f"unknown baseline {name!r}; known: {', '.join(BASELINES)}")
