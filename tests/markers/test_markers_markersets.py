"""Marker conventions: OpenSim MarkerSets, body-fixed markers, detection per lab, IK on each lab's
files against OpenSim's own results, registration of unlabelled markers, the IK report and the
fit threshold's errors."""
import glob

import numpy as np
import pytest

from symgait.markers.body_markers import affine_row, body_anchors, body_poses
from symgait.markers.ik import retarget
from symgait.markers.ik_report import IKFitError, swap_side, swap_sides
from symgait.markers.fit import fit_trial_markers
from symgait.markers.markersets import MARKERSETS, Entry, MarkerSet, detect, resolve
from symgait.trials.coordinates import coordinates_from_mot
from symgait.markers.sources import load_source
from symgait.markers.registration import register_markers
from symgait.io import DataFormatError
from symgait.io.osim import read_osim_markers

pytestmark = pytest.mark.xdist_group("gait3d")

TRC = "opensim/gait2354_subject01_walk1/subject01_walk1.trc"
IK_MOT = "opensim/gait2354_subject01_walk1/subject01_walk1_ik.mot"
HAMNER = "hamner2013_running/subject01/"
SCHREIBER = "schreiber2019_walking/2014001/"
SAGITTAL = ("hip_flexion_r", "hip_flexion_l", "knee_angle_r", "knee_angle_l", "ankle_angle_r",
            "ankle_angle_l")


def _one(data, folder, pattern):
    """The first file matching ``pattern`` under the shared-data ``folder`` (skip if absent)."""
    hits = sorted(glob.glob(str(data(folder) / pattern)))
    if not hits:
        pytest.skip(f"no {pattern} under shared data {folder}")
    return hits[0]


def _slice(src, start, n):
    src.positions = src.positions[start:start + n]
    src.time = src.time[start:start + n]
    return src


def _angle_errors(m, q, q_ref, flip=()):
    """{coordinate: (RMSE, mean offset, scatter about the offset)} in degrees."""
    out = {}
    for c in SAGITTAL:
        j = m.coordinates.index(c)
        d = np.degrees(q[:, j] - (-1 if c in flip else 1) * q_ref[:, j])
        out[c] = (float(np.sqrt(np.mean(d ** 2))), float(np.mean(d)), float(np.std(d)))
    return out


def test_read_osim_markers(data, tmp_path):
    mk = read_osim_markers(data(HAMNER + "model/subject01_adjusted_scaled.osim"))
    by = {x.name: x for x in mk}
    assert len(mk) == 64 and by["RASI"].body == "pelvis" and by["RTH1"].body == "femur_r"
    # the value as written in the file
    assert np.allclose(by["RACR"].location, [-0.011086474445785921, 0.4313748598603151, 0.146697487627654])
    old = tmp_path / "old.osim"   # OpenSim 3.x layout: <body> instead of socket_parent_frame
    old.write_text('<OpenSimDocument Version="30000"><Model name="x"><MarkerSet><objects>'
                   '<Marker name="A"><body>tibia_r</body><location> 0.1 -0.2 0.03 </location></Marker>'
                   '</objects></MarkerSet></Model></OpenSimDocument>')
    (a,) = read_osim_markers(old)
    assert a.body == "tibia_r" and np.allclose(a.location, [0.1, -0.2, 0.03])
    bad = tmp_path / "none.osim"
    bad.write_text('<OpenSimDocument><Model name="x"><BodySet/></Model></OpenSimDocument>')
    with pytest.raises(DataFormatError, match="MarkerSet"):
        read_osim_markers(bad)


def test_body_fixed_rows_move_rigidly(kern):
    """A body-fixed point as an affine row of the model points: at random poses it stays at its
    offset in the body's frame (rigid motion), also for bodies handed to their parent."""
    m, k = kern("gait3d")
    p = m.parameters(height=1.7, mass=70)
    an = body_anchors(m, p)
    q = np.random.default_rng(3).normal(scale=0.6, size=(6, m.nq))
    P = k.points(q, p)
    c = np.array([0.04, -0.07, 0.03])
    for b in ("pelvis", "femur_r", "tibia_l", "calcn_r", "torso"):
        row, used, off = affine_row(m, p, b, c, an)
        assert used == b
        R, o = body_poses(an[b], P)
        assert np.allclose(np.einsum("tji,tj->ti", R, row @ P - o), c, atol=1e-10)
    row, used, off = affine_row(m, p, "toes_r", c, an)      # two anchors only: onto calcn_r
    assert used == "calcn_r"
    R, o = body_poses(an["calcn_r"], P)
    assert np.allclose(np.einsum("tji,tj->ti", R, row @ P - o), off, atol=1e-10)


@pytest.mark.parametrize("rel,expected", [
    (TRC, "gait2354"), (HAMNER + "expData/Run_3.trc", "hamner"),
    (SCHREIBER + "dynamic/*_C4_*.c3d", "isb"), ("c3d_org/Walk1.c3d", "helen_hayes"),
    ("cmu/subject08/08_01.amc", "cmu")])
def test_convention_detected_per_lab(data, rel, expected):
    src = load_source(_one(data, *rel.rsplit("/", 1)) if "*" in rel else data(rel))
    d = detect(src.labels)
    assert d.markerset.name == expected, d.reason
    assert expected in d.reason


def test_detection_refuses_unknown_labels():
    with pytest.raises(ValueError, match="--osim"):
        detect(["M1", "M2", "M3", "RASI", "foo"])
    assert swap_side("RASI") == "LASI" and swap_side("L_FLE") == "R_FLE" and swap_side("R.Heel") == "L.Heel"
    assert swap_side("calcn_r") == "calcn_l" and swap_side("Rear") == "Rear"
    assert swap_sides(["rfemur", "lfemur", "root", "lowerback"]) == ["lfemur", "rfemur", "root", "lowerback"]


def test_isb_schreiber_vs_opensim_ik(data, kern):
    """ISB landmarks (built-in set, offsets re-fitted) on a Schreiber & Moissenet walk vs the
    data set's OpenSim IK (Rajagopal-type model; its knee angle is positive in flexion)."""
    m, k = kern("gait3d")
    src = load_source(_one(data, SCHREIBER + "dynamic", "*_C4_*.c3d"))
    qo, to, _ = coordinates_from_mot(m, _one(data, SCHREIBER + "ik", "C4_*/*_ik.mot"))
    i0 = int(round((to[0] - src.c3d.time[0]) * src.rate))
    n = 15
    ik, rep = fit_trial_markers(m, _slice(src, i0, n), height=1.66, mass=67, kern=k)
    assert rep.markerset.startswith("isb") and rep.ik_rms_mm < 20, rep.text()
    err = _angle_errors(m, ik.q, qo[:n], flip=("knee_angle_r", "knee_angle_l"))
    for c, (rmse, off, scatter) in err.items():
        # different models: constant offsets (pelvis tilt, ankle neutral) up to ~17°, the
        # shape of each angle within 3°
        lim = 18.0 if c.startswith("ankle") else 10.0
        assert rmse < lim and scatter < 3.0, (c, err[c])


def test_hamner_vs_moco_kinematics(data, kern):
    """Hamner clusters (built-in set, offsets re-fitted) on a 5 m/s run vs the OpenSim Moco
    tracking of the same run (subject01, cycle 1)."""
    m, k = kern("gait3d")
    src = load_source(data(HAMNER + "expData/Run_5.trc"))
    qo, to, _ = coordinates_from_mot(m, data(HAMNER + "moco/run5/cycle1/subject01_run5_cycle1_mocoKinematics.sto"))
    i0 = int(np.argmin(np.abs(src.time - to[0])))
    ik, rep = fit_trial_markers(m, _slice(src, i0, 15), height=1.8, mass=65, kern=k)
    assert rep.markerset.startswith("hamner") and rep.ik_rms_mm < 20, rep.text()
    qr = np.stack([np.interp(ik.time, to, qo[:, j]) for j in range(m.nq)], 1)
    err = _angle_errors(m, ik.q, qr)
    for c, (rmse, off, scatter) in err.items():
        lim = 15.0 if c.startswith("ankle") else 10.0
        assert rmse < lim and scatter < 3.0, (c, err[c])


def test_osim_markerset_path(data, kern):
    """The subject's own scaled .osim MarkerSet maps the Hamner markers onto gait3d bodies."""
    m, k = kern("gait3d")
    osim = data(HAMNER + "model/subject01_adjusted_scaled.osim")
    src = _slice(load_source(data(HAMNER + "expData/Run_3.trc")), 0, 15)
    ik, p, tg = retarget(m, k, src, height=1.8, mass=65, osim=osim)
    assert tg.markerset.startswith("osim:") and "RTH1" in tg.names and tg.bodies[tg.names.index("RTH1")] == "femur_r"
    assert "RUA1" in tg.unused_labels            # arm markers: gait3d has no arms
    assert ik.report.ik_rms_mm < 25, ik.report.text()
    assert "MarkerSet of subject01_adjusted_scaled.osim" in ik.report.choice


def test_registration_recovers_hidden_markers(data, kern):
    """Synthetic trial from the model (OpenSim IK angles of subject01): the gait2354 markers plus
    six markers at known offsets on six bodies, labelled M1..M6; registration finds each
    marker's body and offset."""
    m, k = kern("gait3d")
    qo, to, _ = coordinates_from_mot(m, data(IK_MOT))
    q = qo[::4][:20]
    p = m.parameters(height=1.8, mass=72)
    truth = {"M1": ("femur_r", [0.05, -0.20, 0.07]), "M2": ("tibia_l", [0.04, -0.15, -0.06]),
             "M3": ("calcn_r", [0.10, 0.05, 0.05]), "M4": ("pelvis", [-0.12, 0.08, 0.05]),
             "M5": ("torso", [0.10, 0.35, 0.0]), "M6": ("femur_l", [0.06, -0.30, -0.05])}
    gait = list(MARKERSETS["gait2354"].labels())
    ms = MarkerSet("truth", [Entry(n, n) for n in gait] +
                   [Entry(n, "", body=b, offset=tuple(o), scaled=False) for n, (b, o) in truth.items()])
    labels = gait + list(truth)
    tg = resolve(ms, labels, np.zeros((1, len(labels), 3)), m, p)
    Y = np.einsum("mk,tkx->tmx", tg.A, k.points(q, p))
    order = [tg.names.index(n) for n in labels]
    reg = register_markers(m, k, labels, Y[:, order], height=1.8, mass=72, known="gait2354",
                           fit_height=False)
    assert set(reg.assignment) == set(truth) and not reg.rejected
    for n, (b, o) in truth.items():
        a = reg.assignment[n]
        assert a["body"] == b, (n, a)
        assert np.allclose(a["offset_m"], o, atol=2e-3), (n, a["offset_m"], o)
    assert reg.rms_mm[-1] < 1.0


def test_ik_threshold_names_the_cause(data, kern):
    m, k = kern("gait3d")
    src = _slice(load_source(data(TRC)), 0, 12)
    ik, p, tg = retarget(m, k, src, height=1.803, mass=72.6)
    rep = ik.report
    assert rep.passed and rep.ik_rms_mm < 25 and rep.ik_worst_marker in rep.marker_rms_mm
    assert rep.frames == 12 and 0 <= rep.worst_frame < 12 and rep.threshold_mm == 40
    assert set(rep.to_dict()) >= {"markerset", "ik_rms_mm", "ik_worst_marker", "frames"}
    mm = _slice(load_source(data(TRC)), 0, 12)
    mm.positions = mm.positions * 1000.0                       # millimetres read as metres
    with pytest.raises(IKFitError, match="units") as e:
        retarget(m, k, mm, height=1.803, mass=72.6)
    assert "millimetres read as metres" in str(e.value) and e.value.report.ik_rms_mm > 40
    sw = _slice(load_source(data(TRC)), 0, 12)
    sw.labels = swap_sides(sw.labels)                            # left/right labels exchanged
    with pytest.raises(IKFitError, match="left/right labels swapped"):
        retarget(m, k, sw, height=1.803, mass=72.6)


def test_user_map_body_entry(tmp_path, kern):
    m, k = kern("gait3d")
    f = tmp_path / "map.yaml"
    f.write_text("name: mine\nmarkers:\n  RASI: R.ASIS\n  RTH9: {body: femur_r, offset: [0.05, -0.2, 0.07], weight: 0.5}\n")
    from symgait.markers.markersets import load_markerset
    ms = load_markerset(f)
    e = ms.entries[1]
    assert e.body == "femur_r" and not e.scaled and e.weight == 0.5
    p = m.parameters(height=1.7, mass=70)
    tg = resolve(ms, ["RASI", "RTH9"], np.zeros((2, 2, 3)), m, p)
    assert tg.bodies == [None, "femur_r"] and tg.points[1] == "femur_r@(0.0500, -0.2000, 0.0700)"
    # at q = 0 every body frame is aligned with the world: the point is the hip centre + offset
    P = k.points(np.zeros((1, m.nq)), p)[0]
    hip = P[m.points.index("hip_r_center")]
    assert np.allclose(tg.A[1] @ P, hip + [0.05, -0.2, 0.07], atol=1e-12)
    bad = tmp_path / "bad.yaml"
    bad.write_text("markers:\n  X: {body: femur_r, offset: [1, 2]}\n")
    with pytest.raises(ValueError, match="3 numbers"):
        load_markerset(bad)


def test_planar_models_checked_in_their_plane(data, kern):
    """A sagittal model cannot follow the markers' lateral motion: its fit is checked on the
    in-plane (X-Y) error, which is never larger than the 3-D one."""
    m, k = kern("planar")
    src = _slice(load_source(data("cmu/subject08/08_01.amc")), 0, 40)
    ik, p, tg = retarget(m, k, src, height=1.65, mass=65)
    rep = ik.report
    assert rep.checked_on == "sagittal plane" and rep.passed
    assert rep.checked_rms_mm <= rep.ik_rms_mm
    e = ik.fitted[..., :2] - tg.positions[..., :2]
    assert np.isclose(rep.checked_rms_mm, 1000 * np.mean(np.sqrt(np.mean(np.sum(e ** 2, -1), 1))))


def test_detection_ties_and_coverage():
    from symgait.markers.markersets import rank_markersets
    a = MarkerSet("a", [Entry(x, "R.ASIS") for x in ("P", "Q", "R", "S", "T", "U")])
    b = MarkerSet("b", [Entry(x, "R.ASIS") for x in ("P", "Q", "R", "S")])
    labels = ["P", "Q", "R", "S", "Z"]
    assert [r[0] for r in rank_markersets(labels, {"a": a, "b": b})] == ["b", "a"]
    d = detect(labels, {"a": a, "b": b})
    assert d.markerset.name == "b" and d.runner_up == "a" and "tie with a" in d.reason


def test_registration_of_renamed_real_markers(data, kern):
    """Hamner cluster markers given unknown names are assigned back to their bodies."""
    m, k = kern("gait3d")
    src = _slice(load_source(data(HAMNER + "expData/Run_3.trc")), 0, 15)
    hidden = {"RTH1": "U1", "RTH3": "U2", "RTB2": "U3", "LTB1": "U4"}
    src.labels = [hidden.get(x, x) for x in src.labels]
    ik, rep = fit_trial_markers(m, src, height=1.8, mass=65, kern=k, register=True)
    bodies = {u: rep.assignment[u]["body"] for u in hidden.values()}
    assert bodies == {"U1": "femur_r", "U2": "femur_r", "U3": "tibia_r", "U4": "tibia_l"}, rep.assignment
    assert rep.ik_rms_mm < 20 and "registered" in rep.choice, rep.text()


def test_anatomical_names_matched_by_spelling(kern):
    from symgait.markers.anatomical_names import anatomical_markerset, split_side
    from symgait.markers.ik import choose_markerset
    assert split_side("L_Ankle_Lat") == ("L", "anklelat") and split_side("RAcromium") == ("R", "acromium")
    assert split_side("r.ASIS") == ("R", "asis") and split_side("Rear")[0] is None
    assert split_side("LxLatMal") == ("L", "latmal")
    assert split_side("RASI") == ("R", "asi")          # a Plug-in-Gait code: not a landmark name
    labels = ["L_ASIS", "R_ASIS", "L_PSIS", "R_PSIS", "l_knee", "R_Knee_Lateral", "LAnkleLat",
              "R_MT_5", "R_5meta", "Sternum", "R_HJC", "RTHI"]
    ms = anatomical_markerset(labels)
    got = {e.source: e.point for e in ms.entries}
    assert got == {"L_ASIS": "L.ASIS", "R_ASIS": "R.ASIS", "l_knee": "L.Knee.Lat",
                   "R_Knee_Lateral": "R.Knee.Lat", "LAnkleLat": "L.Ankle.Lat", "R_MT_5": "R.Toe.Lat",
                   "R_5meta": "R.Toe.Lat", "Sternum": "Sternum", "R_HJC": "hip_r_center",
                   "L_PSIS+R_PSIS": "V.Sacral"}
    m, _ = kern("gait3d")
    ms2, why = choose_markerset(m, labels)
    assert ms2.name == "anatomical" and "by name" in why
    ms3, why3 = choose_markerset(m, ["RASI", "LASI", "RKNE", "LKNE", "RANK", "LANK", "RHEE", "LHEE"])
    assert ms3.name == "helen_hayes"
