"""Dynamics labels without force plates (CMU): contact wrenches that make the root residual
zero by construction, and the joint torques they imply.

Rule (documented, deterministic)
--------------------------------
1. The root residual with no contact forces, ``r0 = root_residual(q, q̇, q̈, w=0)`` (world
   force and moment about the pelvis origin), is the total external wrench the motion needs.
2. It is shared between the contacts with weights ``α_c(t) ≥ 0``, ``Σ_c α_c = 1``, and each share
   is moved to its contact body's origin: ``w_c = α_c · T_c⁻¹ r0`` where ``T_c`` transports a
   wrench from contact c's origin to the root (obtained by probing ``root_residual`` with unit
   wrenches, so any model works).  Then ``root_residual(q, q̇, q̈, w) = r0 - Σ_c T_c w_c = 0``
   exactly (to round-off) whatever the weights.
3. Weights from contact labels (:func:`contact_weights`), the *smooth transition assumption*
   (Ren, Jones & Howard 2008): single support → 1 on the stance foot; in each double-support
   interval the load passes from the trailing foot (the one in contact before the interval) to
   the leading foot with the smooth ramp ``3s² - 2s³`` (s: 0 → 1 across the interval); double
   support at the start/end of a trial (no trailing foot known) → weights ∝ inverse foot
   height; frames with no foot labelled (flight, or a detection miss) → everything on the lowest
   foot, and these frames are reported (``flight_frames``): there the residual is a modelling or
   kinematics error, not a ground reaction.

Labels made this way are marked ``label_kind="derived"``; measured plate data are ``"measured"``
(see :mod:`symgait.datasets.cache`), and the two are never mixed within a sequence.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List

import numpy as np
from .contacts import foot_point_indices, labels_from_kinematics

__all__ = ["transport_matrices", "distribute_residual", "contact_weights", "DerivedLabels",
           "derive_labels"]


def transport_matrices(kern, q, qd, qdd, p):
    """``(r0 (B, 6), T (B, nc, 6, 6))``: residual at w = 0 and, per contact, the matrix mapping
    a contact wrench to its effect on the root wrench (``residual(w) = r0 - Σ_c T_c w_c``)."""
    q = np.asarray(q, float)
    B, nq = q.shape
    nc = kern.model.n_contacts
    w0 = np.zeros((B, nc, 6))
    r0 = kern.root_residual(q, qd, qdd, w0, p)
    k = 6 * nc
    Q = np.repeat(q, k, 0)
    Qd = np.repeat(np.asarray(qd, float), k, 0)
    Qdd = np.repeat(np.asarray(qdd, float), k, 0)
    W = np.zeros((B, k, nc, 6))
    for i in range(k):
        W[:, i, i // 6, i % 6] = 1.0
    P = np.asarray(p, float)
    if P.ndim == 2:
        P = np.repeat(P, k, 0)
    r = kern.root_residual(Q, Qd, Qdd, W.reshape(B * k, nc, 6), P).reshape(B, k, 6)
    T = -(r - r0[:, None, :])                     # (B, k, 6): column i = T e_i
    T = np.transpose(T.reshape(B, nc, 6, 6), (0, 1, 3, 2))
    return r0, T


def distribute_residual(kern, q, qd, qdd, p, weights) -> np.ndarray:
    """Contact wrenches ``w`` (B, nc, 6) with ``root_residual(q, q̇, q̈, w) = 0`` that share the
    required external wrench with ``weights`` (B, nc) (normalised here; see module docstring)."""
    a = np.asarray(weights, float)
    s = a.sum(1, keepdims=True)
    if np.any(s <= 0):
        raise ValueError("distribute_residual: every frame needs a positive weight sum")
    a = a / s
    r0, T = transport_matrices(kern, q, qd, qdd, p)
    W = np.linalg.solve(T, np.broadcast_to(r0[:, None, :, None], T.shape[:3] + (1,)))[..., 0]
    return a[..., None] * W


def _ramp(s):
    s = np.clip(s, 0.0, 1.0)
    return 3 * s ** 2 - 2 * s ** 3


def contact_weights(labels, foot_height=None) -> Dict[str, np.ndarray]:
    """Weights ``α`` (T, nc) from contact labels (T, nc) bool by the smooth transition rule (two
    contacts; with other counts, equal shares among the labelled contacts).  ``foot_height``
    (T, nc) m (lowest foot point above its trial minimum) breaks ties where no trailing foot is
    known and picks the foot for unlabelled frames.  Returns ``{"weights", "flight_frames"}``.
    """
    L = np.asarray(labels, bool)
    T, nc = L.shape
    h = np.zeros((T, nc)) if foot_height is None else np.asarray(foot_height, float)
    a = np.zeros((T, nc))
    n_on = L.sum(1)
    single = n_on == 1
    a[single] = L[single]
    flight = n_on == 0
    if flight.any():
        low = np.argmin(h[flight], axis=1)
        a[np.nonzero(flight)[0], low] = 1.0
    if nc != 2:
        multi = n_on >= 2
        a[multi] = L[multi] / n_on[multi, None]
        return {"weights": a, "flight_frames": np.nonzero(flight)[0]}
    both = n_on == 2
    t = 0
    while t < T:
        if not both[t]:
            t += 1
            continue
        t0 = t
        while t < T and both[t]:
            t += 1
        t1 = t  # interval [t0, t1)
        trailing = None
        if t0 > 0 and single[t0 - 1]:
            trailing = int(np.argmax(L[t0 - 1]))
        elif t1 < T and single[t1]:
            trailing = 1 - int(np.argmax(L[t1]))  # the foot that stays is the leading one
        n = t1 - t0
        if trailing is None or (t0 == 0 and t1 == T):
            inv = 1.0 / (h[t0:t1] + 0.01)
            a[t0:t1] = inv / inv.sum(1, keepdims=True)
            continue
        s = (np.arange(n) + 0.5) / n
        if t0 == 0:      # interval open at the start: only its end is known
            s = s * 0.5 + 0.5
        elif t1 == T:    # open at the end
            s = s * 0.5
        wt = 1.0 - _ramp(s)
        a[t0:t1, trailing] = wt
        a[t0:t1, 1 - trailing] = 1.0 - wt
    return {"weights": a, "flight_frames": np.nonzero(flight)[0]}


@dataclass
class DerivedLabels:
    """Derived dynamics labels of one trial (``label_kind = "derived"``).

    ``w`` (T, nc, 6) contact wrenches (model convention), ``tau`` (T, nq) generalized forces
    (root rows ≈ 0: the residual), ``labels`` (T, nc) bool, ``weights`` (T, nc),
    ``residual_before`` (T, 6) root residual with no contact forces, ``residual_after`` (T, 6)
    with ``w`` (zero to round-off), ``flight_frames``.
    """
    w: np.ndarray
    tau: np.ndarray
    labels: np.ndarray
    weights: np.ndarray
    residual_before: np.ndarray
    residual_after: np.ndarray
    flight_frames: np.ndarray
    label_kind: str = "derived"
    notes: List[str] = field(default_factory=list)


def derive_labels(model, kern, q, qd, qdd, p, rate: float, *, labels=None,
                  height: float = 0.04, speed: float = 0.8) -> DerivedLabels:
    """Contact labels from foot kinematics (unless given), weights by the smooth transition
    rule, wrenches by :func:`distribute_residual`, torques by inverse dynamics."""

    q = np.asarray(q, float)
    P = kern.points(q, p)
    fidx = foot_point_indices(model)
    lab_k, det = labels_from_kinematics(P, rate, fidx, height=height, speed=speed)
    if labels is None:
        labels = lab_k
    fh = np.stack([det[f"{c}_min_height"] for c in model.contacts], 1)
    cw = contact_weights(labels, fh)
    w = distribute_residual(kern, q, qd, qdd, p, cw["weights"])
    tau = kern.inverse_dynamics(q, qd, qdd, w, p)
    r0 = kern.root_residual(q, qd, qdd, np.zeros_like(w), p)
    r1 = kern.root_residual(q, qd, qdd, w, p)
    notes = []
    if cw["flight_frames"].size:
        notes.append(f"{cw['flight_frames'].size} frames with no foot in contact: their residual "
                     "was put on the lowest foot")
    return DerivedLabels(w=w, tau=tau, labels=np.asarray(labels, bool), weights=cw["weights"],
                         residual_before=r0, residual_after=r1, flight_frames=cw["flight_frames"],
                         notes=notes)
