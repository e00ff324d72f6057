"""examples/fit_keypoints.py: the fit through ForwardKinematics recovers gait3d's q from noiseless
keypoints of known poses (keypoint RMS < 1 mm, every coordinate within 0.01 rad or m)."""
from __future__ import annotations

import importlib.util

import pytest

import symgait
from symgait.layers import ForwardKinematics
from symgait_testing import REPO


def _example():
    spec = importlib.util.spec_from_file_location("fit_keypoints", REPO / "examples" / "fit_keypoints.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.xdist_group("gait3d")
def test_fit_recovers_q_from_noiseless_keypoints():
    ex = _example()
    fk = ForwardKinematics(symgait.load_model("gait3d"))
    q_true, x = ex.synthetic_keypoints(fk, frames=4, noise=0.0, seed=1)
    q, before, after = ex.fit_keypoints(fk, x, ex.initial_guess(fk, x))
    assert before > 0.1  # the start is far off (m)
    assert after < 1e-3
    assert float((q - q_true).abs().max()) < 1e-2
