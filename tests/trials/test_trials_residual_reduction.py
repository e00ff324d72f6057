"""Kinematic residual reduction (symgait.trials.residual_reduction) on the planar model: a motion
and contact wrenches that obey Newton and Euler exactly (the wrenches zero the root residual),
the motion then disturbed by a smooth error of a few millimetres and a degree; the Jacobian
against central differences of the residual."""
import numpy as np
import pytest

from symgait.forces.derived import distribute_residual
from symgait.trials.residual_reduction import (ResidualProblem, difference_operators, reduce_residual, world_fixed_wrenches)
from symgait.errors import InputError

RATE = 100.0


def _consistent(m, k, T=200):
    t = np.arange(T) / RATE
    w_ = 2 * np.pi * np.array([0.9 + 0.2 * j for j in range(m.nq)])
    ph = np.arange(m.nq, dtype=float)
    a = np.full(m.nq, 0.3)
    a[:2] = 0.05
    q = a * np.sin(w_ * t[:, None] + ph)
    q[:, 0] += 1.2 * t           # walking forward
    q[:, 1] += 1.0
    qd = a * w_ * np.cos(w_ * t[:, None] + ph)
    qd[:, 0] += 1.2
    qdd = -a * w_ ** 2 * np.sin(w_ * t[:, None] + ph)
    mass = 70.0
    p = m.parameters(height=1.75, mass=mass)
    w = distribute_residual(k, q, qd, qdd, p, np.ones((T, m.n_contacts)))
    return t, q, qd, qdd, w, p, mass


def _error(m, t):
    """A smooth kinematic error: 5 mm of pelvis height and 4 mm fore-aft at 2-3 Hz, 1° of trunk."""
    e, ed, edd = (np.zeros((t.size, m.nq)) for _ in range(3))
    for j, amp, f in ((1, 0.005, 2.0), (0, 0.004, 3.0), (m.coordinates.index("lumbar_extension"),
                                                         np.radians(1.0), 2.5)):
        om = 2 * np.pi * f
        e[:, j] = amp * np.sin(om * t)
        ed[:, j] = amp * om * np.cos(om * t)
        edd[:, j] = -amp * om ** 2 * np.sin(om * t)
    return e, ed, edd


def test_consistent_motion_stays_and_disturbed_motion_is_repaired(kern):
    m, k = kern("planar")
    t, q, qd, qdd, w, p, mass = _consistent(m, k)
    assert np.abs(k.root_residual(q, qd, qdd, w, p)).max() < 1e-6
    e, ed, edd = _error(m, t)
    qm, qdm, qddm = q + e, qd + ed, qdd + edd
    # the measured wrenches belong to the true motion: world-fixed, about the contact origins of
    # the measured one
    wm = world_fixed_wrenches(k, q, qm, w, p)
    fit = reduce_residual(k, qm, qdm, qddm, wm, p, RATE, mass)
    f0, m0 = fit.before
    f1, m1 = fit.after
    assert f0 > 0.5                                   # N/kg: the error is visible
    assert f1 < 0.2 * f0 and m1 < 0.3 * m0
    inner = slice(5, -5)
    err0 = np.sqrt(np.mean(e[inner, :2] ** 2))
    err1 = np.sqrt(np.mean((fit.q - q)[inner, :2] ** 2))
    assert err1 < 0.6 * err0                          # the pelvis moved back toward the truth
    assert fit.point_rms_mm < 10.0
    # a weaker prior removes more of the residual
    loose = reduce_residual(k, qm, qdm, qddm, wm, p, RATE, mass, weight=0.1)
    assert loose.after[0] < 0.05 * f0 and loose.point_rms_mm < 10.0
    # the true motion is left as it is
    fit0 = reduce_residual(k, q, qd, qdd, w, p, RATE, mass)
    assert fit0.before[0] < 1e-6 and np.abs(fit0.q - q).max() < 1e-9


def test_jacobian_matches_central_differences(kern):
    m, k = kern("planar")
    t, q, qd, qdd, w, p, mass = _consistent(m, k, T=40)
    e, ed, edd = _error(m, t)
    wm = world_fixed_wrenches(k, q, q + e, w, p)
    prob = ResidualProblem(k, q + e, qd + ed, qdd + edd, wm, p, RATE, mass)
    rng = np.random.default_rng(0)
    d = 1e-3 * rng.standard_normal((prob.T, prob.k))
    v = rng.standard_normal((prob.T, prob.k))
    J = prob.jacobian(d)
    h = 1e-6
    fd = (prob.residual(d + h * v) - prob.residual(d - h * v)).reshape(-1) / (2 * h)
    jv = J @ v.reshape(-1)
    assert np.abs(jv - fd).max() < 1e-5 * max(1.0, np.abs(fd).max())


def test_subset_of_coordinates_and_point_bound(kern):
    m, k = kern("planar")
    t, q, qd, qdd, w, p, mass = _consistent(m, k, T=120)
    e, ed, edd = _error(m, t)
    wm = world_fixed_wrenches(k, q, q + e, w, p)
    fit = reduce_residual(k, q + e, qd + ed, qdd + edd, wm, p, RATE, mass,
                          coordinates=["pelvis_tx", "pelvis_ty"])
    changed = np.abs(fit.q - (q + e)).max(0) > 0
    assert list(np.nonzero(changed)[0]) == [0, 1]
    assert fit.after[0] < fit.before[0]
    tight = reduce_residual(k, q + e, qd + ed, qdd + edd, wm, p, RATE, mass, max_point_rms=0.0005)
    assert tight.weight > 1.0 and tight.point_rms_mm < fit.point_rms_mm + 1e-9


def test_difference_operators_are_exact_on_quadratics():
    T = 9
    D1, D2 = difference_operators(T, RATE)
    t = np.arange(T) / RATE
    x = 3 * t ** 2 - t + 2
    assert np.allclose(D1 @ x, 6 * t - 1)
    assert np.allclose(D2 @ x, 6.0)


def test_bad_input_is_refused(kern):
    m, k = kern("planar")
    t, q, qd, qdd, w, p, mass = _consistent(m, k, T=20)
    with pytest.raises(InputError, match="unknown coordinates"):
        reduce_residual(k, q, qd, qdd, w, p, RATE, mass, coordinates=["nope"])
    with pytest.raises(InputError, match="finite"):
        bad = w.copy()
        bad[3, 0, 1] = np.nan
        reduce_residual(k, q, qd, qdd, bad, p, RATE, mass)
    with pytest.raises(InputError, match="must be"):
        reduce_residual(k, q[:, :3], qd, qdd, w, p, RATE, mass)
    with pytest.raises(InputError, match="positive"):
        reduce_residual(k, q, qd, qdd, w, p, 0.0, mass)
    with pytest.raises(InputError, match="at least 4 frames"):
        reduce_residual(k, q[:3], qd[:3], qdd[:3], w[:3], p, RATE, mass)
