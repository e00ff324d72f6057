"""Kinematic residual reduction: small coordinate changes that make a motion agree with its plates.

Segment parameters cannot remove a root residual that varies within the trial (most of it does:
:mod:`symgait.trials.synchrony` splits it into its time-mean and varying parts).  What remains is
kinematic: coordinates low-passed at 6 Hz and fitted to markers that move on the skin are off by a
few millimetres, and a few millimetres at gait frequencies are a few N/kg.  As in OpenSim's
residual reduction algorithm (Delp et al. 2007) and AddBiomechanics' dynamics pass (Werling et al.
2023), the coordinates are changed within the marker error so that the motion and the measured
forces obey Newton and Euler together.

The unknowns are per-frame corrections ``δ`` (T, nq); the new motion is ``q + δ``, ``q̇ + D₁δ``,
``q̈ + D₂δ`` with ``D₁``, ``D₂`` the finite-difference operators at the trial's rate (second order
inside, one-sided at the ends).  The measured wrenches stay where the plates measured them (fixed
in the world: each one's moment about the world origin is kept, so a foot that moves does not drag
its centre of pressure along).  Gauss-Newton minimises

    Σ_t |r_t / m|²  +  weight · Σ_t Σ_j (δ_tj / σ_j)²

(``r`` the root residual force and moment, N/kg and N·m/kg; ``σ_j`` :data:`TRANSLATION_SCALE` for
translations, :data:`ROTATION_SCALE` for rotations), the Jacobian from the generated root-residual
VJP (six batched calls per iteration) and a sparse solve of the banded normal equations.  The
change is reported as the RMS and largest displacement of the model's points (joint centres and
contact points), to compare with the trial's marker RMS.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np

from ..errors import InputError
from .consistency import residual_rms

__all__ = ["KinematicFit", "ResidualProblem", "reduce_residual", "difference_operators",
           "world_fixed_wrenches", "TRANSLATION_SCALE", "ROTATION_SCALE", "WEIGHT", "MAX_POINT_RMS"]

TRANSLATION_SCALE = 0.01          # m
ROTATION_SCALE = np.radians(2.0)  # rad
WEIGHT = 1.0
# m: the default bound on the RMS displacement of the model's points, of the order of the marker RMS
# of an inverse-kinematics fit (8-13 mm on the Hamner and Schreiber trials, docs/data.md)
MAX_POINT_RMS = 0.01


@dataclass
class KinematicFit:
    """Result of :func:`reduce_residual`: the new ``q, qd, qdd`` (T, nq) and wrenches ``w``
    (T, nc, 6) about the new contact origins; ``before`` / ``after`` (force N/kg, moment N·m/kg)
    RMS of the root residual; ``point_rms_mm`` / ``point_max_mm`` the displacement of the model's
    points; ``max_translation_mm``, ``max_rotation_deg`` the largest coordinate changes; ``weight``
    the prior's weight used; ``iterations``, ``seconds``."""
    q: np.ndarray
    qd: np.ndarray
    qdd: np.ndarray
    w: np.ndarray
    before: tuple
    after: tuple
    point_rms_mm: float
    point_max_mm: float
    max_translation_mm: float
    max_rotation_deg: float
    weight: float
    iterations: int
    seconds: float

    def summary(self) -> dict:
        """The change in rounded figures (for JSON reports): point displacement, largest
        coordinate changes, prior weight, iterations, seconds."""
        return dict(point_rms_mm=round(self.point_rms_mm, 2), point_max_mm=round(self.point_max_mm, 2),
                    max_translation_mm=round(self.max_translation_mm, 2),
                    max_rotation_deg=round(self.max_rotation_deg, 3), weight=self.weight,
                    iterations=self.iterations, seconds=round(self.seconds, 2))


def difference_operators(T: int, rate: float):
    """Sparse (T, T) first and second finite-difference operators at ``rate`` (Hz): central
    inside, second-order one-sided at the ends (first derivative), the nearest three-point
    stencil at the ends (second derivative)."""
    from scipy import sparse
    if T < 4:
        raise InputError(f"reduce_residual: need at least 4 frames, got {T}")
    h = 1.0 / float(rate)
    i = np.arange(1, T - 1)
    r1 = np.r_[[0, 0, 0], np.repeat(i, 2), [T - 1] * 3]
    c1 = np.r_[[0, 1, 2], np.c_[i - 1, i + 1].ravel(), [T - 3, T - 2, T - 1]]
    v1 = np.r_[[-1.5, 2.0, -0.5], np.tile([-0.5, 0.5], T - 2), [0.5, -2.0, 1.5]] / h
    r2 = np.r_[[0, 0, 0], np.repeat(i, 3), [T - 1] * 3]
    c2 = np.r_[[0, 1, 2], np.c_[i - 1, i, i + 1].ravel(), [T - 3, T - 2, T - 1]]
    v2 = np.r_[[1.0, -2.0, 1.0], np.tile([1.0, -2.0, 1.0], T - 2), [1.0, -2.0, 1.0]] / h ** 2
    D1 = sparse.csr_matrix((v1, (r1, c1)), shape=(T, T))
    D2 = sparse.csr_matrix((v2, (r2, c2)), shape=(T, T))
    return D1, D2


def world_fixed_wrenches(kern, q_from, q_to, w, p, p_to=None):
    """Wrenches ``w`` (T, nc, 6) about the contact origins at ``(q_from, p)``, re-expressed about
    the contact origins at ``(q_to, p_to)`` (``p_to`` default ``p``): same world force and line
    of action."""
    T = q_from.shape[0]

    def rows(x):
        return np.ascontiguousarray(np.broadcast_to(np.asarray(x, float), (T, np.asarray(x).shape[-1])))
    o0 = kern.contact_points(q_from, rows(p))
    o1 = kern.contact_points(q_to, rows(p if p_to is None else p_to))
    w = np.array(w, float)
    w[..., 3:] = w[..., 3:] - np.cross(o1 - o0, w[..., :3])
    return w


def _scales(model) -> np.ndarray:
    return np.where(model.spec.coordinate_translates(), TRANSLATION_SCALE, ROTATION_SCALE)


class ResidualProblem:
    """The least-squares problem of :func:`reduce_residual` for one trial: :meth:`residual` of the
    corrections ``d`` (T, k) on the free coordinates and its sparse :meth:`jacobian`
    (6T, kT; rows frame-major, force then moment; columns frame-major)."""

    def __init__(self, kern, q, qd, qdd, w, p, rate: float, mass: float,
                 coordinates: Optional[Sequence[str]] = None):
        from scipy import sparse
        model = kern.model
        self.kern, self.model = kern, model
        q, qd, qdd = (np.ascontiguousarray(x, dtype=float) for x in (q, qd, qdd))
        w = np.ascontiguousarray(w, dtype=float)
        T, n = q.shape if q.ndim == 2 else (0, 0)
        if n != model.nq or qd.shape != q.shape or qdd.shape != q.shape:
            raise InputError(f"reduce_residual: q, qd, qdd must be (T, {model.nq}), got "
                             f"{q.shape}, {qd.shape}, {qdd.shape}")
        if w.shape != (T, model.n_contacts, 6):
            raise InputError(f"reduce_residual: w must be ({T}, {model.n_contacts}, 6), got {w.shape}")
        if not all(np.all(np.isfinite(x)) for x in (q, qd, qdd, w)):
            raise InputError("reduce_residual: q, qd, qdd and w must be finite (fill or crop the "
                             "frames without forces first)")
        if not (np.isfinite(rate) and rate > 0 and np.isfinite(mass) and mass > 0):
            raise InputError(f"reduce_residual: rate (Hz) and mass (kg) must be positive, got "
                             f"{rate!r}, {mass!r}")
        names = list(model.coordinates) if coordinates is None else list(coordinates)
        unknown = sorted(set(names) - set(model.coordinates))
        if unknown:
            raise InputError(f"reduce_residual: unknown coordinates {unknown}; {model.name} has "
                             f"{list(model.coordinates)}")
        self.q, self.qd, self.qdd, self.w, self.T = q, qd, qdd, w, T
        self.free = np.array([model.coordinates.index(c) for c in names], dtype=int)
        self.k = self.free.size
        self.P = np.ascontiguousarray(np.broadcast_to(np.asarray(p, float), (T, len(p))))
        self.D1, self.D2 = difference_operators(T, rate)
        Ik = sparse.identity(self.k, format="csr")
        self.D1k = sparse.kron(self.D1, Ik, format="csr")
        self.D2k = sparse.kron(self.D2, Ik, format="csr")
        self.sigma = _scales(model)[self.free]
        self.scale = 1.0 / mass

    def state(self, d):
        """``(q, qd, qdd, w)`` after the corrections ``d`` (wrenches about the new contact origins)."""
        qn, qdn, qddn = self.q.copy(), self.qd.copy(), self.qdd.copy()
        qn[:, self.free] += d
        qdn[:, self.free] += self.D1 @ d
        qddn[:, self.free] += self.D2 @ d
        return qn, qdn, qddn, world_fixed_wrenches(self.kern, self.q, qn, self.w, self.P)

    def residual(self, d, state=None):
        """Root residual per kg (T, 6) after the corrections ``d`` (T, k)."""
        qn, qdn, qddn, wn = self.state(d) if state is None else state
        return self.kern.root_residual(qn, qdn, qddn, wn, self.P) * self.scale

    def jacobian(self, d, state=None):
        """∂ residual / ∂ d, sparse (6T, kT)."""
        from scipy import sparse
        T, k = self.T, self.k
        qn, qdn, qddn, wn = self.state(d) if state is None else state
        blocks = {key: np.empty((T, 6, k)) for key in ("grad_q", "grad_qd", "grad_qdd")}
        for row in range(6):
            nu = np.zeros((T, 6))
            nu[:, row] = self.scale
            g = self.kern.root_residual_vjp(qn, qdn, qddn, wn, self.P, nu)
            for key in blocks:
                blocks[key][:, row, :] = np.asarray(g[key])[:, self.free]
        # the kernel holds each wrench fixed about its contact origin, which moves with q, while
        # the measured wrenches stay fixed in the world: their moment about the root origin
        # gains Σ_k (∂c_k/∂q) × F_k (c_k the contact origins; the root origin's own motion
        # cancels between the two)
        Jc = np.asarray(self.kern.contact_jacobians(qn, self.P))[:, :, :3, :][..., self.free]
        F = wn[..., :3]
        blocks["grad_q"][:, 3:, :] += self.scale * np.cross(
            Jc.transpose(0, 1, 3, 2), F[:, :, None, :]).sum(1).transpose(0, 2, 1)
        A = {key: sparse.bsr_matrix((v, np.arange(T), np.arange(T + 1)), shape=(6 * T, k * T))
             for key, v in blocks.items()}
        return (A["grad_q"] + A["grad_qd"] @ self.D1k + A["grad_qdd"] @ self.D2k).tocsr()

    def solve(self, weight: float, max_iter: int = 4, tol: float = 1e-4):
        """Gauss-Newton with a backtracking line search from ``d = 0``: ``(d, state, residual,
        iterations)``."""
        from scipy import sparse
        from scipy.sparse.linalg import spsolve
        T, k = self.T, self.k
        prior = sparse.diags(np.tile(weight / self.sigma ** 2, T))

        def cost(r, d):
            return float(np.sum(r ** 2) + weight * np.sum((d / self.sigma) ** 2)) / T

        d = np.zeros((T, k))
        st = self.state(d)
        r = self.residual(d, st)
        c = cost(r, d)
        it = 0
        for it in range(1, max_iter + 1):
            J = self.jacobian(d, st)
            H = (J.T @ J + prior).tocsc()
            g = J.T @ r.reshape(-1) + prior @ d.reshape(-1)
            step = -spsolve(H, g).reshape(T, k)
            alpha = 1.0
            while True:
                dn = d + alpha * step
                stn = self.state(dn)
                rn = self.residual(dn, stn)
                cn = cost(rn, dn)
                if cn <= c or alpha < 1e-3:
                    break
                alpha *= 0.5
            if cn > c:
                break
            dec = (c - cn) / max(c, 1e-300)
            d, st, r, c = dn, stn, rn, cn
            if dec < tol:
                break
        return d, st, r, it


def reduce_residual(kern, q, qd, qdd, w, p, rate: float, mass: float, *,
                    coordinates: Optional[Sequence[str]] = None, weight: float = WEIGHT,
                    max_point_rms: Optional[float] = MAX_POINT_RMS, max_iter: int = 4,
                    tol: float = 1e-4) -> KinematicFit:
    """Change ``q, qd, qdd`` (T, nq) within the marker error so that the root residual with the
    measured wrenches ``w`` (T, nc, 6, about the contact origins at ``q``) shrinks (module
    docstring).  ``p`` (n_p,) the parameters, ``rate`` Hz, ``mass`` kg.  ``coordinates``: the
    coordinates allowed to change (default: all).  ``weight`` scales the prior ``Σ(δ/σ)²``: larger
    keeps the motion closer, smaller removes more residual.  ``max_point_rms`` (m; None: no bound):
    while the model's points move by more than this (RMS), the weight is raised fourfold and the
    fit repeated (at most five times).  Raises :class:`InputError` on bad shapes, non-finite
    inputs or a non-positive rate, mass or weight."""
    t0 = time.perf_counter()
    if not (np.isfinite(weight) and weight > 0):
        raise InputError(f"reduce_residual: weight must be positive, got {weight!r}")
    prob = ResidualProblem(kern, q, qd, qdd, w, p, rate, mass, coordinates)
    before = residual_rms(prob.residual(np.zeros((prob.T, prob.k))), 1.0)
    pts0 = np.asarray(kern.points(prob.q, prob.P))
    for attempt in range(6):
        d, (qn, qdn, qddn, wn), r, it = prob.solve(weight, max_iter, tol)
        disp = np.linalg.norm(np.asarray(kern.points(qn, prob.P)) - pts0, axis=-1)
        point_rms = float(np.sqrt(np.mean(disp ** 2)))
        if max_point_rms is None or point_rms <= max_point_rms or attempt == 5:
            break
        weight *= 4.0
    dq = qn - prob.q
    tr = np.array(kern.model.spec.coordinate_translates())
    return KinematicFit(q=qn, qd=qdn, qdd=qddn, w=wn, before=before, after=residual_rms(r, 1.0),
                        point_rms_mm=1000 * point_rms, point_max_mm=float(1000 * disp.max()),
                        max_translation_mm=float(1000 * np.abs(dq[:, tr]).max()) if tr.any() else 0.0,
                        max_rotation_deg=float(np.degrees(np.abs(dq[:, ~tr]).max())) if (~tr).any() else 0.0,
                        weight=float(weight), iterations=it, seconds=time.perf_counter() - t0)
