"""Readers → retargeting (IK) on the shared real files: fit errors in mm, marker sets, stick
figure, direct mapping of OpenSim coordinates."""
import matplotlib.image as plt_image
import numpy as np
import pytest

from symgait.markers.ik import retarget, stick_figure
from symgait.markers.markersets import MARKERSETS, load_markerset, resolve
from symgait.trials.coordinates import coordinates_from_mot
from symgait.markers.sources import load_source

TRC = "opensim/gait2354_subject01_walk1/subject01_walk1.trc"
IK_MOT = "opensim/gait2354_subject01_walk1/subject01_walk1_ik.mot"


def test_trc_gait2354_fit_and_agreement_with_opensim_ik(data, kern, tmp_path):
    m, k = kern("gait3d")
    src = load_source(data(TRC))
    assert src.markerset == "gait2354"
    ik, p, tg = retarget(m, k, src, height=1.803, mass=72.6)
    # 31 of 41 TRC markers have a model point (arm and temple markers do not)
    assert len(tg.names) == 31 and "R.Elbow" in tg.unused_labels
    rms_mm = 1000 * ik.rms
    assert rms_mm.mean() < 25 and rms_mm.max() < 30, ik.summary()
    lower = [n for n in tg.names if not any(s in n for s in ("Acromium", "Head", "Sternum"))]
    assert np.mean([ik.target_rms[n] for n in lower]) < 0.02
    # same trial through OpenSim's own IK (gait2354 scaled to the subject): sagittal angles
    qo, to, _ = coordinates_from_mot(m, data(IK_MOT))
    i0 = int(round(to[0] * src.rate))
    d = np.degrees(ik.q[i0:i0 + len(to)] - qo)
    rms = dict(zip(m.coordinates, np.sqrt(np.mean(d ** 2, axis=0))))
    for c in ("knee_angle_r", "knee_angle_l", "ankle_angle_r", "ankle_angle_l"):
        assert rms[c] < 5.0, (c, rms[c])
    for c in ("hip_flexion_r", "hip_flexion_l"):   # de Leva pelvis vs OpenSim's: ~7° tilt offset
        assert rms[c] < 10.0, (c, rms[c])
    png = stick_figure(m, k, ik, tmp_path / "stick.png", frames=[0, 75])
    img = plt_image.imread(png)[..., :3]
    assert img.shape[1] > img.shape[0] * 0.9          # two frames side by side, two views stacked
    # both legs drawn (right red, left blue), fitted crosses (green) and source dots (black)
    for rgb in ((0.839, 0.153, 0.157), (0.122, 0.467, 0.706), (0.173, 0.627, 0.173), (0.0, 0.0, 0.0)):
        assert (np.abs(img - rgb).max(axis=-1) < 0.05).sum() > 200, rgb


@pytest.mark.parametrize("model", ["gait3d", "planar"])
def test_c3d_helen_hayes(data, kern, model):
    m, k = kern(model)
    src = load_source(data("c3d_org/Walk1.c3d"))
    assert src.markerset == "helen_hayes"
    # lab Z up -> OpenSim Y up; walking along +X
    assert np.allclose(src.R[1], [0, 0, 1], atol=1e-6)
    ik, p, tg = retarget(m, k, src, height=1.75, mass=88)
    assert "VRHI" in tg.names and "RTHI" in tg.unused_labels
    lim = 25 if model == "gait3d" else 40       # planar: no frontal-plane motion
    assert 1000 * ik.rms.mean() < lim, ik.summary()
    # exported joint centres fit within 3 cm (gait3d)
    if model == "gait3d":
        for n in ("VRHI", "VLHI", "VRKN", "VLKN", "VRAN", "VLAN"):
            assert ik.target_rms[n] < 0.03, (n, ik.target_rms[n])
        assert any("segment lengths" in s for s in ik.notes)


def test_c3d_plug_in_gait_with_gaps(data, kern):
    m, k = kern("gait3d")
    src = load_source(data("c3d_org/gait-raw.c3d"))
    ik, p, tg = retarget(m, k, src, height=1.75, mass=62)
    assert any("kept" in s for s in ik.notes)        # trailing frames without ASIS cut
    assert 1000 * ik.rms.mean() < 25, ik.summary()
    # sparse set (no heel or wand markers): joint ranges keep the legs plausible
    assert np.degrees(np.abs(ik.q[:, m.coordinates.index("hip_rotation_r")])).max() < 45


def test_cmu_joint_centres(data, kern):
    m, k = kern("gait3d")
    src = load_source(data("cmu/subject08/08_01.amc"))
    assert src.kind == "joint_centres" and src.markerset == "cmu"
    ik, p, tg = retarget(m, k, src, height=1.65, mass=65)
    for n in ("rhipjoint", "lhipjoint", "rfemur", "lfemur", "rtibia", "ltibia"):
        assert ik.target_rms[n] < 0.03, (n, ik.target_rms[n])
    assert 1000 * ik.rms.mean() < 45, ik.summary()


def test_user_mapping_file(data, kern, tmp_path):
    m, k = kern("gait3d")
    f = tmp_path / "map.yaml"
    f.write_text("name: mine\nmarkers:\n  RASI: R.ASIS\n  LASI: L.ASIS\n  VSAC: V.Sacral\n"
                 "  RKNE: R.Knee.Lat\n  LKNE: L.Knee.Lat\n  RANK: R.Ankle.Lat\n  LANK: L.Ankle.Lat\n"
                 "  RHEE: R.Heel\n  LHEE: L.Heel\n  R.TO: {point: R.Toe.Med+R.Toe.Lat, weight: 0.5}\n"
                 "  L.TO: {point: L.Toe.Med+L.Toe.Lat, weight: 0.5}\n")
    ms = load_markerset(f)
    assert ms.name == "mine" and ms.entries[-1].weight == 0.5
    src = load_source(data("c3d_org/Walk1.c3d"))
    tg = resolve(ms, src.labels, src.positions, m)
    assert len(tg.names) == 11 and np.count_nonzero(tg.A[-1]) == 2
    with pytest.raises(FileNotFoundError):
        load_markerset(tmp_path / "nope.yaml")
    assert set(MARKERSETS) == {"gait2354", "helen_hayes", "cmu", "hamner", "isb"}


@pytest.mark.parametrize("model", ["gait3d", "planar"])
def test_direct_mapping_from_opensim_mot(data, kern, model):
    m, k = kern(model)
    rel = IK_MOT if model == "gait3d" else "opensim/gait10dof_subject01_walk/subject01_walk_IK.mot"
    q, t, missing = coordinates_from_mot(m, data(rel))
    assert missing == []
    from symgait.io import read_mot
    raw = read_mot(data(rel))
    i = m.coordinates.index("knee_angle_r")
    assert np.allclose(q[:, i], np.radians(raw.column("knee_angle_r")))
    assert np.allclose(q[:, m.coordinates.index("pelvis_ty")], raw.column("pelvis_ty"))
