"""Per-subject consistency fit (symgait.trials.consistency) on the planar model: synthetic data
made at known parameters (contact wrenches that zero the root residual there), fitted from
perturbed de Leva values."""
import numpy as np
import pytest

from symgait.trials.consistency import FitTrial, fit_parameters
from symgait.forces.derived import distribute_residual
from symgait.errors import InputError


def _synthetic(m, k, seed=0, T=150):
    rng = np.random.default_rng(seed)
    t = np.arange(T) / 100.0
    q = np.stack([0.3 * np.sin(2 * np.pi * (1 + 0.3 * j) * t + j) for j in range(m.nq)], 1)
    q[:, 1] += 1.0
    qd = np.gradient(q, t, axis=0)
    qdd = np.gradient(qd, t, axis=0)
    mass = 70.0
    p0 = m.parameters(height=1.75, mass=mass)
    names = list(m.parameter_names)
    f = np.ones(len(names))
    for i, n in enumerate(names):
        f[i] += rng.uniform(-0.03, 0.03) if n.endswith("_length") else rng.uniform(-0.15, 0.15)
    mi = [i for i, n in enumerate(names) if n.endswith("_mass")]
    p_true = p0 * f
    p_true[mi] *= mass / p_true[mi].sum()
    w = distribute_residual(k, q, qd, qdd, p_true, np.ones((T, m.n_contacts)))
    return q, qd, qdd, w, p0, p_true, mass, mi


def test_fit_recovers_known_parameters(kern):
    m, k = kern("planar")
    q, qd, qdd, w, p0, p_true, mass, mi = _synthetic(m, k)
    assert np.abs(k.root_residual(q, qd, qdd, w, p_true)).max() < 1e-6     # consistent at p_true
    fit = fit_parameters(k, [FitTrial(q, qd, qdd, w, p_w=p_true, p=p0)], mass, prior=0.0,
                         tol=1e-12, max_iter=30)
    (f0, m0), (f1, m1) = fit.before[0], fit.after[0]
    assert f1 < 1e-3 * f0 and m1 < 1e-3 * m0
    p = fit.p[0]
    assert abs(p[mi].sum() - mass) < 1e-9                                # total mass unchanged
    assert np.abs(p / p_true - 1).max() < 0.02                           # the perturbation
    big = [i for i in mi if p0[i] > 5.0]                                 # thighs, trunk, pelvis
    assert np.abs(p[big] / p_true[big] - 1).max() < 0.002


def test_fit_bounds_and_residual_decrease(kern):
    m, k = kern("planar")
    q, qd, qdd, w, p0, p_true, mass, mi = _synthetic(m, k, seed=1)
    fit = fit_parameters(k, [FitTrial(q[:80], qd[:80], qdd[:80], w[:80], p_w=p_true, p=p0),
                             FitTrial(q[80:], qd[80:], qdd[80:], w[80:], p_w=p_true, p=p0)],
                         mass, mass_bounds=(0.95, 1.05), length_bounds=(0.99, 1.01))
    x = fit.factors
    names = list(m.parameter_names)
    for i, n in enumerate(names):
        lo, hi = (0.95, 1.05) if n.endswith("_mass") else (0.99, 1.01)
        assert lo - 1e-9 <= x[i] <= hi + 1e-9, (n, x[i])
    assert abs(fit.p[0][mi].sum() - mass) < 1e-9
    for (b, _), (a, _) in zip(fit.before, fit.after):
        assert a < b


def test_fit_refuses_bad_input(kern):
    m, k = kern("planar")
    q = np.zeros((3, m.nq))
    p = m.parameters(height=1.7, mass=60.0)
    with pytest.raises(InputError, match="unknown parameters"):
        fit_parameters(k, [FitTrial(q, q, q, np.zeros((3, 2, 6)), p_w=p)], 60.0, fit=["nope"])
    with pytest.raises(InputError, match="mass"):
        fit_parameters(k, [FitTrial(q, q, q, np.zeros((3, 2, 6)), p_w=p)], -1.0)
