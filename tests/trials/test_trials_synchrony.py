"""Force/motion timing from the root residual: wrenches that explain a motion exactly, then delayed."""
from __future__ import annotations

import numpy as np
import pytest

import symgait
from symgait.trials.synchrony import force_shift_scan, residual_parts, shifted


@pytest.fixture(scope="module")
def exact():
    """A smooth planar motion at 100 Hz and the contact-0 wrench that leaves no root residual."""
    m = symgait.load_model("planar")
    k = symgait.kernels(m)
    p = m.parameters()
    T, n, dt = 240, m.nq, 0.01
    t = np.arange(T)[:, None] * dt
    rng = np.random.default_rng(3)
    a, f, ph = rng.uniform(0.05, 0.3, n), rng.uniform(0.5, 2.0, n), rng.uniform(0, 6, n)
    wt = 2 * np.pi * f
    q, qd, qdd = a * np.sin(wt * t + ph), a * wt * np.cos(wt * t + ph), -a * wt ** 2 * np.sin(wt * t + ph)
    zero = np.zeros((T, m.n_contacts, 6))
    r0 = k.root_residual(q, qd, qdd, zero, p)
    A = np.empty((T, 6, 6))  # the residual is linear in w: r = r0 + A w_0
    for j in range(6):
        e = zero.copy()
        e[:, 0, j] = 1.0
        A[:, :, j] = k.root_residual(q, qd, qdd, e, p) - r0
    w = zero.copy()
    w[:, 0] = np.linalg.solve(A, -r0[..., None])[..., 0]
    return k, p, q, qd, qdd, w, 70.0


def test_exact_wrenches_leave_no_residual_and_a_delay_is_found(exact):
    k, p, q, qd, qdd, w, mass = exact
    assert residual_parts(k, q, qd, qdd, w, p, mass)["rms"] < 1e-8
    late = shifted(w, 1.0)  # the force recording one frame late
    scan = force_shift_scan(k, q, qd, qdd, late, p, mass)
    best = min(scan, key=scan.get)
    assert best == -1.0
    assert scan[-1.0] < 1e-8 < 0.05 * scan[0.0]
    half = force_shift_scan(k, q, qd, qdd, shifted(w, -0.5), p, mass, shifts=(-1.0, -0.5, 0.0, 0.5, 1.0))
    assert min(half, key=half.get) == 0.5


def test_residual_parts_split_the_mean(exact):
    k, p, q, qd, qdd, w, mass = exact
    off = w.copy()
    off[:, 0, 1] += 0.2 * mass * 9.81  # 20 % of body weight too much, vertical, at every frame
    parts = residual_parts(k, q, qd, qdd, off, p, mass)
    assert parts["mean"] == pytest.approx(0.2 * 9.81, rel=1e-9)
    assert parts["varying"] < 1e-8
    assert parts["rms"] ** 2 == pytest.approx(parts["mean"] ** 2 + parts["varying"] ** 2)


def test_scan_needs_enough_frames(exact):
    k, p, q, qd, qdd, w, mass = exact
    with pytest.raises(ValueError, match="too few"):
        force_shift_scan(k, q[:5], qd[:5], qdd[:5], w[:5], p, mass)
