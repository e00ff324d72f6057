"""OpenSim .mot/.sto/.trc/ExternalLoads readers against facts stated in the shared
data README (frame counts, rates, marker counts, subject mass/height) and physics."""

import numpy as np
import pytest

from symgait.io import read_external_loads, read_mot, read_osim, read_sto, read_trc
from symgait.signals.filters import resample

W1 = "opensim/gait2354_subject01_walk1/"
G10 = "opensim/gait10dof_subject01_walk/"
RUN = "opensim/hamner_subject02_running/"
G = 9.80665


def test_grf_mot_shape_rate_and_columns(data):
    g = read_mot(data(W1 + "subject01_walk1_grf.mot"))
    # README: two force plates, 600 Hz, 0-2.5 s (header nRows=1501, nColumns=19)
    assert g.data.shape == (1501, 18)
    assert g.time[0] == 0.0 and g.time[-1] == pytest.approx(2.5)
    assert g.rate == pytest.approx(600.0, rel=1e-3)
    assert g.in_degrees is True
    for pre in ("ground_force_v", "ground_force_p", "1_ground_force_v", "1_ground_force_p"):
        for a in "xyz":
            assert pre + a in g.names
    for pre in ("ground_torque_", "1_ground_torque_"):
        for a in "xyz":
            assert pre + a in g
    assert g.column("time") is g.time
    with pytest.raises(KeyError, match="ground_force_vy"):
        g.column("ground_force_yv")


def _heel_strikes(fy, thr=20.0):
    return np.where((fy[1:] > thr) & (fy[:-1] <= thr))[0] + 1


def test_grf_vertical_force_averages_body_weight_over_gait_cycle(data):
    """Over one full gait cycle the mean total vertical GRF equals body weight
    (mean vertical acceleration of the centre of mass is ~0); the subject is
    72.6 kg (README / subject01_Setup_Scale.xml)."""
    g = read_mot(data(W1 + "subject01_walk1_grf.mot"))
    el = read_external_loads(data(W1 + "subject01_walk1_grf.xml"))
    fy = {f.applied_to_body: f.data(g)[0][:, 1] for f in el}
    total = fy["calcn_r"] + fy["calcn_l"]
    hs = _heel_strikes(fy["calcn_r"])
    assert len(hs) >= 2
    a, b = hs[0], hs[1]
    cycle = g.time[b] - g.time[a]
    assert 0.9 < cycle < 1.5                       # walking stride time, s
    mean = total[a:b].mean()
    assert mean == pytest.approx(72.6 * G, rel=0.02)   # measured: 714.8 N vs 712.0 N
    # peak vertical force of walking: 1.0-1.4 body weights
    for side in ("calcn_r", "calcn_l"):
        assert 1.0 < fy[side].max() / (72.6 * G) < 1.4
    # impulse over the cycle = BW * cycle time
    assert np.trapezoid(total[a:b + 1], g.time[a:b + 1]) == pytest.approx(72.6 * G * cycle,
                                                                          rel=0.02)


def test_grf_cop_on_ground_plane_under_the_right_foot(data):
    """COP lies on the plane y = -0.0075 m, on the subject's right (Z>0) for the
    plate mapped to calcn_r and left for calcn_l, and between that foot's heel
    and toe markers (from the .trc, independent data) during stance."""
    g = read_mot(data(W1 + "subject01_walk1_grf.mot"))
    m = read_trc(data(W1 + "subject01_walk1.trc"))
    el = read_external_loads(data(W1 + "subject01_walk1_grf.xml"))
    for f, side in zip(el, "RL"):
        F, p, T = f.data(g)
        loaded = F[:, 1] > 100.0
        assert loaded.sum() > 600                    # > 1 s of stance at 600 Hz
        np.testing.assert_allclose(p[loaded, 1], -0.0075)
        zsign = 1 if side == "R" else -1
        assert np.all(zsign * p[loaded, 2] > 0)
        heel = resample(m.marker(f"{side}.Heel"), m.time, g.time, outside="clip")
        toe = resample(m.marker(f"{side}.Toe.Tip"), m.time, g.time, outside="clip")
        lo = np.minimum(heel[:, 0], toe[:, 0]) - 0.03
        hi = np.maximum(heel[:, 0], toe[:, 0]) + 0.03
        assert np.all((p[loaded, 0] >= lo[loaded]) & (p[loaded, 0] <= hi[loaded]))
        # COP within 5 cm of the heel marker sideways
        assert np.max(np.abs(p[loaded, 2] - heel[loaded, 2])) < 0.05


def test_trc_markers_in_metres(data):
    m = read_trc(data(W1 + "subject01_walk1.trc"))
    # README: 41 markers, 60 Hz, 151 frames (0-2.5 s); file units mm
    assert m.positions.shape == (151, 41, 3)
    assert m.rate == 60.0 and m.units == "mm"
    assert m.time[0] == 0.0 and m.time[-1] == pytest.approx(2.5)
    np.testing.assert_array_equal(m.frames, np.arange(1, 152))
    assert not np.isnan(m.positions).any()
    # first value of the file: R.ASIS X = 617.247620 mm
    assert m.positions[0, 0, 0] == pytest.approx(0.61724762)
    for name in ("R.ASIS", "L.ASIS", "V.Sacral"):
        y = m.marker(name)[:, 1]
        assert 0.9 < y.min() and y.max() < 1.15, name
    # Z right: right-side markers at +Z, left-side at -Z
    assert np.all(m.marker("R.ASIS")[:, 2] > m.marker("L.ASIS")[:, 2])
    assert m.marker("R.Heel")[:, 2].mean() > 0 > m.marker("L.Heel")[:, 2].mean()
    # subject height 1.803 m (README): top-of-head marker peaks just above it
    assert 1.75 < m.marker("Top.Head")[:, 1].max() < 1.85
    # heels touch the floor (y ~ 0) at some point
    assert m.marker("R.Heel")[:, 1].min() < 0.08


def test_trc_running(data):
    m = read_trc(data(RUN + "subject02_running.trc"))
    # README: 41 markers, 60 Hz, 600 frames
    assert m.positions.shape == (600, 41, 3)
    assert m.rate == 60.0
    y = m.marker("V.Sacral")[:, 1]
    assert 0.85 < y.mean() < 1.2


def test_ik_and_id_tables(data):
    ik = read_mot(data(W1 + "subject01_walk1_ik.mot"))
    idt = read_sto(data(W1 + "inverse_dynamics.sto"))
    # README: 23 coordinates, 0.4-1.6 s
    assert ik.data.shape == (73, 23)
    assert ik.time[0] == pytest.approx(0.4) and ik.time[-1] == pytest.approx(1.6)
    assert ik.in_degrees and not idt.in_degrees
    assert idt.data.shape == (73, 23)
    np.testing.assert_allclose(idt.time, ik.time, atol=1e-6)
    model = read_osim(data(W1 + "subject01_simbody.osim"))
    assert set(ik.names) == set(model.coordinates)
    # ID columns are <coordinate>_moment / _force, translational ones are forces
    for name in ik.names:
        kind = model.coordinates[name].motion_type
        col = name + ("_moment" if kind == "rotational" else "_force")
        assert col in idt.names
    # degrees -> radians only for rotational coordinates
    rad = ik.to_radians(model.rotational_coordinates())
    assert not rad.in_degrees
    np.testing.assert_allclose(rad.column("knee_angle_r"), np.radians(ik.column("knee_angle_r")))
    np.testing.assert_array_equal(rad.column("pelvis_ty"), ik.column("pelvis_ty"))
    assert 0.9 < rad.column("pelvis_ty").mean() < 1.1         # pelvis height, m
    assert -2.1 < rad.column("knee_angle_r").min() < -0.5     # knee flexion in swing, rad


def test_gait10dof_tables(data):
    ik = read_mot(data(G10 + "subject01_walk_IK.mot"))
    idt = read_sto(data(G10 + "subject01_walk_ID.sto"))
    assert ik.data.shape == (151, 10) and idt.data.shape == (151, 10)
    model = read_osim(data(G10 + "subject01.osim"))
    assert list(ik.names) == list(model.coordinates)


def test_running_grf_legacy_header(data):
    path = data(RUN + "subject02_running_grf.mot")
    # the published header says 'datarows 901' / 'range 0 15' but holds 601 rows (0-10 s)
    with pytest.warns(UserWarning, match="datarows 901"):
        g = read_mot(path)
    assert g.header["datacolumns"] == "42"
    assert g.data.shape == (601, 41)
    assert g.rate == pytest.approx(60.0, rel=0.01)
    assert g.in_degrees is False                  # no inDegrees key in this header
    el = read_external_loads(data(RUN + "External_Loads.xml"))
    for f in el:
        F, p, T = f.data(g)
        assert F[:, 1].max() > 1.5 * 65.9 * G     # running: peak vertical GRF > 1.5 BW
        loaded = F[:, 1] > 50
        assert np.all(np.abs(p[loaded, 1] + 0.0075) < 1e-9)


def test_external_loads(data):
    el = read_external_loads(data(W1 + "subject01_walk1_grf.xml"))
    assert len(el) == 2
    right, left = el
    assert (right.name, right.applied_to_body) == ("right", "calcn_r")
    assert (left.name, left.applied_to_body) == ("left", "calcn_l")
    assert right.force_identifier == "ground_force_v"
    assert right.point_identifier == "ground_force_p"
    assert right.torque_identifier == "ground_torque_"
    assert left.force_columns == ["1_ground_force_vx", "1_ground_force_vy", "1_ground_force_vz"]
    assert right.force_expressed_in_body == "ground" and not right.disabled
    assert el.datafile == "subject01_walk1_grf.mot"
    assert right.datafile == left.datafile == "subject01_walk1_grf.mot"
    assert el.datafile_path.exists()
    assert el["left"] is left

    run = read_external_loads(data(RUN + "External_Loads.xml"))
    assert [f.applied_to_body for f in run] == ["calcn_r", "calcn_l"]
    assert run[0].data_source_name == "subject02_running_grf.mot"

    g10 = read_external_loads(data(G10 + "subject01_walk_grf.xml"))
    # names a file that the shared folder holds under the gait2354 trial's name
    assert g10.datafile == "subject01_walk_grf.mot"


def test_mot_whitespace_and_missing_time(tmp_path):
    p = tmp_path / "a.sto"
    p.write_text("title\nnRows=2\nnColumns=3\nendheader\ntime a b\n0 1 2\n0.5 3 4\n")
    t = read_sto(p)
    assert t.names == ("a", "b") and t.header["title"] == "title"
    np.testing.assert_array_equal(t.data, [[1, 2], [3, 4]])
    assert t.rate == pytest.approx(2.0)
