"""Low-pass filter, finite differences and resampling."""

import numpy as np
import pytest

from symgait.signals.filters import derivatives, lowpass, resample
from symgait.io import read_mot
from symgait.signals.filters import min_filter_length


def _amp(y, n_edge):
    core = y[n_edge:-n_edge]
    return 0.5 * (core.max() - core.min())


def test_lowpass_gain_and_zero_phase():
    rate, fc = 600.0, 6.0
    t = np.arange(0, 4, 1 / rate)
    slow = np.sin(2 * np.pi * 1.0 * t)
    fast = np.sin(2 * np.pi * 60.0 * t)
    y = lowpass(slow + fast, fc, rate)
    # passband unchanged (and no phase shift), stopband removed
    np.testing.assert_allclose(y[300:-300], slow[300:-300], atol=2e-3)
    assert _amp(lowpass(fast, fc, rate), 300) < 1e-4
    # forward-backward Butterworth: |H(fc)|^2 = 1/2 -> amplitude 0.5 at the cutoff
    at_fc = lowpass(np.sin(2 * np.pi * fc * t), fc, rate)
    assert _amp(at_fc, 600) == pytest.approx(0.5, abs=0.01)
    # columns filtered independently, along axis 0 by default
    Y = lowpass(np.stack([slow, 2 * slow], axis=1), fc, rate)
    np.testing.assert_allclose(Y[:, 1], 2 * Y[:, 0])
    np.testing.assert_allclose(lowpass(np.stack([slow, slow]), fc, rate, axis=1)[0], Y[:, 0])


def test_lowpass_errors():
    assert min_filter_length(4) == 16
    with pytest.raises(ValueError, match="10 samples.*at least 16"):
        lowpass(np.zeros(10), 6, 100)
    lowpass(np.zeros(16), 6, 100)
    with pytest.raises(ValueError, match="Nyquist"):
        lowpass(np.zeros(100), 60, 100)
    with pytest.raises(ValueError, match="NaN"):
        lowpass(np.r_[np.zeros(50), np.nan], 6, 100)


def test_derivatives():
    rate = 100.0
    t = np.arange(50) / rate
    q = 3 * t**2 - 2 * t + 1
    qd, qdd = derivatives(q, rate)
    np.testing.assert_allclose(qd, 6 * t - 2, atol=1e-10)          # exact for quadratics
    np.testing.assert_allclose(qdd, 6.0, atol=1e-8)
    # non-uniform times via t=
    tn = np.cumsum(np.r_[0, np.random.default_rng(0).uniform(0.005, 0.02, 49)])
    qd2, qdd2 = derivatives(3 * tn**2 - 2 * tn + 1, t=tn)
    np.testing.assert_allclose(qd2, 6 * tn - 2, atol=1e-9)
    # smooth signal: second-order accuracy
    ts = np.arange(0, 1, 1 / 1000)
    qd3, qdd3 = derivatives(np.sin(2 * np.pi * ts)[:, None] * [1, 2], 1000)
    np.testing.assert_allclose(qd3[:, 0], 2 * np.pi * np.cos(2 * np.pi * ts), atol=2e-3)
    np.testing.assert_allclose(qdd3[2:-2, 1], -2 * (2 * np.pi) ** 2 * np.sin(2 * np.pi * ts[2:-2]),
                               atol=0.01)
    with pytest.raises(ValueError, match="at least 3"):
        derivatives([1.0, 2.0], 10)
    with pytest.raises(ValueError, match="exactly one"):
        derivatives(q)


def test_resample_linear_and_antialias():
    ts = np.arange(0, 2.0001, 1 / 600)
    td = np.arange(0.4, 1.6001, 1 / 60)
    lin = np.stack([2 * ts + 1, -ts], axis=1)
    np.testing.assert_allclose(resample(lin, ts, td), np.stack([2 * td + 1, -td], axis=1),
                               atol=1e-12)
    # decimating 600 -> 60 Hz: a 100 Hz component aliases unless low-passed first
    x = np.sin(2 * np.pi * 2 * ts) + 0.5 * np.sin(2 * np.pi * 100 * ts + 0.3)
    plain = resample(x, ts, td)
    aa = resample(x, ts, td, antialias=True)
    truth = np.sin(2 * np.pi * 2 * td)
    assert np.abs(plain - truth).max() > 0.2
    assert np.abs(aa - truth).max() < 0.01
    with pytest.raises(ValueError, match="beyond the source"):
        resample(x, ts, [2.5])
    assert np.isnan(resample(x, ts, [2.5], outside="nan")).all()
    assert resample(x, ts, [2.5], outside="clip")[0] == pytest.approx(x[-1])


def test_grf_to_motion_rate(data):
    """600 Hz force data onto the 60 Hz IK times (what inverse dynamics needs)."""
    g = read_mot(data("opensim/gait2354_subject01_walk1/subject01_walk1_grf.mot"))
    ik = read_mot(data("opensim/gait2354_subject01_walk1/subject01_walk1_ik.mot"))
    fy = g.column("ground_force_vy")
    r = resample(fy, g.time, ik.time, antialias=True)
    assert r.shape == ik.time.shape
    # same impulse (N·s) over the window within 0.1 %
    w = (g.time >= ik.time[0] - 1e-9) & (g.time <= ik.time[-1] + 1e-9)
    assert np.trapezoid(r, ik.time) == pytest.approx(np.trapezoid(fy[w], g.time[w]), rel=1e-3)
    # filter IK coordinates at 6 Hz (as OpenSim's ID setup does) and differentiate
    q = np.radians(ik.column("knee_angle_r"))
    qf = lowpass(q, 6.0, ik.rate)
    qd, qdd = derivatives(qf, ik.rate)
    assert 3 < np.abs(qd).max() < 10          # knee angular speed in walking, rad/s
