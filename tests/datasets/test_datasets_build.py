"""``python -m training dataset`` on a tiny slice of the shared data (2 trials, 60 frames), the
cached rebuild, and the subject-wise loader (training.data.load_dataset)."""
import json

import numpy as np
import pytest

from symgait.trials.pipeline import SUMMARY_FIELDS
from training.data import load_dataset, load_real
from symgait.datasets.build import build
from symgait.datasets.discover import discover
from symgait.constants import KINEMATICS_CUTOFF_HZ

pytestmark = pytest.mark.xdist_group("gait3d")

TRIALS = ["subject01_walk1", "08_01"]


def test_discover_every_trial_has_a_subject_or_a_reason(data):
    ts = discover(data())
    assert len({t["name"] for t in ts}) == len(ts)
    for t in ts:
        assert t["subject"] and (t["refuse"] or t["height"] and (t["mass"] or "plates" in t["mass_from"])), t
    by = {t["name"]: t for t in ts}
    # one person, two folders: the same subject id (a split never separates them)
    assert by["subject02_running"]["subject"] == by["subject02_Run_5"]["subject"]
    assert by["gait10dof_subject01_walk"]["refuse"]
    assert sum(t["source"] == "hamner2013_running" and not t["refuse"] for t in ts) == 16
    assert sum(t["source"] == "schreiber2019_walking" and not t["refuse"] for t in ts) == 28


def test_build_tiny_slice_and_cached_rebuild(data, kern, tmp_path):
    m, k = kern("gait3d")
    out = tmp_path / "ds"
    rep = build(data(), out, jobs=2, trials=TRIALS, max_frames=60, progress=False, log=lambda *a: None)
    rows = {r["name"]: r for r in rep["rows"]}
    assert set(rows) == set(TRIALS) and rep["usable"] == 2
    for r in rows.values():
        for f in SUMMARY_FIELDS + ("subject", "activity", "mass", "height", "source", "convention"):
            assert f in r, f
        assert r["frames"] == 60
    walk = rows["subject01_walk1"]
    assert walk["role"] == "labelled" and walk["plates_used"] == 2 and walk["subject"] == "opensim:subject01"
    assert rows["08_01"]["role"] == "motion_only"
    assert walk["cutoff_hz"] == KINEMATICS_CUTOFF_HZ["walking"]
    # the fit: total mass unchanged, residual not larger, stored sequence consistent with it
    names = rep["parameter_names"]
    mi = [i for i, n in enumerate(names) if n.endswith("_mass")]
    p0, p1 = np.array(walk["p_start"]), np.array(walk["p_fitted"])
    assert abs(p1[mi].sum() - p0[mi].sum()) < 1e-9
    assert walk["residual_force_rms_per_kg_fitted"] <= walk["residual_force_rms_per_kg"] + 1e-12
    from symgait.trials.sequence import Sequence
    s = Sequence.load(out / walk["file"])
    assert np.allclose(s.p, p1)
    assert np.allclose(k.inverse_dynamics(s.q, s.qd, s.qdd, s.w, s.p), s.tau)
    # the plates' total force does not depend on the parameters (wrenches moved, not changed)
    r0 = k.root_residual(s.q, s.qd, s.qdd, np.zeros_like(s.w), s.p)
    F = r0[:, :3] - k.root_residual(s.q, s.qd, s.qdd, s.w, s.p)[:, :3]
    assert np.allclose(F, s.w[..., :3].sum(1), atol=1e-8)
    # the motion changed within the marker error: stored beside the measured one, the plates'
    # wrenches unchanged in the world (same total force, same moment about the world origin)
    c = Sequence.load(out / walk["file_consistent"])
    assert np.allclose(c.p, s.p) and np.allclose(c.time, s.time) and not np.allclose(c.q, s.q)
    assert np.allclose(k.inverse_dynamics(c.q, c.qd, c.qdd, c.w, c.p), c.tau)
    o_s, o_c = k.contact_points(s.q, np.repeat(s.p[None], len(s), 0)), \
        k.contact_points(c.q, np.repeat(c.p[None], len(c), 0))
    assert np.allclose(c.w[..., :3], s.w[..., :3])
    assert np.allclose(c.w[..., 3:] + np.cross(o_c, c.w[..., :3]), s.w[..., 3:] + np.cross(o_s, s.w[..., :3]),
                       atol=1e-9)
    assert walk["residual_force_rms_per_kg_consistent"] < 0.5 * walk["residual_force_rms_per_kg_fitted"]
    kc = walk["kinematic_change"]
    assert kc["point_rms_mm"] <= 10.0 + 1e-9
    assert kc["marker_rms_mm_consistent"] < kc["marker_rms_mm"] + 2.0      # mm: within the marker error
    assert "file_consistent" not in rows["08_01"]                          # no plates, no change
    assert (out / "report.md").read_text().count("subject01_walk1") >= 1
    assert json.loads((out / "report.json").read_text())["usable"] == 2
    # rebuild: served from the cache
    rep2 = build(data(), out, jobs=2, trials=TRIALS, max_frames=60, progress=False, log=lambda *a: None)
    assert all(r.get("cached") for r in rep2["rows"]) and all(r.get("fit_cached", True) for r in rep2["rows"])
    assert rep2["rows"][[r["name"] for r in rep2["rows"]].index("subject01_walk1")]["kinematic_change"]["cached"]
    # the loader: by subject, never one person on both sides
    d = load_dataset(out, test_subjects=["opensim:subject01"], log=lambda *a: None)
    assert [s.name for s in d["test"]] == ["subject01_walk1"] and d["train"] == []
    assert [s.name for s in d["motion_only"]] == ["08_01"] and d["motion_only"][0].label_kind == "none"
    # training subjects may train on the changed motion; a test subject's motion stays measured
    d3 = load_dataset(out, test_subjects=[], val_fraction=0.0, train_kinematics="consistent",
                      log=lambda *a: None)
    assert np.allclose(d3["train"][0].q, c.q)
    assert (d3["train"][0].subject, d3["train"][0].name) == ("opensim:subject01", "subject01_walk1")
    d4 = load_dataset(out, test_subjects=["opensim:subject01"], train_kinematics="consistent",
                      log=lambda *a: None)
    assert np.allclose(d4["test"][0].q, s.q)
    d2 = load_real(out, log=lambda *a: None)              # a built folder is read as a dataset
    assert sorted(s.name for s in d2["test"] + d2["train"]) == ["subject01_walk1"]
