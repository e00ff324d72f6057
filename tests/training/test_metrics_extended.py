"""Extended gait metrics against values worked out by hand on small constructed examples."""
from __future__ import annotations

import math

import numpy as np
import pytest

from training.metrics import G, centre_of_pressure, gait_metrics, stance, whole_cycles


def test_centre_of_pressure_and_free_moment_by_hand():
    # origin (0.1, 0.05, 0.2); COP (0.25, 0, 0.15) -> r = (0.15, -0.05, -0.05); F = (10, 500, -20); T = 3
    # M = r x F + T e_y = (-0.05*-20 - -0.05*500, -0.05*10 - 0.15*-20 + 3, 0.15*500 - -0.05*10)
    #   = (1 + 25, -0.5 + 3 + 3, 75 + 0.5) = (26, 5.5, 75.5)
    w = np.array([10.0, 500.0, -20.0, 26.0, 5.5, 75.5])
    cop, T = centre_of_pressure(w, np.array([0.1, 0.05, 0.2]))
    np.testing.assert_allclose(cop, [0.25, 0.0, 0.15], atol=1e-12)
    assert T == pytest.approx(3.0)
    cop0, T0 = centre_of_pressure(np.zeros(6), np.zeros(3))
    assert np.isnan(cop0[0]) and np.isnan(T0)


def test_stance_and_whole_cycles():
    w = np.zeros((10, 1, 6))
    w[[2, 3, 6, 7], 0, 1] = 100.0
    w[5, 0, 1] = 15.0                           # below 20 N: not stance
    on = stance(w)
    assert on[:, 0].tolist() == [False, False, True, True, False, False, True, True, False, False]
    assert whole_cycles(on[:, 0]) == slice(2, 6)   # touchdowns at frames 2 and 6
    assert whole_cycles(np.ones(5, bool)) == slice(0, 5)


def test_extended_gait_metrics_by_hand():
    m = 50.0
    T_ = 8
    true = np.zeros((T_, 2, 6))
    # right foot on at frames 1-2 and 5-6 (touchdowns 1 and 5 -> cycle frames 1..4); left on 3-4
    true[[1, 2, 5, 6], 0, 1] = 600.0
    true[[3, 4], 1, 1] = 400.0
    pred = true.copy()
    pred[1, 0, 1] = 500.0                        # -100 N on one vertical entry
    pred[3, 1, 0] = 30.0                         # +30 N on one horizontal entry
    JT = np.zeros((T_, 1))
    origin = np.zeros((T_, 2, 3))
    # COP: true at the origin's foot print (M = 0 -> r = 0 with origin on the ground); predicted on
    # frame 2 shifted by 0.04 m in x: M_z = r_x F_y = 0.04 * 600 = 24; plus a free moment of 5 N m
    pred[2, 0, 5] = 24.0
    pred[2, 0, 4] = 5.0
    r = gait_metrics(dict(w=pred, JT=JT), dict(w=true, JT=JT), m, origins=origin)
    n = T_ * 2 * 3                                # frames x contacts x force components
    ef = math.sqrt((100.0 ** 2 + 30.0 ** 2) / n) / m
    assert r["ef"] == pytest.approx(ef)
    assert r["f_bw"] == pytest.approx(100 * ef / G)
    assert r["ef_v"] == pytest.approx(math.sqrt(100.0 ** 2 / (T_ * 2)) / m)
    assert r["ef_ap"] == pytest.approx(math.sqrt(30.0 ** 2 / (T_ * 2)) / m)   # the x entry
    assert r["ef_ml"] == 0.0
    # cycle frames 1..4: true sum Fy = 600, 600, 400, 400 -> mean 500 N; predicted 500, 600, 400, 400
    assert r["fy_bw_true"] == pytest.approx(500.0 / (m * G))
    assert r["fy_bw"] == pytest.approx(475.0 / (m * G))
    # stance frames of both: right 1, 2, 5, 6 and left 3, 4 (pred frame 1 is 500 N > 20): 6 entries,
    # one with a 40 mm COP error and a free-moment error of 5 N m
    assert r["cop_mm"] == pytest.approx(math.sqrt(40.0 ** 2 / 6))
    assert r["e_free"] == pytest.approx(math.sqrt(5.0 ** 2 / 6) / m)
