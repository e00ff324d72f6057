"""CMU subject 08 (ASF + 11 AMC walking trials): units, frame counts, forward
kinematics checked with facts independent of the implementation (constant bone
lengths, stationary stance foot, walking speed, floor height, left/right)."""

import glob
from pathlib import Path

import numpy as np
import pytest

from symgait.io import (
    DataFormatError,
    asf_to_opensim,
    asf_to_opensim_matrix,
    forward_kinematics,
    read_amc,
    read_asf,
)

CMU = "cmu/subject08/"
INCH = 0.0254


@pytest.fixture(scope="module")
def skeleton(data):
    return read_asf(data(CMU + "08.asf"))


def _amcs(data):
    folder = data(CMU + "08_01.amc").parent
    return sorted(Path(p) for p in glob.glob(str(folder / "08_*.amc")))


def test_asf_units_and_structure(skeleton):
    sk = skeleton
    assert len(sk.bones) == 30
    assert sk.length_unit == pytest.approx(INCH / 0.45)      # inches = value / 0.45
    assert sk.angle_unit == "deg"
    assert sk.bones["lfemur"].length == pytest.approx(6.79288 / 0.45 * INCH)   # 0.383 m
    assert sk.bones["ltibia"].length == pytest.approx(7.1638 / 0.45 * INCH)
    assert sk.bones["lfemur"].dof == ("rx", "ry", "rz")
    assert sk.bones["lfoot"].dof == ("rx", "rz")
    np.testing.assert_allclose(sk.bones["lhumerus"].axis, [180, -30, -90])
    assert sk.parent["lfemur"] == "lhipjoint" and sk.parent["lhipjoint"] == "root"
    assert sk.children["thorax"] == ["lowerneck", "lclavicle", "rclavicle"]
    assert sk.root_order == ("tx", "ty", "tz", "rx", "ry", "rz")
    for b in sk.bones.values():
        assert np.linalg.norm(b.direction) == pytest.approx(1.0)
    # plausible adult segment lengths (m)
    assert 0.35 < sk.bones["lfemur"].length < 0.5 and 0.35 < sk.bones["rtibia"].length < 0.5


def test_amc_frame_counts(data, skeleton):
    files = _amcs(data)
    assert len(files) == 11                     # 08_01 ... 08_11
    counts = {}
    for f in files:
        m = read_amc(f, skeleton)
        counts[f.name] = m.n_frames
        np.testing.assert_array_equal(m.frames, np.arange(1, m.n_frames + 1))
        assert m.rate == 120.0 and m.values["root"].shape == (m.n_frames, 6)
        assert m.values["lfemur"].shape[1] == 3 and m.values["ltibia"].shape[1] == 1
        assert "lhipjoint" not in m.values      # no dofs, not in the AMC
    # README: 275-484 frames
    assert min(counts.values()) == 275 and max(counts.values()) == 484
    assert counts["08_10.amc"] == 275 and counts["08_04.amc"] == 484
    first = read_amc(files[0], skeleton)
    # first root line of 08_01: 7.1998 15.3951 -37.2754 6.10139 -3.02043 2.41388
    np.testing.assert_allclose(first.values["root"][0],
                               [7.1998, 15.3951, -37.2754, 6.10139, -3.02043, 2.41388])


@pytest.mark.parametrize("trial", ["08_01", "08_04", "08_10"])
def test_forward_kinematics_physics(data, skeleton, trial):
    sk = skeleton
    m = read_amc(data(CMU + f"{trial}.amc"), sk)
    k = forward_kinematics(sk, m)
    T = m.n_frames
    assert k.positions.shape == (T, 31, 3) and k.names[0] == "root"
    # every bone keeps its ASF length in every frame
    for i, name in enumerate(k.names[1:], start=1):
        seg = k.positions[:, i] - k.positions[:, k.parents[i]]
        np.testing.assert_allclose(np.linalg.norm(seg, axis=1), sk.bones[name].length,
                                   rtol=1e-12, atol=1e-12)
    # world rotations are proper rotations
    R = k.rotations
    np.testing.assert_allclose(R @ np.swapaxes(R, -1, -2), np.broadcast_to(np.eye(3), R.shape),
                               atol=1e-12)
    # root translation is the AMC value in metres
    np.testing.assert_allclose(k.position("root"), m.values["root"][:, :3] * sk.length_unit)

    P, Rm = asf_to_opensim(k.positions)
    root = P[:, 0]
    speed = np.linalg.norm(np.diff(root[:, [0, 2]], axis=0), axis=1) * m.rate
    assert 0.8 < speed.mean() < 2.0                           # walking, m/s
    assert 0.8 < root[:, 1].mean() < 1.0                      # pelvis height, m
    disp = root[-1] - root[0]
    assert disp[0] > 2.5 and abs(disp[2]) < 1e-9              # walked along +X
    lf, rf = P[:, k.index("lfoot")], P[:, k.index("rfoot")]
    # feet reach the floor (y ~ 0 in CMU captures)
    assert abs(np.minimum(lf[:, 1], rf[:, 1]).min()) < 0.08
    # the lower foot is (nearly) stationary most of the time: a wrong rotation order
    # makes it slide (measured: 80 % of frames below 0.3 m/s vs 29 % with reversed order)
    vl = np.linalg.norm(np.gradient(lf, 1 / m.rate, axis=0), axis=1)
    vr = np.linalg.norm(np.gradient(rf, 1 / m.rate, axis=0), axis=1)
    v_stance = np.where(lf[:, 1] < rf[:, 1], vl, vr)
    assert (v_stance < 0.3).mean() > 0.6
    # OpenSim frame: Z right, Y up
    assert (P[:, k.index("rhipjoint"), 2] > P[:, k.index("lhipjoint"), 2]).all()
    assert (P[:, k.index("head"), 1] > root[:, 1] + 0.4).all()


def test_opensim_rotation():
    R = asf_to_opensim_matrix([0, 0, 1])       # facing +Z in the ASF rest pose
    np.testing.assert_allclose(R @ R.T, np.eye(3), atol=1e-15)
    assert np.linalg.det(R) == pytest.approx(1.0)
    np.testing.assert_allclose(R @ [0, 0, 1], [1, 0, 0], atol=1e-15)   # forward -> +X
    np.testing.assert_allclose(R @ [0, 1, 0], [0, 1, 0], atol=1e-15)   # up stays up
    # subject's left is +X in the ASF rest pose, so its right (-X) must become +Z
    np.testing.assert_allclose(R @ [-1, 0, 0], [0, 0, 1], atol=1e-15)
    pts = np.random.default_rng(0).normal(size=(5, 4, 3))
    out, R2 = asf_to_opensim(pts, forward=[0, 0, 1])
    np.testing.assert_allclose(out, pts @ R.T)
    with pytest.raises(ValueError):
        asf_to_opensim_matrix([0, 1, 0])


def test_amc_unknown_bone_and_wrong_dof_count(data, skeleton, tmp_path):
    src = data(CMU + "08_01.amc").read_text().splitlines()
    bad = [("lfemurX" + ln[6:]) if ln.startswith("lfemur ") else ln for ln in src]
    p = tmp_path / "bad_bone.amc"
    p.write_text("\n".join(bad[:60]) + "\n")
    with pytest.raises(DataFormatError, match=r"bad_bone\.amc, line \d+, field 'lfemurX'.*"
                                              r"not in the skeleton") as e:
        read_amc(p, skeleton)
    assert e.value.line == next(i for i, ln in enumerate(bad, 1) if ln.startswith("lfemurX"))
    bad2 = [ln + " 1.0" if ln.startswith("ltibia ") else ln for ln in src[:60]]
    p2 = tmp_path / "bad_dof.amc"
    p2.write_text("\n".join(bad2) + "\n")
    with pytest.raises(DataFormatError, match="2 values for 'ltibia', expected 1"):
        read_amc(p2, skeleton)
    # a frame cut short (truncated file) is reported
    cut = src[: next(i for i, ln in enumerate(src) if ln.strip() == "3") + 5]
    p3 = tmp_path / "cut.amc"
    p3.write_text("\n".join(cut) + "\n")
    with pytest.raises(DataFormatError, match="frame 3 lists different bones"):
        read_amc(p3, skeleton)
