"""Marker gaps (symgait.signals.gaps): short interior gaps filled, long ones and the ends kept missing,
sparse markers dropped, bad input refused."""
import numpy as np
import pytest

from symgait.errors import InputError
from symgait.io import read_trc
from symgait.signals.gaps import fill_gaps, fill_interior_gaps, fill_marker_gaps

W1 = "opensim/gait2354_subject01_walk1/"

# --------------------------------------------------------------------------- gaps
def test_fill_gaps_fills_short_keeps_long_and_drops_sparse():
    rate = 100.0
    T = 200
    t = np.arange(T) / rate
    true = np.stack([np.sin(2 * np.pi * t), np.cos(2 * np.pi * t), t], 1)   # smooth, m
    pos = np.repeat(true[:, None], 3, axis=1).copy()
    pos[50:58, 0] = np.nan            # 8 frames = 0.08 s: filled
    pos[100:130, 0] = np.nan          # 0.3 s: left
    pos[:150, 2] = np.nan             # seen in 25 %: dropped
    out, names, rep = fill_gaps(pos, rate, ["a", "b", "c"], max_gap=0.1, min_valid=0.5)
    assert names == ("a", "b") and rep.dropped == ("c",) and rep.filled == ("a",)
    a = rep.markers[0]
    assert (a.gaps_filled, a.frames_filled, a.gaps_left) == (1, 8, 1)
    assert a.longest_gap_s == pytest.approx(0.3)
    # a 1 m, 1 Hz curve over 0.08 s: the cubic spline within 1 mm of the truth (measured 0.3)
    assert np.max(np.abs(out[50:58, 0] - true[50:58])) < 1e-3
    assert np.isnan(out[100:130, 0]).all()
    np.testing.assert_array_equal(out[:, 1], true)
    text = str(rep)
    assert "c: dropped (seen in 25%" in text and "a: 1 gap(s), 8 frame(s) filled" in text


def test_fill_gaps_linear_is_exact_on_a_line_and_never_extrapolates():
    T = 30
    pos = np.zeros((T, 1, 3))
    pos[:, 0, 0] = np.arange(T) * 0.01
    pos[10:14] = np.nan
    pos[:3] = np.nan                  # leading gap: ends are not extrapolated
    out, _, rep = fill_gaps(pos, 100.0, ["m"], method="linear")
    np.testing.assert_allclose(out[10:14, 0, 0], np.arange(10, 14) * 0.01, atol=1e-12)
    assert np.isnan(out[:3]).all() and rep.markers[0].frames_filled == 4


def test_fill_marker_gaps_on_real_markers(data):
    m = read_trc(data(W1 + "subject01_walk1.trc"))
    pos = m.positions.copy()
    pos[40:44, 0] = np.nan                                      # 4 frames at 60 Hz
    gappy = type(m)(names=m.names, positions=pos, rate=m.rate, time=m.time, units=m.units)
    filled, rep = fill_marker_gaps(gappy)
    assert rep.filled == (m.names[0],)
    # OpenSim's markers move smoothly: the filled samples within 5 mm of the recorded ones
    assert np.max(np.abs(filled.positions[40:44, 0] - m.positions[40:44, 0])) < 5e-3


def test_fill_gaps_rejects_bad_input():

    with pytest.raises(InputError, match="expected \\(T, n, 3\\)"):
        fill_gaps(np.zeros((5, 2, 2)), 100.0, ["a", "b"])
    with pytest.raises(InputError, match="rate > 0"):
        fill_gaps(np.zeros((5, 2, 3)), 0.0, ["a", "b"])
    with pytest.raises(InputError, match="method 'spline'"):
        fill_gaps(np.zeros((5, 2, 3)), 100.0, ["a", "b"], method="spline")


def test_fill_interior_gaps_exact_on_lines_and_bounded():
    """PCHIP reproduces a straight line exactly; gaps longer than max_gap and both ends stay NaN;
    a marker seen in only 3 frames is filled linearly between them."""
    rate, T = 100.0, 60
    t = np.arange(T) / rate
    line = np.stack([0.5 + 2.0 * t, 1.0 - t, 0.25 * t], 1)
    pos = np.stack([line, line + 1.0, np.full((T, 3), np.nan)], 1)
    truth = pos.copy()
    pos[10:15, 0] = np.nan          # 5 frames = 0.05 s: filled
    pos[20:50, 1] = np.nan          # 30 frames = 0.3 s: longer than max_gap, kept missing
    pos[:3, 0] = pos[-2:, 0] = np.nan  # ends: never extrapolated
    pos[[5, 9, 40], 2] = truth[[5, 9, 40], 1]
    out, n = fill_interior_gaps(pos, rate, max_gap=0.25)
    np.testing.assert_allclose(out[10:15, 0], truth[10:15, 0], rtol=0, atol=1e-12)
    assert np.isnan(out[20:50, 1]).all() and np.isnan(out[:3, 0]).all() and np.isnan(out[-2:, 0]).all()
    np.testing.assert_allclose(out[6:9, 2], truth[6:9, 1], atol=1e-12)  # 3 samples: linear
    assert np.isnan(out[10:40, 2]).all()                               # 30 frames: too long
    assert n == 5 + 3
