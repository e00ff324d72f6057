"""Bad markers left out of the IK: a real walking trial (OpenSim's gait2354 subject01) with one
marker corrupted -- offset in the lab frame over every frame or over a frame range, or two labels
swapped -- must fit as the uncorrupted trial does, naming the marker left out; the uncorrupted
trial leaves nothing out.  The reference is the fit of the same trial without the corruption."""
import dataclasses

import numpy as np
import pytest

from symgait.markers.fit import fit_trial_markers
from symgait.markers.ik_report import IKFitError, bad_marker
from symgait.markers.sources import load_source

TRC = "opensim/gait2354_subject01_walk1/subject01_walk1.trc"
H, M = 1.803, 72.6


@pytest.fixture(scope="module")
def walk(data, kern):
    m, k = kern("gait3d")
    src = load_source(data(TRC))
    ik, rep = fit_trial_markers(m, src, height=H, mass=M, kern=k)
    return m, k, src, ik, rep


def _with(src, pos):
    return dataclasses.replace(src, positions=pos)


def _offset(src, label, d, frames=slice(None)):
    pos = src.positions.copy()
    pos[frames, src.labels.index(label)] += np.asarray(d)
    return _with(src, pos)


def _swap(src, a, b):
    pos = src.positions.copy()
    i, j = src.labels.index(a), src.labels.index(b)
    pos[:, [i, j]] = pos[:, [j, i]]
    return _with(src, pos)


def _agreement(m, ref, ik):
    """RMS over the rotational coordinates of their RMS difference over frames (deg), the largest
    one, and the largest RMS difference of the pelvis translations (mm)."""
    assert np.allclose(ik.time, ref.time)
    d = ik.q - ref.q
    tr = [m.coordinates.index(c) for c in ("pelvis_tx", "pelvis_ty", "pelvis_tz")]
    rot = [i for i in range(m.nq) if i not in tr]
    per = np.degrees(np.sqrt(np.mean(d[:, rot] ** 2, axis=0)))
    return float(np.sqrt(np.mean(per ** 2))), float(per.max()), \
        float(1000 * np.sqrt(np.mean(d[:, tr] ** 2, axis=0)).max())


def test_clean_trial_drops_nothing(walk):
    m, k, src, ik, rep = walk
    assert rep.dropped == [] and not any("dropped" in n for n in ik.notes)
    assert rep.ik_rms_mm < 15


@pytest.mark.parametrize("label,offset", [
    ("R.Thigh.Upper", (0.0, 0.15, 0.10)), ("R.Shank.Front", (0.20, 0.0, -0.15)),
    ("L.Heel", (0.0, 0.15, 0.10)), ("L.Toe.Tip", (0.20, 0.0, -0.15))])
def test_offset_marker_dropped(walk, label, offset):
    """150-250 mm off in the lab frame over every frame: left out of the whole trial."""
    m, k, src, ref, _ = walk
    ik, rep = fit_trial_markers(m, _offset(src, label, offset), height=H, mass=M, kern=k)
    assert [d["marker"] for d in rep.dropped] == [label]
    d = rep.dropped[0]
    assert d["whole"] and d["frames"] == [(0, len(ik.time))]
    # its residual in the fit that still had it (after offsets were re-fitted, part of the offset
    # is absorbed; it was judged bad where it exceeded 3 x the median and 30 mm)
    assert d["rms_mm"] > 2 * d["median_mm"] and d["offset_rms_mm"] > 2 * d["offset_median_mm"]
    assert any(f"dropped marker {label}" in n for n in ik.notes)
    assert f"dropped marker {label}" in rep.text()
    rms, worst, pelvis = _agreement(m, ref, ik)
    assert rms < 1.0 and worst < 2.5 and pelvis < 2.0, (rms, worst, pelvis)


def test_marker_bad_over_a_frame_range(walk):
    """R.Shank.Upper 200 mm off over frames 40-89 only (of 151): left out there, kept elsewhere."""
    m, k, src, ref, _ = walk
    ik, rep = fit_trial_markers(m, _offset(src, "R.Shank.Upper", (0.1, 0.15, 0.1), slice(40, 90)),
                                height=H, mass=M, kern=k)
    assert [d["marker"] for d in rep.dropped] == ["R.Shank.Upper"]
    d = rep.dropped[0]
    assert not d["whole"] and len(d["frames"]) == 1
    a, b = d["frames"][0]
    t0, t1 = src.time[40], src.time[89]
    assert ik.time[a] <= t0 + 1e-9 and ik.time[b - 1] >= t1 - 1e-9        # covers the bad frames
    assert (b - a) < 0.6 * len(ik.time)                                  # and not much more
    assert d["times"][0][0] <= t0 + 1e-9 and d["times"][0][1] >= t1 - 1e-9
    rms, worst, pelvis = _agreement(m, ref, ik)
    assert rms < 0.5 and worst < 1.0 and pelvis < 1.0, (rms, worst, pelvis)


def test_swapped_labels_both_dropped(walk):
    """R.Thigh.Front and R.Shank.Front labels exchanged: both left out."""
    m, k, src, ref, _ = walk
    ik, rep = fit_trial_markers(m, _swap(src, "R.Thigh.Front", "R.Shank.Front"), height=H, mass=M,
                                kern=k)
    assert sorted(d["marker"] for d in rep.dropped) == ["R.Shank.Front", "R.Thigh.Front"]
    assert all(d["whole"] for d in rep.dropped)
    rms, worst, pelvis = _agreement(m, ref, ik)
    assert rms < 1.0 and worst < 3.0 and pelvis < 2.0, (rms, worst, pelvis)


def test_marker_a_body_cannot_spare_is_kept_and_named(walk):
    """With V.Sacral removed, the pelvis (the root) has R.ASIS and L.ASIS only: R.ASIS 200 mm off
    over frames 40-89 cannot be left out (the root keeps two markers); the note names the body,
    and a fit that fails says so."""
    m, k, src, ref, _ = walk
    s = _offset(src, "R.ASIS", (0.1, 0.15, 0.1), slice(40, 90))
    pos = s.positions.copy()
    pos[:, s.labels.index("V.Sacral")] = np.nan
    s = _with(s, pos)
    ik, rep = fit_trial_markers(m, s, height=H, mass=M, kern=k)
    assert "R.ASIS" not in [d["marker"] for d in rep.dropped]
    kept = [n for n in ik.notes if n.startswith("marker R.ASIS fits badly")]
    assert kept and "body pelvis would keep 1 marker(s) where it is bad, fewer than 2" in kept[0]
    with pytest.raises(IKFitError, match=r"R\.ASIS fits badly.*body pelvis would keep 1"):
        fit_trial_markers(m, s, height=H, mass=M, kern=k, max_rms=0.005)


def test_bad_marker_on_known_residuals():
    """Synthetic residuals (m) at 100 Hz: 10 markers at 10 mm; marker 3 at 200 mm over frames
    100-179 is found over that range (widened by half a window); marker 5 at 200 mm over two
    separate ranges is left out of every frame; a 60 mm marker is below 3 x median only when the
    median is 25 mm; a 100 mm spike of 0.05 s is kept."""
    rng = np.random.default_rng(0)
    T = 400
    err = 0.010 + 0.002 * rng.standard_normal((T, 10))
    err[100:180, 3] = 0.200
    i, fr, r, med = bad_marker(err, 100.0)
    assert i == 3 and abs(med - 0.010) < 0.002
    assert fr[100:180].all() and fr.sum() <= 80 + 2 * 5 + 10 and not fr[:90].any()
    assert abs(r - 0.200) < 0.03
    err2 = err.copy()
    err2[100:180, 3] = 0.010
    err2[20:60, 5] = err2[250:300, 5] = 0.200
    i, fr, r, _ = bad_marker(err2, 100.0)
    assert i == 5 and fr.all()
    err3 = 0.025 + 0.002 * rng.standard_normal((T, 10))
    err3[:, 2] = 0.060
    assert bad_marker(err3, 100.0) is None                  # 60 mm < 3 x 25 mm
    err3[:, 2] = 0.080
    assert bad_marker(err3, 100.0)[0] == 2
    err4 = err.copy()
    err4[100:180, 3] = 0.010
    err4[200:205, 7] = 0.100                               # 0.05 s: its excess lasts < 0.2 s
    assert bad_marker(err4, 100.0) is None
    assert bad_marker(err, 100.0, skip={3}) is None
