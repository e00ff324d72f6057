"""training.protocol: subject folds, subject-wise splits, the physics floor, the kfold and
unseen-lab experiments (tiny, synthetic)."""
from __future__ import annotations

import json

import numpy as np
import pytest

from training import protocol
from training.data import dataset_dir_for, split_role

pytestmark = pytest.mark.xdist_group("training_protocol")


def test_subject_folds_disjoint_cover_balanced():
    acts = {f"lab:{i}": ("running" if i % 3 == 0 else "walking") for i in range(23)}
    for k in (2, 5, 7):
        folds = protocol.subject_folds(acts, k, seed=4)
        flat = [s for f in folds for s in f]
        assert sorted(flat) == sorted(acts) and len(flat) == len(set(flat))
        sizes = [len(f) for f in folds]
        assert max(sizes) - min(sizes) <= 1
        for act in ("walking", "running"):
            n = [sum(acts[s] == act for s in f) for f in folds]
            assert max(n) - min(n) <= 1, (k, act, n)
    assert protocol.subject_folds(acts, 5, seed=4) == protocol.subject_folds(acts, 5, seed=4)
    with pytest.raises(ValueError, match="folds must be between 2"):
        protocol.subject_folds(acts, 1)
    with pytest.raises(ValueError, match="folds must be between 2"):
        protocol.subject_folds(acts, 24)


def _rows():
    rows = [dict(name=f"t{i}", subject=f"{'a' if i < 6 else 'b'}:{i // 2}", role="labelled",
                 activity="running (treadmill)" if i % 4 == 0 else "walking") for i in range(12)]
    rows += [dict(name="m0", subject="a:0", role="motion_only", activity="walking"),
             dict(name="m1", subject="cmu:08", role="motion_only", activity="walking")]
    return [(r, None) for r in rows]


def test_kfold_splits_keep_subjects_apart():
    items = _rows()
    labelled = {r["subject"] for r, _ in items if r["role"] == "labelled"}
    splits = protocol.kfold_splits(items, 3, val_fraction=0.25, seed=1)
    assert sorted(s for sp in splits for s in sp["test"]) == sorted(labelled)
    for sp in splits:
        test, val = set(sp["test"]), set(sp["val"])
        assert not test & val and val
        for r, _ in items:
            role = split_role(r, test, val)
            if r["subject"] in test:
                assert role in ("test", None)      # a test subject's motion never trains
            elif r["subject"] in val:
                assert role in ("val", None)
            else:
                assert role in ("train", "motion_only")
    (lab,) = protocol.lab_splits(items, ("a",), val_fraction=0.25)
    assert all(protocol.lab_of(s) == "b" for s in lab["test"]) and all(protocol.lab_of(s) == "a" for s in lab["val"])
    with pytest.raises(ValueError, match="no labelled subjects of"):
        protocol.lab_splits(items, ("zz",))


def test_physics_floor_is_the_added_force(kern_planar):
    """Derived labels explain the motion exactly (floor 0); a constant extra force F on one contact
    leaves -F in the root residual, whatever its point of application: floor = |F| / mass."""
    items = protocol.experiment_items(True, model="planar")
    seq = items[0][1]
    assert protocol.physics_floor(kern_planar, seq) < 1e-8
    w = np.array(seq.w, float)
    F = np.array([30.0, -40.0, 0.0])
    w[:, 0, :3] += F
    w[:, 0, 3:] += np.cross(np.array([0.1, 0.0, 0.05]), F)   # the same force applied at another point
    from dataclasses import replace
    floor = protocol.physics_floor(kern_planar, replace(seq, w=w))
    assert floor == pytest.approx(np.linalg.norm(F) / seq.mass, rel=1e-9)


def test_distribution_floor(kern_planar):
    """Exact labels are their own best distribution; with a force added to the labels, the floor's
    forces still sum to the motion's total (the exact labels' sum), shared like the labels."""
    from dataclasses import replace
    seq = protocol.experiment_items(True, model="planar")[1][1]
    best = protocol.distribution_floor(kern_planar, seq)
    np.testing.assert_allclose(best["w"], seq.w, atol=1e-8 * seq.mass)
    np.testing.assert_allclose(best["JT"], seq.JT, atol=1e-7 * seq.mass)
    w = np.array(seq.w, float)
    w[:, :, :3] *= 1.2                                      # 20 % too much force on every foot
    best = protocol.distribution_floor(kern_planar, replace(seq, w=w))
    np.testing.assert_allclose(best["w"][..., :3].sum(1), np.asarray(seq.w)[..., :3].sum(1), atol=1e-8 * seq.mass)
    on = np.asarray(seq.w)[..., 1].sum(1) > 1.0
    np.testing.assert_allclose(best["w"][on, :, 1], np.asarray(seq.w)[on, :, 1], atol=1e-6 * seq.mass)


def test_distribution_floor_ignores_the_centre_of_pressure_of_noise(kern_planar):
    """Frames of flight where a plate reads noise (vertical force 1 mN, moment 0.5 N·m on each
    foot: centres of pressure 500 m away): the force the motion needs there (all of it) goes under
    the contact origins, as it does where the labels are exactly zero; the floor's torques differ
    from that case by the noise's own torques only, not by forces 500 m away."""
    from dataclasses import replace
    seq = protocol.experiment_items(True, model="planar")[1][1]
    flight = slice(10, 20)
    zero_w = np.array(seq.w, float)
    zero_w[flight] = 0.0
    noisy_w = zero_w.copy()
    noisy_w[flight, :, 1] = 1e-3
    noisy_w[flight, :, 5] = 0.5
    clean = protocol.distribution_floor(kern_planar, replace(seq, w=zero_w))
    noisy = protocol.distribution_floor(kern_planar, replace(seq, w=noisy_w))
    T = len(seq)
    p = np.broadcast_to(np.asarray(seq.p, float), (T, len(seq.p))).copy()
    q, qd, qdd = (np.asarray(x, float) for x in (seq.q, seq.qd, seq.qdd))
    # the noise's own torques: inverse dynamics with and without the noise wrenches
    own = np.asarray(kern_planar.inverse_dynamics(q, qd, qdd, noisy_w, p)
                     - kern_planar.inverse_dynamics(q, qd, qdd, zero_w, p))[:, seq.actuated_indices]
    assert np.abs(clean["JT"][flight]).max() > 1.0           # the motion's force does act there
    np.testing.assert_allclose(noisy["JT"], clean["JT"] + own, atol=0.01)     # N·m; 1 mN moved


@pytest.fixture(scope="module")
def kern_planar():
    import symgait
    return symgait.kernels(symgait.load_model("planar"))


@pytest.mark.parametrize("name,jobs", [("kfold", "1"), ("unseen-lab", "2")])
def test_subject_wise_experiment_tiny(name, jobs, tmp_path):
    from training.cli import main
    out = tmp_path / name
    assert main(["experiment", name, "--tiny", "--out", str(out), "--jobs", jobs,
                 "--variants", "baseline,pcnet", "--set", "train.steps=2"]) == 0
    md = (out / "results.md").read_text()
    j = json.loads((out / "metrics.json").read_text())
    assert j["experiment"] == name and j["tiny"]
    for v in ("baseline", "pcnet"):
        assert f"| {v} | walking |" in md and f"| {v} | running |" in md
        assert j["rows"][f"{v} all"]["ef"] > 0
    assert j["rows"]["floor (pcnet's best) all"]["ef"] < 1e-6     # synthetic labels explain the motion
    per = j["results"]["per_sequence"]["pcnet"]
    tested = [p["subject"] for p in per]
    if name == "kfold":        # every labelled subject tested once
        assert sorted(tested) == sorted(f"synthetic_{'a' if i % 2 == 0 else 'b'}:{i}" for i in range(6))
    else:
        assert tested and all(s.startswith("synthetic_b:") for s in tested)
    assert "Physics floor" in md
    if name == "kfold":        # a pretend child among the walkers: walking scored per population too
        rows = j["rows"]
        for v in ("baseline", "pcnet", "floor (pcnet's best)"):
            assert f"| {v} | walking (children) | 1 |" in md and f"| {v} | walking (adults) |" in md
            assert rows[f"{v} walking (children)"]["subjects"] == 1
            assert rows[f"{v} walking (adults)"]["subjects"] + 1 == rows[f"{v} walking"]["subjects"]
            assert f"{v} running (adults)" not in rows                  # one population: no split
        assert {p["population"] for p in per if p["subject"] == "synthetic_a:2"} == {"children"}
        assert set(j["results"]["floor"]) == {"all", "walking", "walking (adults)", "walking (children)",
                                              "running"}
    else:
        assert not any("(children)" in k for k in j["rows"])
    assert len(list((out / "runs").glob("*/best.pt"))) == (4 if name == "kfold" else 2)
    run = out / "runs" / f"pcnet_{'fold0' if name == 'kfold' else 'unseen_lab'}"
    assert (run / "loss.png").exists() and (run / "run.json").exists()
    if name == "kfold":        # the same command again: finished runs are re-scored, not retrained
        stamp = (run / "best.pt").stat().st_mtime_ns
        assert main(["experiment", name, "--tiny", "--out", str(out), "--jobs", jobs,
                     "--variants", "baseline,pcnet", "--set", "train.steps=2"]) == 0
        assert (run / "best.pt").stat().st_mtime_ns == stamp
        assert json.loads((out / "metrics.json").read_text())["rows"] == j["rows"]


def test_subject_wise_cli_errors(tmp_path, capsys):
    from training.cli import main
    rc = main(["experiment", "noise", "--tiny", "--folds", "3", "--out", str(tmp_path / "o")])
    assert rc == 2 and "kfold and unseen-lab" in capsys.readouterr().out


def test_dataset_dir_for(tmp_path):
    with pytest.raises(FileNotFoundError, match="not found"):
        dataset_dir_for(tmp_path / "missing")
    (tmp_path / "index.json").write_text("{}")
    assert dataset_dir_for(tmp_path) == tmp_path


def test_reduced_subjects_tiny(tmp_path):
    """Labels on a fraction of the training subjects; the others' trials train motion-only; the
    test and validation subjects are those of fold 0 for every fraction."""
    items = protocol.experiment_items(True, model="planar")
    splits = protocol.reduced_splits(items, (1.0, 0.5), val_fraction=0.2)
    assert [s["test"] for s in splits] == [splits[0]["test"]] * 2
    full, half = splits
    assert not full["unlabel"] and half["labelled_subjects"] == round(0.5 * half["training_subjects"])
    assert len(half["unlabel"]) == half["training_subjects"] - half["labelled_subjects"]
    assert not set(half["unlabel"]) & (set(half["test"]) | set(half["val"]))
    from training.cli import main
    out = tmp_path / "red"
    assert main(["experiment", "reduced-subjects", "--tiny", "--out", str(out), "--jobs", "1",
                 "--set", "train.steps=2"]) == 0
    j = json.loads((out / "metrics.json").read_text())
    assert {"baseline 100 % all", "fnet 50 % all"} <= set(j["rows"])
    assert j["rows"]["fnet 50 % all"]["labelled_subjects"] == half["labelled_subjects"]
    with pytest.raises(ValueError, match="labelled fractions"):
        protocol.reduced_splits(items, (0.0,))


def test_stance_cop_distance(kern_planar):
    """A vertical force applied 0.1 m ahead and 0.05 m beside each foot's origin, on the ground:
    the distance is 0.1118 m; without stance frames it is NaN."""
    from dataclasses import replace
    from symgait.datasets.build import MAX_COP_DISTANCE, stance_cop_distance
    seq = protocol.experiment_items(True, model="planar")[0][1]
    T = len(seq)
    o = np.asarray(kern_planar.contact_points(np.asarray(seq.q, float),
                                              np.broadcast_to(seq.p, (T, len(seq.p))).copy()))
    F = np.zeros((T, o.shape[1], 3))
    F[..., 1] = 400.0
    r = np.stack([np.full(o.shape[:2], 0.1), -o[..., 1], np.full(o.shape[:2], 0.05)], -1)
    w = np.concatenate([F, np.cross(r, F)], -1)
    assert stance_cop_distance(kern_planar, replace(seq, w=w)) == pytest.approx(np.hypot(0.1, 0.05), rel=1e-9)
    assert stance_cop_distance(kern_planar, replace(seq, w=np.zeros_like(w))) != stance_cop_distance(kern_planar, replace(seq, w=np.zeros_like(w)))
    assert 0.26 < MAX_COP_DISTANCE < 1.0


def test_kfold_seed_ensemble_tiny(tmp_path):
    """--members 2: a second seed per split, and a row scoring the mean of both seeds' predictions on
    the same held-out subjects (recomputed here from the two checkpoints of every fold)."""
    import numpy as np
    import symgait
    from training.checkpoint import load
    from training.cli import main
    from training.config import load_config
    from training.evaluate import metrics_of
    from training.protocol import ensemble_name, experiment_items, kfold_splits, split_parts
    out = tmp_path / "ens"
    assert main(["experiment", "kfold", "--tiny", "--out", str(out), "--jobs", "1", "--members", "2",
                 "--variants", "pcnet", "--set", "train.steps=2"]) == 0
    rows = json.loads((out / "metrics.json").read_text())["rows"]
    name = ensemble_name("pcnet", 2)
    assert f"{name} all" in rows and "pcnet all" in rows
    assert sorted(p.name for p in (out / "runs").iterdir()) == ["pcnet_fold0", "pcnet_fold0_seed1",
                                                                 "pcnet_fold1", "pcnet_fold1_seed1"]
    cfg = load_config("tiny", ["train.steps=2"])
    items = experiment_items(True, None, cfg.model, log=lambda *a: None)
    splits = kfold_splits(items, 2, val_fraction=cfg.data.val_fraction)
    parts = split_parts(cfg, items, splits)
    seqs, preds = [], []
    for s in splits:
        members = [load(out / "runs" / f"pcnet_{s['name']}{suffix}" / "best.pt") for suffix in ("", "_seed1")]
        for seq in parts[s["name"]]["test"]:
            p = [m.predict(seq) for m in members]
            assert not np.allclose(p[0]["w"], p[1]["w"])          # the seeds differ
            seqs.append(seq)
            preds.append({k: 0.5 * (p[0][k] + p[1][k]) for k in ("w", "JT")})
    pooled = metrics_of(symgait.load_model(cfg.model), seqs, preds)["pooled"]
    assert rows[f"{name} all"]["ef"] == pytest.approx(pooled["ef"], rel=1e-9)
    assert rows[f"{name} all"]["et"] == pytest.approx(pooled["et"], rel=1e-9)
    rc = main(["experiment", "kfold", "--tiny", "--out", str(out), "--members", "0"])
    assert rc == 2


def test_kfold_excludes_subjects_by_pattern(tmp_path):
    """data.exclude_subjects takes subject ids or shell patterns; the left-out subjects are neither
    trained, validated nor tested, and a pattern matching nobody is an error, not a silent no-op."""
    from training.cli import main
    from training.data import without_subjects
    out = tmp_path / "ex"
    assert main(["experiment", "kfold", "--tiny", "--out", str(out), "--jobs", "1", "--variants", "zmp",
                 "--set", "data.exclude_subjects=synthetic_b:*"]) == 0
    j = json.loads((out / "metrics.json").read_text())
    tested = {p["subject"] for p in j["results"]["per_sequence"]["ZMP (physics only)"]}
    assert tested == {"synthetic_a:0", "synthetic_a:2", "synthetic_a:4"}
    items = [(dict(subject=s), None) for s in ("lab:1", "lab:2", "other:1")]
    assert [r["subject"] for r, _ in without_subjects(items, ["lab:*"], "d", log=lambda *a: None)] == ["other:1"]
    with pytest.raises(ValueError, match=r"\['lab:3'\]"):
        without_subjects(items, ["lab:3"], "d", log=lambda *a: None)
    said = []
    assert len(without_subjects(items, ["labb:*"], "d", log=said.append)) == 3 and "matches no subject" in said[0]
