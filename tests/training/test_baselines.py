"""The no-learning baselines (training/baselines.py) against the laws they rest on: on synthetic
walking whose wrenches explain the motion exactly (derived labels, root residual zero), the ZMP
baseline's total force is the labels' total; single support puts everything on the stance foot;
the double-support split is smooth and sums to the total; a mean curve shared by every training
trial comes back exactly."""
from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from training import baselines as B
from training.metrics import stance


@pytest.fixture(scope="module")
def walk():
    """gait3d model, kernels and three 2-s synthetic walks (derived labels: residual zero)."""
    import symgait
    from symgait.datasets.cache import SequenceCache
    from symgait.datasets.synthetic import synthetic_gait
    m = symgait.load_model("gait3d")
    k = symgait.kernels(m)
    seqs = synthetic_gait(m, n_sequences=3, seconds=2.0, seed=0, kern=k, cache=SequenceCache())
    return m, k, seqs


def _root_residual(k, seq, w):
    T = len(seq)
    p = np.broadcast_to(np.asarray(seq.p, float), (T, len(seq.p))).copy()
    return np.asarray(k.root_residual(seq.q, seq.qd, seq.qdd, np.ascontiguousarray(w), p))


def test_zmp_total_is_the_motions_in_every_frame(walk):
    """Where kinematics put a foot on the ground, the summed force (and, as the root residual
    vanishes, the summed moment) equals the labels' to round-off; where they put none, no force."""
    m, k, seqs = walk
    checked = 0
    for seq in seqs:
        z = B.zmp_wrenches(m, k, seq)
        on = z["labels"].any(1)
        scale = seq.mass * 9.81
        np.testing.assert_allclose(z["w"][on, :, :3].sum(1), np.asarray(seq.w)[on, :, :3].sum(1),
                                   atol=1e-9 * scale)
        assert np.abs(_root_residual(k, seq, z["w"])[on]).max() < 1e-8 * scale
        assert np.all(z["w"][~on] == 0.0)
        checked += int(on.sum())
    assert checked > 0.8 * sum(len(s) for s in seqs)
    # with the labels' own contact phases there is a foot down in every frame: equal everywhere
    seq = seqs[1]
    z = B.zmp_wrenches(m, k, seq, labels=seq.contact)
    np.testing.assert_allclose(z["w"][..., :3].sum(1), np.asarray(seq.w)[..., :3].sum(1), atol=1e-9 * seq.mass * 9.81)
    assert np.abs(_root_residual(k, seq, z["w"])).max() < 1e-8 * seq.mass * 9.81


def test_zmp_single_support_on_the_stance_foot(walk):
    m, k, seqs = walk
    seq = seqs[0]
    z = B.zmp_wrenches(m, k, seq)
    lab = z["labels"]
    single = lab.sum(1) == 1
    assert single.sum() > 0.5 * len(seq)
    total = z["total"][:, 0, :3]
    for t in np.nonzero(single)[0]:
        c = int(np.argmax(lab[t]))
        np.testing.assert_allclose(z["w"][t, c, :3], total[t], atol=1e-9 * seq.mass)
        assert np.all(z["w"][t, 1 - c] == 0.0)
    # its centre of pressure is the zero-moment point: no horizontal moment of the total about it
    from training.metrics import centre_of_pressure
    o = np.asarray(k.contact_points(seq.q, np.broadcast_to(seq.p, (len(seq), len(seq.p))).copy()))
    cop, _ = centre_of_pressure(z["w"], o)
    t = np.nonzero(single & (total[:, 1] > 100.0))[0]
    c = np.argmax(lab[t], 1)
    r = cop[t, c] - o[t, c]
    M = z["w"][t, c, 3:] - np.cross(r, z["w"][t, c, :3])      # moment about the COP
    np.testing.assert_allclose(M[:, [0, 2]], 0.0, atol=1e-6 * seq.mass)


def test_zmp_double_support_smooth_and_complete(walk):
    """Across each double-support interval between single supports the share passes monotonically
    from the trailing to the leading foot, frame-to-frame steps no larger than the cubic ramp's
    steepest (1.5 / interval length, plus its discretisation), shares sum to 1, forces to the
    total, and the moments of the shares sum to the total moment."""
    from symgait.signals.runs import true_runs
    m, k, seqs = walk
    seen = 0
    for seq in seqs:
        z = B.zmp_wrenches(m, k, seq)
        lab, a = z["labels"], z["weights"]
        both = lab.all(1)
        for t0, t1 in true_runs(both):
            if t0 == 0 or t1 == len(seq) or lab[t0 - 1].sum() != 1 or lab[t1].sum() != 1:
                continue
            trail = int(np.argmax(lab[t0 - 1]))
            s = a[t0 - 1:t1 + 1, trail]                      # 1 before, 0 after the interval
            assert s[0] == 1.0 and s[-1] == 0.0
            d = np.diff(s)
            assert np.all(d <= 1e-12)
            assert np.max(-d) <= 1.5 / (t1 - t0) + 1e-9 or t1 - t0 <= 2
            np.testing.assert_allclose(a[t0:t1].sum(1), 1.0, atol=1e-12)
            np.testing.assert_allclose(z["w"][t0:t1, :, :3].sum(1), z["total"][t0:t1, 0, :3], atol=1e-9 * seq.mass)
            # the total moment about contact 0's origin: each share moved there
            o = np.asarray(k.contact_points(seq.q[t0:t1], np.broadcast_to(seq.p, (t1 - t0, len(seq.p))).copy()))
            M0 = z["w"][t0:t1, 0, 3:] + z["w"][t0:t1, 1, 3:] + np.cross(o[:, 1] - o[:, 0], z["w"][t0:t1, 1, :3])
            np.testing.assert_allclose(M0, z["total"][t0:t1, 0, 3:], atol=1e-8 * seq.mass)
            seen += 1
    assert seen >= 2


def _linear(ph):
    """(n, 3) N/kg (AP, vertical, ML) linear in the stance phase: exact under the linear
    time-normalisation, vertical above the stance threshold throughout."""
    ph = np.asarray(ph, float)[:, None]
    return np.array([1.0, 5.0, -0.5]) + ph * np.array([-2.0, 3.0, 0.8])


def test_mean_curve_reproduces_a_shared_curve(walk):
    """Training trials that all carry one stance curve average to it exactly, per foot; placed on
    a test trial, every complete kinematic stance gets the curve stretched to it (in N, world
    frame), swing gets zero."""
    from symgait.signals.runs import true_runs
    m, k, seqs = walk
    train = []
    for seq in seqs[:2]:
        R = B._frame(B.heading(m, k, seq))
        w = np.zeros((len(seq), 2, 6))
        for c in range(2):
            for t0, t1 in true_runs(np.asarray(seq.contact)[:, c]):
                w[t0:t1, c, :3] = _linear(np.linspace(0, 1, t1 - t0)) @ R * seq.mass
        train.append((dict(activity="running (treadmill)"), dataclasses.replace(seq, w=w)))
    n = 201
    curves = B.mean_curves(m, k, train, n=n)
    assert set(curves) == {"all", "running"}
    for c in range(2):
        np.testing.assert_allclose(curves["running"]["curve"][c], _linear(np.linspace(0, 1, n)), atol=1e-12)
    assert np.all(curves["running"]["stances"] >= 2)

    test = seqs[2]
    pred = B.mean_curve_prediction(m, k, test, curves, "running")
    lab = B.kinematic_contacts(m, k, test)["labels"]
    R = B._frame(B.heading(m, k, test))
    for c in range(2):
        runs = true_runs(lab[:, c])
        inner = [(t0, t1) for t0, t1 in runs if t0 > 0 and t1 < len(test)]
        assert inner
        for t0, t1 in inner:
            want = _linear(np.linspace(0, 1, t1 - t0)) @ R * test.mass
            np.testing.assert_allclose(pred["w"][t0:t1, c, :3], want, atol=1e-9 * test.mass)
        assert np.all(pred["w"][~lab[:, c], c, :3] == 0.0)


def test_mean_curve_one_foot_and_missing_activity(walk):
    """Training stances on the right foot only: the left foot gets the right foot's curve with its
    medio-lateral component negated; an activity with no training stance falls back to the curve of
    all activities with a warning that names it."""
    from symgait.signals.runs import true_runs
    m, k, seqs = walk
    train = []
    for seq in seqs[:2]:
        R = B._frame(B.heading(m, k, seq))
        w = np.zeros((len(seq), 2, 6))
        for t0, t1 in true_runs(np.asarray(seq.contact)[:, 0]):
            w[t0:t1, 0, :3] = _linear(np.linspace(0, 1, t1 - t0)) @ R * seq.mass
        train.append((dict(activity="walking"), dataclasses.replace(seq, w=w)))
    n = 101
    curves = B.mean_curves(m, k, train, n=n)
    right, left = (m.contacts.index(c) for c in ("foot_r", "foot_l"))
    assert right == 0 and curves["walking"]["mirrored"] == ["foot_l"]
    assert curves["walking"]["stances"][left] == 0
    want = _linear(np.linspace(0, 1, n))
    np.testing.assert_allclose(curves["walking"]["curve"][right], want, atol=1e-12)
    np.testing.assert_allclose(curves["walking"]["curve"][left], want * [1.0, 1.0, -1.0], atol=1e-12)
    with pytest.warns(UserWarning, match="no complete running stance"):
        pred = B.mean_curve_prediction(m, k, seqs[2], curves, "running")
    np.testing.assert_array_equal(pred["w"], B.mean_curve_prediction(m, k, seqs[2], {"all": curves["all"]}, "walking")["w"])


def test_stance_phases_of_cut_stances():
    """A stance cut by the trial's start keeps the mean duration, counted back from its end."""
    on = np.array([1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 0, 1, 1], bool)
    ph = B.stance_phases(on, rate=10.0, duration=0.5)       # 5 frames
    np.testing.assert_allclose(ph[:3], [0.5, 0.75, 1.0])
    np.testing.assert_allclose(ph[5:10], [0.0, 0.25, 0.5, 0.75, 1.0])
    np.testing.assert_allclose(ph[11:], [0.0, 0.25])
    assert np.isnan(ph[[3, 4, 10]]).all()


def test_kfold_scores_the_baselines_beside_the_networks(tmp_path):
    """``--variants zmp,meancurve`` trains nothing and scores both baselines and the floor on every
    fold's test subjects, with the per-component errors."""
    from training.cli import main
    out = tmp_path / "kfold"
    assert main(["experiment", "kfold", "--tiny", "--out", str(out), "--jobs", "1",
                 "--variants", "zmp,meancurve"]) == 0
    j = json.loads((out / "metrics.json").read_text())
    md = (out / "results.md").read_text()
    assert not (out / "runs").exists() or not list((out / "runs").glob("*/best.pt"))
    for label in B.BASELINES.values():
        assert f"| {label} | walking |" in md
        r = j["rows"][f"{label} all"]
        assert r["subjects"] == 6 and r["ef"] > 0 and {"ef_v", "ef_ap", "ef_ml"} <= set(r)
    # the motion's total where kinematics find a foot down, nothing where they miss it: at most
    # the labels' (derived: the motion's own) mean vertical force
    z = j["rows"]["ZMP (physics only) all"]
    assert 0.8 * z["fy_bw_true"] < z["fy_bw"] <= z["fy_bw_true"] + 1e-9
    assert "AP εf (N/kg)" in md and "ML εf (N/kg)" in md
