"""Per-subject dynamic consistency: segment parameters that minimise the root residual.

With measured contact wrenches the root residual ``r(p) = root_residual(q, q̇, q̈, w, p)`` (world
force and moment about the pelvis origin) is the part of the motion the plates do not explain.
The plates' total wrench about the pelvis origin does not depend on ``p`` (the pelvis pose is
``q``'s), so ``r(p) = r0(p) - E`` with ``r0`` the residual at ``w = 0`` and ``E`` computed once
from each trial's wrenches and the parameters they refer to.

:func:`fit_parameters` fits multiplicative factors ``x`` (``p = p_start ⊙ x``) on the segment
masses and lengths of a subject, shared by all its trials (frames of every trial stacked):
bounded Gauss-Newton on ``Σ_frames |F/m|² + |M/m|²`` (N/kg, N·m/kg), the Jacobian ``∂r0/∂p``
from the generated root-residual VJP (six batched calls), each step a small QP (bounds, total
mass fixed: ``Σ mass parameters`` unchanged), with a weak prior ``prior · |x - 1|²`` that keeps
unobservable directions at their start.  Default bounds around the start (de Leva 1996 values
from the subject's height and mass): masses ×[0.75, 1.25], lengths ×[0.95, 1.05].
"""
from __future__ import annotations

import json

from dataclasses import dataclass, field
from typing import List, Optional, Sequence, Tuple

import numpy as np

from ..errors import InputError

__all__ = ["FitTrial", "ConsistencyFit", "fit_parameters", "residual_rms", "external_wrench",
           "MASS_BOUNDS", "LENGTH_BOUNDS"]

MASS_BOUNDS = (0.75, 1.25)
LENGTH_BOUNDS = (0.95, 1.05)


@dataclass
class FitTrial:
    """One trial's frames for the fit: ``q, qd, qdd`` (T, nq), measured contact wrenches ``w``
    (T, nc, 6) about the contact origins at parameters ``p_w``, start parameters ``p`` (default:
    ``p_w``)."""
    q: np.ndarray
    qd: np.ndarray
    qdd: np.ndarray
    w: np.ndarray
    p_w: np.ndarray
    p: Optional[np.ndarray] = None
    name: str = ""


@dataclass
class ConsistencyFit:
    """Result: fitted ``factors`` (n_p,) (1 for parameters not fitted), ``p`` per trial (fitted),
    residual force / moment RMS per kg per trial ``before`` / ``after`` (lists of
    ``(force, moment)``), ``fitted`` parameter names, ``iterations``, ``seconds``."""
    factors: np.ndarray
    p: List[np.ndarray]
    before: List[Tuple[float, float]]
    after: List[Tuple[float, float]]
    fitted: List[str]
    iterations: int
    seconds: float
    notes: List[str] = field(default_factory=list)


@dataclass(frozen=True)
class SubjectFit:
    """One subject's fitted parameter factors (``p_fitted = p * factors``) and the residuals (force,
    moment) RMS per kg of each trial ``before`` and ``after``: what a dataset build stores per subject
    (:meth:`to_json` / :meth:`from_json`), where a :class:`ConsistencyFit` also holds every trial's ``p``."""
    factors: np.ndarray
    before: List[Tuple[float, float]]
    after: List[Tuple[float, float]]
    iterations: int
    seconds: float

    @classmethod
    def of(cls, fit: "ConsistencyFit") -> "SubjectFit":
        return cls(np.asarray(fit.factors, float), [tuple(x) for x in fit.before],
                   [tuple(x) for x in fit.after], int(fit.iterations), round(float(fit.seconds), 2))

    def to_json(self) -> str:
        return json.dumps(dict(factors=self.factors.tolist(), before=self.before, after=self.after,
                               iterations=self.iterations, seconds=self.seconds))

    @classmethod
    def from_json(cls, text: str) -> "SubjectFit":
        d = json.loads(text)
        return cls(np.asarray(d["factors"], float), [tuple(x) for x in d["before"]],
                   [tuple(x) for x in d["after"]], int(d["iterations"]), float(d["seconds"]))


def external_wrench(kern, q, qd, qdd, w, p) -> np.ndarray:
    """The contact wrenches' total (T, 6) about the pelvis origin (world frame): ``r0 - r``."""
    r0 = kern.root_residual(q, qd, qdd, np.zeros_like(w), p)
    return r0 - kern.root_residual(q, qd, qdd, w, p)


def residual_rms(residual, mass: float) -> Tuple[float, float]:
    """(force, moment) RMS over frames of the norms of the root residual's rows (T, 6), per kg."""
    r = np.asarray(residual, float)
    f = float(np.sqrt(np.mean(np.sum(r[:, :3] ** 2, 1)))) / mass
    m = float(np.sqrt(np.mean(np.sum(r[:, 3:] ** 2, 1)))) / mass
    return f, m


def _total_mass_gradient(kern, p) -> np.ndarray:
    """∂(total mass)/∂p: the vertical root force at rest is m g (linear in the masses)."""
    model = kern.model
    g = float(np.linalg.norm(model.gravity))
    q = np.zeros((1, model.nq))
    w = np.zeros((1, model.n_contacts, 6))
    nu = np.zeros((1, 6))
    nu[0, :3] = -np.asarray(model.gravity, float) / g ** 2     # picks m g along "up" → m
    gp = kern.root_residual_vjp(q, q, q, w, p, nu)["grad_p"]
    return np.asarray(gp, float).reshape(-1)


def _qp_step(H, b, lo, hi, a, tol=1e-12):
    """min ½ dᵀHd + bᵀd  s.t.  lo ≤ d ≤ hi, aᵀd = 0  (small dense QP; SLSQP)."""
    from scipy.optimize import minimize
    n = b.size
    res = minimize(lambda d: 0.5 * d @ H @ d + b @ d, np.zeros(n), jac=lambda d: H @ d + b,
                   method="SLSQP", bounds=list(zip(lo, hi)),
                   constraints=[dict(type="eq", fun=lambda d: a @ d, jac=lambda d: a)],
                   options=dict(maxiter=200, ftol=tol))
    d = np.clip(res.x, lo, hi)
    return d - a * (a @ d) / (a @ a) if a @ a > 0 else d


def fit_parameters(kern, trials: Sequence[FitTrial], mass: float, *,
                   fit: Optional[Sequence[str]] = None, mass_bounds=MASS_BOUNDS,
                   length_bounds=LENGTH_BOUNDS, prior: float = 1e-3, max_iter: int = 15,
                   tol: float = 1e-6, log=None) -> ConsistencyFit:
    """Fit one subject's segment parameters to its trials (see the module docstring).

    ``fit``: parameter names to fit (default: every ``*_mass`` and ``*_length``).  ``mass``: the
    subject's mass (kg), for the per-kg figures.  ``prior``: weight of ``|x - 1|²`` relative to
    the mean squared residual per frame.  Raises :class:`InputError` on inconsistent trials."""
    import time
    t0 = time.perf_counter()
    model = kern.model
    names = list(model.parameter_names)
    if not trials:
        raise InputError("fit_parameters: no trials given")
    if not (mass > 0 and np.isfinite(mass)):
        raise InputError(f"fit_parameters: mass must be a positive number of kg, got {mass!r}")
    fit = [n for n in names if n.endswith("_mass") or n.endswith("_length")] if fit is None else list(fit)
    unknown = sorted(set(fit) - set(names))
    if unknown:
        raise InputError(f"fit_parameters: unknown parameters {unknown}; {model.name} has {names}")
    idx = np.array([names.index(n) for n in fit])
    Q, QD, QDD, P0, E, sizes = [], [], [], [], [], []
    for tr in trials:
        q = np.asarray(tr.q, float)
        if q.ndim != 2 or q.shape[1] != model.nq or not np.all(np.isfinite(q)):
            raise InputError(f"fit_parameters: trial {tr.name!r}: q must be finite (T, {model.nq})")
        p_w = np.asarray(tr.p_w, float)
        p = p_w if tr.p is None else np.asarray(tr.p, float)
        E.append(external_wrench(kern, q, tr.qd, tr.qdd, tr.w, p_w))
        Q.append(q)
        QD.append(np.asarray(tr.qd, float))
        QDD.append(np.asarray(tr.qdd, float))
        P0.append(np.repeat(p[None], q.shape[0], 0))
        sizes.append(q.shape[0])
    Q, QD, QDD, P0, E = (np.concatenate(x) for x in (Q, QD, QDD, P0, E))
    W0 = np.zeros((Q.shape[0], model.n_contacts, 6))
    N = Q.shape[0]
    scale = 1.0 / mass

    def residual(x):
        P = P0.copy()
        P[:, idx] *= x
        return (kern.root_residual(Q, QD, QDD, W0, P) - E) * scale, P

    def jacobian(P):
        J = np.empty((N, 6, idx.size))
        for k in range(6):
            nu = np.zeros((N, 6))
            nu[:, k] = 1.0
            gp = kern.root_residual_vjp(Q, QD, QDD, W0, P, nu)["grad_p"]
            J[:, k, :] = gp[:, idx] * P0[:, idx] * scale     # d/dx = d/dp · p_start
        return J.reshape(N * 6, idx.size)

    # total-mass constraint on the factors: Σ_i (∂M/∂p_i) p0_i (x_i - 1) = 0
    a = (_total_mass_gradient(kern, P0[0]) * P0[0])[idx]
    kind = np.array(["mass" if n.endswith("_mass") else "length" if n.endswith("_length") else "other"
                     for n in fit])
    lo = np.where(kind == "mass", mass_bounds[0], np.where(kind == "length", length_bounds[0], 0.5))
    hi = np.where(kind == "mass", mass_bounds[1], np.where(kind == "length", length_bounds[1], 1.5))
    x = np.ones(idx.size)

    def cost(r, x):
        return float(np.sum(r ** 2)) / N + prior * float(np.sum((x - 1.0) ** 2))

    r, P = residual(x)
    before = [residual_rms(rr / scale, mass) for rr in np.split(r, np.cumsum(sizes)[:-1])]
    c = cost(r, x)
    lam = 1e-6
    it = 0
    for it in range(1, max_iter + 1):
        J = jacobian(P)
        H = J.T @ J / N + prior * np.eye(idx.size)
        g = J.T @ r.reshape(-1) / N + prior * (x - 1.0)
        while True:
            d = _qp_step(H + lam * np.diag(np.diag(H) + 1e-12), g, lo - x, hi - x, a)
            xn = x + d
            rn, Pn = residual(xn)
            cn = cost(rn, xn)
            if cn <= c or lam > 1e6:
                break
            lam *= 10.0
        if cn > c:
            break
        dec = (c - cn) / max(c, 1e-300)
        x, r, P, c = xn, rn, Pn, cn
        lam = max(lam / 10.0, 1e-9)
        if log:
            log(f"  iteration {it}: cost {c:.6g}")
        if dec < tol or np.max(np.abs(d)) < 1e-9:
            break
    after = [residual_rms(rr / scale, mass) for rr in np.split(r, np.cumsum(sizes)[:-1])]
    factors = np.ones(len(names))
    factors[idx] = x
    p_out = []
    for tr in trials:
        p = np.asarray(tr.p_w if tr.p is None else tr.p, float).copy()
        p[idx] *= x
        p_out.append(p)
    return ConsistencyFit(factors=factors, p=p_out, before=before, after=after, fitted=fit,
                          iterations=it, seconds=time.perf_counter() - t0)
