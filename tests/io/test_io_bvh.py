"""BVH reader/writer and forward kinematics on hand-made files."""

import numpy as np
import pytest

from symgait.io import BVH, BVHJoint, DataFormatError, bvh_forward_kinematics, read_bvh, write_bvh

CHAIN = """HIERARCHY
ROOT hips
{
\tOFFSET 0.0 0.0 0.0
\tCHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation
\tJOINT knee
\t{
\t\tOFFSET 0.0 -40.0 0.0
\t\tCHANNELS 3 Zrotation Xrotation Yrotation
\t\tJOINT ankle
\t\t{
\t\t\tOFFSET 0.0 -40.0 0.0
\t\t\tCHANNELS 3 Zrotation Xrotation Yrotation
\t\t\tEnd Site
\t\t\t{
\t\t\t\tOFFSET 10.0 0.0 0.0
\t\t\t}
\t\t}
\t}
}
MOTION
Frames: 3
Frame Time: 0.0083333
0 100 0 0 0 0 0 0 0 0 0 0
10 100 0 90 0 0 0 0 0 0 0 0
0 100 0 0 0 0 -90 0 0 0 90 0
"""


def test_hand_computed_chain(tmp_path):
    p = tmp_path / "chain.bvh"
    p.write_text(CHAIN)
    b = read_bvh(p, length_unit="cm")
    assert b.names == ("hips", "knee", "ankle", "ankle_end")
    assert [j.parent for j in b.joints] == [-1, 0, 1, 2]
    assert b.joints[3].end_site and b.joints[3].channels == ()
    assert b.motion.shape == (3, 12) and b.rate == pytest.approx(120.0, rel=1e-4)
    P = bvh_forward_kinematics(b)
    assert P.shape == (3, 4, 3)
    # frame 0: straight leg hanging from the hips at 1 m
    np.testing.assert_allclose(P[0], [[0, 1, 0], [0, 0.6, 0], [0, 0.2, 0], [0.1, 0.2, 0]],
                               atol=1e-12)
    # frame 1: hips at x = 0.1 m and turned +90 deg about Z: the leg (-Y) points to +X
    np.testing.assert_allclose(P[1], [[0.1, 1, 0], [0.5, 1, 0], [0.9, 1, 0], [0.9, 1.1, 0]],
                               atol=1e-12)
    # frame 2: knee turned -90 deg about Z (shank points to -X),
    # ankle +90 deg about X after it: foot (+X local) stays along the shank's rotated X
    # knee at (0, .6, 0); R_knee = Rz(-90): local -Y -> world -X; ankle at (-0.4, .6, 0)
    # R_ankle_world = Rz(-90) Rx(90): local +X -> Rz(-90) (1,0,0) = (0,-1,0)
    np.testing.assert_allclose(P[2], [[0, 1, 0], [0, 0.6, 0], [-0.4, 0.6, 0], [-0.4, 0.5, 0]],
                               atol=1e-12)


def test_roundtrip_random_angles(tmp_path):
    rng = np.random.default_rng(3)
    joints = (
        BVHJoint("root", -1, np.array([0.0, 0.9, 0.0]),
                 ("Xposition", "Yposition", "Zposition", "Zrotation", "Yrotation", "Xrotation")),
        BVHJoint("a", 0, np.array([0.1, -0.05, 0.02]), ("Zrotation", "Xrotation", "Yrotation")),
        BVHJoint("b", 1, np.array([0.0, -0.4, 0.0]), ("Xrotation", "Zrotation", "Yrotation")),
        BVHJoint("b_end", 2, np.array([0.0, -0.42, 0.05]), (), end_site=True),
        BVHJoint("c", 0, np.array([-0.1, 0.2, 0.0]), ("Yrotation", "Xrotation", "Zrotation")),
        BVHJoint("c_end", 4, np.array([0.0, 0.3, 0.0]), (), end_site=True),
    )
    T = 25
    motion = np.concatenate([rng.normal(0, 0.3, (T, 3)), rng.uniform(-170, 170, (T, 12))], axis=1)
    src = BVH(joints=joints, motion=motion, frame_time=1 / 60)
    p = tmp_path / "rt.bvh"
    write_bvh(p, src, length_unit="cm", precision=8)
    back = read_bvh(p, length_unit=0.01)
    assert back.names == src.names
    assert [j.parent for j in back.joints] == [j.parent for j in joints]
    np.testing.assert_allclose(back.motion, motion, atol=1e-7)
    for a, b in zip(back.joints, joints):
        np.testing.assert_allclose(a.offset, b.offset, atol=1e-9)
        assert a.channels == b.channels
    P0, R0 = bvh_forward_kinematics(src, return_rotations=True)
    P1 = back.forward_kinematics()
    np.testing.assert_allclose(P1, P0, atol=1e-7)
    # bone lengths are preserved by the kinematics
    for i, j in enumerate(joints[1:], start=1):
        d = np.linalg.norm(P0[:, i] - P0[:, j.parent], axis=1)
        np.testing.assert_allclose(d, np.linalg.norm(j.offset), rtol=1e-12)
    np.testing.assert_allclose(np.linalg.det(R0), 1.0, atol=1e-12)


def test_bvh_errors(tmp_path):
    p = tmp_path / "short.bvh"
    lines = CHAIN.splitlines()
    p.write_text("\n".join(lines[:-1]) + "\n")           # one motion line missing
    with pytest.raises(DataFormatError, match=r"short\.bvh.*2 motion lines but 'Frames: 3'"):
        read_bvh(p)
    p.write_text(CHAIN.replace("0 100 0 0 0 0 -90 0 0 0 90 0", "0 100 0 0 0 0 -90 0 0"))
    with pytest.raises(DataFormatError, match=r"line 26: 9 values, expected 12"):
        read_bvh(p)
    p.write_text(CHAIN.replace("CHANNELS 3 Zrotation Xrotation Yrotation\n\t\tJOINT",
                               "CHANNELS 3 Zrotation Xrotation Wrotation\n\t\tJOINT"))
    with pytest.raises(DataFormatError, match="unknown channel 'Wrotation'"):
        read_bvh(p)
    p.write_text(CHAIN.split("MOTION")[0])
    with pytest.raises(DataFormatError, match="no 'MOTION' line"):
        read_bvh(p)


@pytest.mark.parametrize("old, new, message", [
    ("10 100 0 90", "10 nan 0 90", r"line 25, field 'hips': 'nan' \(not a finite number\) in channel "
                                   r"Yposition"),
    ("0 100 0 0 0 0 -90 0 0 0 90 0", "0 100 0 0 0 0 -90 0 0 0 inf 0", r"line 26, field 'ankle': 'inf'"),
    ("OFFSET 0.0 -40.0 0.0", "OFFSET 0.0 nan 0.0", r"'nan' is not a finite number; expected"),
    ("Frames: 3", "Frames: 0", r"field 'Frames': 'Frames: 0'; a BVH motion needs at least one frame"),
    ("Frame Time: 0.0083333", "Frame Time: 0", r"field 'Frame Time': 'Frame Time: 0'; expected the "
                                               r"seconds per frame, > 0"),
    ("Frame Time: 0.0083333", "Frame Time: -0.01", r"'Frame Time: -0.01'"),
])
def test_bvh_values_refused(tmp_path, old, new, message):
    p = tmp_path / "bad.bvh"
    text = CHAIN.replace(old, new, 1)
    if new.startswith("Frames: 0"):
        text = text.split("Frames: 0")[0] + "Frames: 0\nFrame Time: 0.0083333\n"
    p.write_text(text)
    with pytest.raises(DataFormatError, match=r"bad\.bvh, .*" + message):
        read_bvh(p)
