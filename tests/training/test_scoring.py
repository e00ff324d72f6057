"""predict scored against the force plates of the same trial."""
from __future__ import annotations

import json

import numpy as np
import pytest

from symgait.constants import STANDARD_GRAVITY as G
from training.scoring import score_forces


def test_scores_by_hand():
    rng = np.random.default_rng(0)
    T, mass = 200, 70.0
    meas = np.zeros((T, 2, 6))
    meas[:, 0, 1] = 700 * np.sin(np.linspace(0, np.pi, T)) ** 2
    meas[:, 1, 0] = rng.normal(0, 30, T)
    pred = meas.copy()
    pred[:, 0, 1] += 35.0                       # right vertical: a constant 35 N too high
    pred[:, 1, 0] = 2 * meas[:, 1, 0] + 5       # left AP: scaled and shifted (r = 1)
    frames = np.ones(T, bool)
    frames[:20] = False                         # not scored
    pred[:20] = 1e6                             # whatever is outside the scored frames does not count
    s = score_forces(pred, meas, mass, ("foot_r", "foot_l"), frames)
    v = s["per_foot"]["foot_r"]["vertical"]
    assert s["frames"] == 180
    assert v["rmse_n_per_kg"] == pytest.approx(35 / mass) and v["rmse_bw_percent"] == pytest.approx(3500 / (mass * G))
    assert v["peak_error_n_per_kg"] == pytest.approx(35 / mass)
    assert v["r"] == pytest.approx(1.0)
    ap = s["per_foot"]["foot_l"]["anterior-posterior"]
    d = pred[20:, 1, 0] - meas[20:, 1, 0]
    assert ap["rmse_n_per_kg"] == pytest.approx(np.sqrt(np.mean(d ** 2)) / mass)
    assert ap["r"] == pytest.approx(1.0)
    assert s["per_foot"]["foot_l"]["vertical"]["r"] is None   # both zero: no correlation
    assert s["overall"]["vertical_rmse_n_per_kg"] == pytest.approx(35 / mass / np.sqrt(2))


def test_no_scored_frame():
    z = np.zeros((5, 2, 6))
    assert score_forces(z, z, 70.0, ("a", "b"), np.zeros(5, bool))["overall"] is None


@pytest.mark.slow
def test_predict_c3d_scored_and_input_unchanged_by_plates(data, tmp_path):
    """On a C3D with plates: the network's input is the same as without plates (the motion alone), and
    the command scores the prediction against the plates."""
    from training.checkpoint import load
    from training.cli import main
    from training.config import load_config
    from training.data import synthetic_set
    from training.predict import process_motion
    from training.trainer import train
    c3d = data("c3d_org/Walk1.c3d")
    plain, _ = process_motion("planar", c3d, mass=88.0, height=1.75)
    seq, _, plates = process_motion("planar", c3d, mass=88.0, height=1.75, measured=True)
    assert plates is not None and plates.covered.any() and not plates.covered.all()
    np.testing.assert_array_equal(seq.q, plain.q)
    np.testing.assert_array_equal(seq.contact, plain.contact)   # contact labels from the kinematics
    assert np.isnan(seq.w).all() and np.isfinite(plates.sequence.w).all()

    d = synthetic_set("planar", n_train=1, n_test=1, n_motion=0, seconds=1.0)
    out = tmp_path / "run"
    train(load_config("tiny", ["train.steps=2"]), d["train"], out_dir=out, log=lambda *a: None)
    rc = main(["predict", "--checkpoint", str(out / "last.pt"), "--motion", str(c3d), "--mass", "88",
               "--height", "1.75", "--out", str(tmp_path / "p.csv")])
    assert rc == 0
    score = json.loads((tmp_path / "p.score.json").read_text())
    rate = load(out / "last.pt").rate                      # predict resamples to the training rate
    _, _, at_rate = process_motion("planar", c3d, mass=88.0, height=1.75, measured=True, rate=rate)
    assert score["frames"] == int(at_rate.covered.sum()) > 0 and set(score["per_foot"]) == set(seq.contacts)
    assert (tmp_path / "p.score.png").stat().st_size > 5000
