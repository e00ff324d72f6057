"""Arm markers on a model with arms (the built-in ``fullbody``): the conventions' arm entries, the
forearm's body-fixed markers, a lab's OpenSim arm markers, and inverse kinematics of a walk whose
arms must swing against the legs."""
import numpy as np
import pytest

from symgait.markers.markersets import MARKERSETS, rank_markersets, resolve
from symgait.markers.osim_markerset import markerset_from_osim

pytestmark = pytest.mark.xdist_group("fullbody")

# Plug-in Gait full body (BTKData PiG_Motion-FlatFoot-Full.c3d)
PIG_FULL = ("LFHD RFHD LBHD RBHD C7 T10 CLAV STRN RBAK LSHO LELB LWRA LWRB LFIN RSHO RELB RWRA RWRB RFIN "
            "LASI RASI LPSI RPSI LTHI LKNE LTIB LANK LHEE LTOE RTHI RKNE RTIB RANK RHEE RTOE").split()
PIG_ARMS = {"LELB", "LWRA", "LWRB", "LFIN", "RELB", "RWRA", "RWRB", "RFIN"}


def test_arm_labels_do_not_change_which_set_is_detected():
    """Detection counts the labels every model can use: the arm labels of a full-body set add
    nothing to any set's count, so a trial's set is the one gait3d was given before."""
    with_arms = rank_markersets(PIG_FULL)
    without = rank_markersets([x for x in PIG_FULL if x not in PIG_ARMS])
    assert with_arms == [(n, c, f) for n, c, f in without] and with_arms[0][0] == "helen_hayes"
    for name, ms in MARKERSETS.items():
        assert not ms.labels() & {lab for e in ms.arm_entries() for lab in e.source_labels}, name
    assert PIG_ARMS <= MARKERSETS["helen_hayes"].labels(arms=True)


def test_forearm_markers_ride_the_forearm(kern):
    """A wrist marker (Plug-in Gait RWRA: the radial styloid) is rigid with the forearm: its
    distances to the elbow and wrist centres never change, while its distance to the shoulder
    does when only the elbow bends; gait3d (no arms) reports it missing."""
    fb, kf = kern("fullbody")
    p = fb.parameters(height=1.75, mass=70.0)
    labels = ["RWRA", "RELB", "RASI"]
    tg = resolve("helen_hayes", labels, np.zeros((1, 3, 3)), fb, p)
    row = tg.A[tg.names.index("RWRA")]
    rng = np.random.default_rng(3)
    q = rng.uniform(-0.6, 0.6, (6, fb.nq))
    q[:, fb.coordinates.index("elbow_flex_r")] = np.linspace(0.1, 2.0, 6)
    P = kf.points(q, np.repeat(p[None], 6, 0))
    x = P.transpose(0, 2, 1) @ row
    pts = {n: P[:, fb.points.index(n)] for n in ("elbow_r_center", "wrist_r_center", "shoulder_r_center")}
    for n in ("elbow_r_center", "wrist_r_center"):
        d = np.linalg.norm(x - pts[n], axis=1)
        assert np.ptp(d) < 1e-9 and d.min() > 0.005, n
    q2 = np.repeat(q[:1], 6, 0)
    q2[:, fb.coordinates.index("elbow_flex_r")] = np.linspace(0.1, 2.0, 6)
    P2 = kf.points(q2, np.repeat(p[None], 6, 0))
    d2 = np.linalg.norm(P2.transpose(0, 2, 1) @ row - P2[:, fb.points.index("shoulder_r_center")], axis=1)
    assert np.ptp(d2) > 0.05
    g, _ = kern("gait3d")
    tg3 = resolve("helen_hayes", labels, np.zeros((1, 3, 3)), g, g.parameters(height=1.75, mass=70.0))
    assert "RWRA" not in tg3.names and any(m.startswith("RWRA") for m in tg3.missing_points)


def test_lab_osim_arm_markers_on_fullbody(data, kern):
    """Hamner's scaled model: humerus markers stay on the humerus, those on the radius (which
    OpenSim moves with pronation) go to fullbody's forearm (pronation 0); on gait3d every arm
    marker is dropped, none moved onto the trunk."""
    path = data("hamner2013_running/subject02/model/subject02_adjusted_scaled.osim")
    fb, _ = kern("fullbody")
    g, _ = kern("gait3d")
    on = {e.source: e.body for e in markerset_from_osim(path, fb.bodies).entries}
    assert on["RLEL"] == "humerus_r" and on["RFAradius"] == "ulna_r" and on["LFAulna"] == "ulna_l"
    g_on = {e.source: e.body for e in markerset_from_osim(path, g.bodies).entries}
    assert not {"RLEL", "RFAradius", "RUA1", "LFAsuperior"} & set(g_on)
    assert g_on["RACR"] == "torso"


def test_fullbody_ik_swings_the_arms_against_the_legs(data, kern):
    """Schreiber & Moissenet 2014001's walk with the subject's scaled OpenSim MarkerSet on
    fullbody: the arm markers fit within 15 mm (measured: 4-14 mm, 7.5 mm over all markers); each
    arm flexes forward while its own hip extends (anti-phase, correlation -0.97 / -0.94) and in
    phase with the other hip, and the elbow bends as the arm swings forward."""
    from symgait.markers.fit import fit_trial_markers, subject_osim
    from symgait.markers.sources import load_source
    motion = data("schreiber2019_walking/2014001/dynamic/2014001_C4_05.c3d")
    fb, kf = kern("fullbody")
    ik, rep = fit_trial_markers(fb, load_source(motion), height=1.66, mass=67.0, kern=kf,
                                osim=subject_osim(motion, root=motion.parents[3]))
    arm = [n for n, b in zip(ik.targets.names, ik.targets.bodies) if b in ("humerus_r", "humerus_l", "ulna_r", "ulna_l")]
    assert len(arm) >= 12, arm
    rms = np.array([ik.target_rms[n] for n in arm])
    assert rms.max() < 0.020 and rms.mean() < 0.015, dict(zip(arm, rms))
    c = {n: ik.q[:, fb.coordinates.index(n)] for n in fb.coordinates}

    def corr(a, b):
        return np.corrcoef(c[a], c[b])[0, 1]
    for s, o in (("r", "l"), ("l", "r")):
        assert corr(f"arm_flex_{s}", f"hip_flexion_{s}") < -0.8
        assert corr(f"arm_flex_{s}", f"hip_flexion_{o}") > 0.7
        assert corr(f"elbow_flex_{s}", f"arm_flex_{s}") > 0.7
        e = np.degrees(c[f"elbow_flex_{s}"])
        assert 5.0 < e.min() and e.max() < 90.0 and np.ptp(e) > 15.0, (s, e.min(), e.max())
        assert np.ptp(np.degrees(c[f"arm_flex_{s}"])) > 15.0


def test_ik_of_the_arms_alone_recovers_a_known_swing(kern):
    """``solve_ik(free=...)``: the arm coordinates of a synthetic swing are recovered from the
    arm points alone while every other coordinate stays exactly as given."""
    from symgait.markers.ik import solve_ik
    from symgait.markers.markersets import ResolvedTargets
    fb, kf = kern("fullbody")
    p = fb.parameters(height=1.8, mass=75.0)
    T = 30
    t = np.arange(T) / 100.0
    rng = np.random.default_rng(5)
    q = np.tile(0.1 * rng.standard_normal(fb.nq), (T, 1))
    q[:, fb.coordinates.index("pelvis_ty")] = 0.95
    arms = [fb.coordinates.index(c) for c in ("arm_flex_r", "arm_add_r", "arm_rot_r", "elbow_flex_r",
                                              "arm_flex_l", "arm_add_l", "arm_rot_l", "elbow_flex_l")]
    swing = np.sin(2 * np.pi * 1.0 * t)
    q[:, arms] = np.array([0.3, -0.2, 0.1, 0.6, -0.3, -0.2, 0.1, 0.5]) + np.outer(swing, [0.4, 0.05, 0.1, 0.3,
                                                                                       -0.4, 0.05, 0.1, 0.3])
    names = [f"{s}.{n}" for s in "RL" for n in ("Elbow", "Bicep", "Wrist.Lat", "Wrist.Med", "Olecranon")]
    A = np.zeros((len(names), len(fb.points)))
    A[np.arange(len(names)), [fb.points.index(n) for n in names]] = 1.0
    Y = np.einsum("mk,tkx->tmx", A, kf.points(q, np.repeat(p[None], T, 0)))
    tg = ResolvedTargets(names=names, points=names, positions=Y, A=A, weights=np.ones(len(names)),
                         unused_labels=[], missing_points=[])
    q0 = q.copy()
    q0[:, arms] = 0.0
    r = solve_ik(fb, kf, p, tg, t, q_init=q0, free=arms)
    others = [j for j in range(fb.nq) if j not in arms]
    assert np.array_equal(r.q[:, others], q[:, others])
    assert np.abs(r.q[:, arms] - q[:, arms]).max() < 1e-3 and max(r.target_rms.values()) < 1e-4
    with pytest.raises(ValueError, match="q_init"):
        solve_ik(fb, kf, p, tg, t, free=arms)
