"""Two sources of the shared data found by discovery and processed: Fukuchi et al. 2017 (22
treadmill runners at 3.5 m/s, one plate under both feet) and biomechZoo's sample study (13
children walking overground, two plates, Plug-in Gait + Oxford Foot Model with Vicon model
outputs stored as points).  Expected facts come from the data's README.md and from physics
(body weight, the belt moving the stance foot backwards)."""
import numpy as np
import pytest

from symgait.datasets.discover import discover
from symgait.io import read_c3d
from symgait.markers.sources import load_source
from symgait.trials.pipeline import process_trial, trial_summary
from symgait.forces.wrench import centre_of_pressure

G = 9.80665
FUK = "fukuchi2017_running"
ZOO = "biomechzoo_children"


@pytest.fixture(scope="module")
def trials(data):
    return discover(data())


def _source(trials, src):
    ts = [t for t in trials if t["source"] == src]
    if not ts:
        pytest.skip(f"{src} not in the shared data")
    return ts


def test_fukuchi_discovered(trials):
    ts = _source(trials, FUK)
    runs = [t for t in ts if not t["refuse"]]
    assert len({t["subject"] for t in runs}) == 22 and len(runs) == 22
    for t in runs:
        assert t["activity"] == "running (treadmill)" and t["speed"] == 3.5
        assert t["population"] == "adults" and 22 <= t["age"] <= 51      # README: age 22-51
        assert 56.8 <= t["mass"] <= 82.3 and 1.64 <= t["height"] <= 1.88, t   # README's ranges
        assert t["markerset"].endswith(t["name"].replace("runT35", "static.c3d"))
        assert t["time_range"] == [0.0, 10.0]
    static = [t for t in ts if t["refuse"]]
    assert len(static) == 22 and all("static" in t["refuse"] for t in static)


def test_biomechzoo_discovered(data, trials):
    ts = _source(trials, ZOO)
    walks = [t for t in ts if not t["refuse"]]
    assert len({t["subject"] for t in walks}) == 13 and len(walks) == 13
    assert all(t["population"] == "children" and t["age"] is None for t in ts)   # no age in the files
    for t in walks:
        assert t["activity"] == "walking (overground)"
        assert 23.0 <= t["mass"] <= 60.5 and 1.22 <= t["height"] <= 1.80, t   # README's ranges
    static = [t for t in ts if t["refuse"]]
    assert len(static) == 9 and all("static" in t["refuse"] for t in static)
    # the file's mass against physics: the static trial stands on plate 1
    by = {t["subject"]: t for t in walks}
    st = next(t for t in static if t["subject"] == "biomechzoo:HC002D")
    c = read_c3d(st["motion"])
    fz = float(np.mean(c.plates[0].force[:, 2]))
    assert abs(fz / (by["biomechzoo:HC002D"]["mass"] * G) - 1) < 0.05


def test_biomechzoo_model_points_are_not_markers(data):
    path = data(f"{ZOO}/HC002D/Straight/HC002D06.c3d")
    src = load_source(path)
    assert "LASI" in src.labels and "LP1M" in src.labels and "LHJC" in src.labels
    for vicon in ("PELO", "LFEA", "HEDL", "CentreOfMass", "LFOF0", "LTIB1", "LArchHeight"):
        assert vicon not in src.labels
    assert 59 <= len(src.labels) <= 65            # 59 skin markers (README) + joint centres
    assert not src.treadmill


def test_fukuchi_treadmill_run_processed(data, kern):
    """3 s of runner RBDS001 (62 kg, 1.81 m): the heading is where the pelvis faces and the stance
    foot moves backwards on the belt; the one plate's force is split between the feet with
    nothing lost and no frame loading both; mean vertical force over the strides is body weight.
    Each loaded frame's centre of pressure lies under the foot it is given to (within 0.1 m of
    its heel-toe line above 100 N), the peak ankle plantarflexion moment is a runner's (Hamner
    et al. 2010: 2.5-3 N·m/kg at 3-5 m/s), and the trunk, which no marker sees, does not sway
    sideways with the pelvis (root residual's medio-lateral force under 2 N/kg; rigid on the
    pelvis it is 3.2)."""
    m, k = kern("gait3d")
    run = data(f"{FUK}/RBDS001/RBDS001runT35.c3d")
    static = data(f"{FUK}/RBDS001/RBDS001static.c3d")
    src = load_source(run)
    assert src.treadmill and abs(src.R[0, 0]) > 0.95       # forward along the belt (lab X)
    tr = process_trial(m, k, run, height=1.81, mass=62.0, markerset=static, time_range=(0.0, 3.0))
    s = tr.sequence
    summ = trial_summary(k, tr)
    assert summ["ik_rms_mm"] < 15 and summ["plates_used"] == 1
    assert summ["markerset"].startswith("static RBDS001static")
    assert tr.shared_frames == 0 and summ["shared_plate_frames"] == 0
    F = s.w[..., 1]
    on = F > 20.0
    assert not on.all(1).any()                            # no frame loads both feet
    assert 0.2 < (~on.any(1)).mean() < 0.5                # flight phases
    assert on[:, 0].any() and on[:, 1].any()
    # nothing lost in the split: the plate's mean vertical force is the feet's
    c3d = read_c3d(run)
    plate = c3d.plates[0]
    tot = np.interp(s.time + c3d.time[0], plate.time, plate.force[:, 1])   # lab Y is up
    assert abs(np.mean(tot) / np.mean(F.sum(1)) - 1) < 0.02
    assert abs(np.mean(F.sum(1)) / (62.0 * G) - 1) < 0.1
    # the stance foot moves backwards with the belt (3.5 m/s), along the model's X
    P = k.points(s.q, np.broadcast_to(s.p, (len(s), len(s.p))).copy())
    for side in ("r", "l"):
        v = np.gradient(P[:, m.points.index(f"heel_{side}"), 0], s.time)
        ci = m.contacts.index(next(c for c in m.contacts if c.endswith(f"_{side}")))
        assert -4.5 < np.median(v[on[:, ci]]) < -2.5
    assert summ["residual_force_rms_per_kg"] < 4.0
    assert summ["split_unknown"] == []
    assert any("the torso keeps the pelvis's orientation" in n for n in tr.notes)
    p = np.broadcast_to(s.p, (len(s), len(s.p))).copy()
    res = k.root_residual(s.q, s.qd, s.qdd, s.w, p)[:, :3] / 62.0
    assert np.sqrt(np.mean(res[:, 2] ** 2)) < 2.0
    cop, _ = centre_of_pressure(s.w, k.contact_points(s.q, p))
    for ci, side in enumerate(("r", "l")):
        heel, toe = (P[:, m.points.index(f"{n}_{side}")][:, [0, 2]] for n in ("heel", "toe"))
        a, c = toe - heel, cop[:, ci][:, [0, 2]] - heel
        length = np.linalg.norm(a, axis=1)
        u = (c * a).sum(1) / length ** 2                                # 0 at the heel, 1 at the toe
        across = np.abs(a[:, 0] * c[:, 1] - a[:, 1] * c[:, 0]) / length
        off = np.hypot((u - np.clip(u, 0.0, 1.0)) * length, across)    # from the heel-toe segment
        loaded = s.w[:, ci, 1] > 100.0
        assert loaded.sum() > 100 and off[loaded].max() < 0.1 and np.median(off[loaded]) < 0.03, side
        ankle = s.tau[:, m.coordinates.index(f"ankle_angle_{side}")] / 62.0
        assert -4.0 < ankle.min() < -2.0 and ankle.max() < 0.5, side   # plantarflexion is negative


def test_biomechzoo_child_processed(data, kern):
    m, k = kern("gait3d")
    t = next(x for x in discover(data()) if x["name"] == "HC002D06")
    tr = process_trial(m, k, t["motion"], height=t["height"], mass=t["mass"])
    summ = trial_summary(k, tr)
    assert summ["plates_used"] == 2 and summ["ik_rms_mm"] < 12
    assert summ["residual_force_rms_per_kg"] < 3.0
    assert any("points a Vicon model computed" in n for n in tr.notes)
