"""URDF import against Pinocchio reading the same file (``pin.buildModelFromUrdf``): M, ID, FD and
their derivatives, link-origin points and their Jacobians, matched by joint name, at random states;
robots of the pip package example-robot-data (UR5 arm, Panda arm with prismatic fingers, the Talos
humanoid with a floating root: a quaternion free flyer against Pinocchio's JointModelFreeFlyer, with
tangent-space derivatives, and with ``floating_root="euler"`` against six single-DoF joints). Bad
files raise ModelError naming the file, element and fix."""
from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np
import pytest

import symgait
from symgait import ModelError
from symgait.cli import main as cli_main
from symgait.codegen import generate
from symgait_testing import (PinMatch, assert_dynamics_match_pinocchio, assert_points_match_pinocchio, assert_refused,
                             example_robot_file, random_state, rel_err)

pin = pytest.importorskip("pinocchio", reason="Pinocchio (`pip install pin`) is the independent oracle")

TOL = 1e-8
ARMS = {"ur5": "ur_description/urdf/ur5_robot.urdf", "panda": "panda_description/urdf/panda.urdf"}
FLOATING = ["_tx", "_ty", "_tz", "_rz", "_rx", "_ry"]


@pytest.fixture(scope="module", params=sorted(ARMS))
def arm(request, tmp_path_factory):
    """An arm generated with ``symgait generate FILE`` into a user cache, loaded by ``symgait.kernels(path)``."""
    path = example_robot_file(ARMS[request.param])
    cache = tmp_path_factory.mktemp("cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SYMGAIT_CACHE_DIR", str(cache))
        assert cli_main(["generate", str(path)]) == 0
        m = symgait.load_model(path)
        k = symgait.kernels(path)  # found in the user cache, as for a YAML file
        k.mass_matrix(np.zeros((1, m.nq)), m.parameters())  # compile while the cache is set
    return m, k, path, PinMatch(pin, pin.buildModelFromUrdf(str(path)), m)


def test_arm_dynamics_and_derivatives(arm):
    m, k, path, pm = arm
    assert m.n_parameters == 0 and m.n_contacts == 0
    assert_dynamics_match_pinocchio(m, k, pm, n_states=20, seed=1, tol=TOL)


def test_arm_link_points_and_jacobians(arm):
    """Every link origin (also of links merged by fixed joints: tool0, panda_hand, ...) is a point;
    positions and Jacobians equal Pinocchio's frames."""
    m, k, path, pm = arm
    fixed_children = {j.find("child").get("link") for j in ET.parse(path).getroot().findall("joint")
                      if j.get("type") == "fixed"}
    assert fixed_children & set(m.points), "merged links keep their frames as points"
    assert_points_match_pinocchio(m, k, pm, random_state(m, 5, seed=2)[0], TOL)


def test_arm_limits(arm):
    m, k, path, pm = arm
    assert set(m.limits) == set(m.coordinates)
    for c, (lo, hi) in m.limits.items():
        i = pm.m.joints[pm.m.getJointId(c)].idx_q
        assert (lo, hi) == (pm.m.lowerPositionLimit[i], pm.m.upperPositionLimit[i])


def _with_floating_root(text: str, base: str, joint: str = "root") -> str:
    return text.replace(f'<link name="{base}"', f'<link name="world"/>\n<joint name="{joint}" type="floating">'
                        f'<parent link="world"/><child link="{base}"/></joint>\n<link name="{base}"', 1)


def _with_six_joint_root(text: str, base: str) -> str:
    """The root as six single-DoF URDF joints (Pinocchio's free flyer is a quaternion joint)."""
    chain, prev = '<link name="world"/>\n', "world"
    for k, (suffix, jt, axis) in enumerate(zip(FLOATING, ["prismatic"] * 3 + ["revolute"] * 3,
                                               ["1 0 0", "0 1 0", "0 0 1", "0 0 1", "1 0 0", "0 1 0"])):
        child = base if k == 5 else f"root{suffix}_link"
        if k < 5:
            chain += f'<link name="{child}"/>\n'
        chain += (f'<joint name="root{suffix}" type="{jt}"><parent link="{prev}"/><child link="{child}"/>'
                  f'<axis xyz="{axis}"/><limit lower="-10" upper="10" effort="1" velocity="1"/></joint>\n')
        prev = child
    return text.replace(f'<link name="{base}"', chain + f'<link name="{base}"', 1)


@pytest.mark.slow
def test_talos_humanoid_free_flyer_root(tmp_path):
    """Talos (32 joints, many fixed links) with a URDF floating joint: a quaternion free flyer, nq = 39,
    nv = 38; Pinocchio reads the file without it, its root a ``JointModelFreeFlyer`` (M, rnea, aba,
    computeRNEADerivatives, computeABADerivatives: the derivatives with respect to q in the tangent
    space; frames)."""
    path = example_robot_file("talos_data/robots/talos_reduced.urdf")
    ours = tmp_path / "talos.urdf"
    ours.write_text(_with_floating_root(path.read_text(), "base_link", "root_joint"))  # Pinocchio's root name
    m = symgait.load_model(ours)
    assert (m.nq, m.nv) == (39, 38) and m.quaternion_joints == [["root_joint", "free_flyer", 0, 0]]
    assert m.coordinates[:7] == ["root_joint" + s for s in ("_tx", "_ty", "_tz", "_qx", "_qy", "_qz", "_qw")]
    assert m.actuated == m.velocities[6:] == m.coordinates[7:]
    k = symgait.kernels(m, generated=generate(ours, out=tmp_path / "gen", log=lambda *a: None))
    pm = PinMatch(pin, pin.buildModelFromUrdf(str(path), pin.JointModelFreeFlyer()), m)
    assert_dynamics_match_pinocchio(m, k, pm, n_states=10, seed=3, tol=TOL)
    assert_points_match_pinocchio(m, k, pm, random_state(m, 3, seed=4)[0], TOL)


@pytest.mark.slow
def test_talos_humanoid_euler_root(tmp_path):
    """The same file with ``floating_root="euler"``: 38 coordinates, the root as three translations and
    three Euler angles; Pinocchio reads the file with the root written as six single-DoF joints."""
    text = example_robot_file("talos_data/robots/talos_reduced.urdf").read_text()
    ours, theirs = tmp_path / "talos.urdf", tmp_path / "talos_six.urdf"
    ours.write_text(_with_floating_root(text, "base_link"))
    theirs.write_text(_with_six_joint_root(text, "base_link"))
    m = symgait.load_model(ours, floating_root="euler")
    assert m.nq == m.nv == 38 and m.coordinates[:6] == ["root" + s for s in FLOATING]
    assert m.actuated == m.coordinates[6:]
    k = symgait.kernels(m, generated=generate(m, out=tmp_path / "gen", log=lambda *a: None))
    pm = PinMatch(pin, pin.buildModelFromUrdf(str(theirs)), m)
    assert_dynamics_match_pinocchio(m, k, pm, n_states=10, seed=3, tol=TOL)
    q = random_state(m, 3, seed=4)[0]
    X = k.points(q, m.parameters())
    for b in range(3):
        pin.framesForwardKinematics(pm.m, pm.data, pm.q_in(q[b]))
        for i, name in enumerate(m.points):
            assert rel_err(X[b, i], pm.data.oMf[pm.m.getFrameId(name)].translation) < TOL


# --- bad files ---------------------------------------------------------------------------------
GOOD = """<robot name="r">
  <link name="base"/>
  <link name="a"><inertial><mass value="1"/><inertia ixx="0.1" ixy="0" ixz="0" iyy="0.1" iyz="0" izz="0.1"/></inertial></link>
  <joint name="j" type="{jtype}"><parent link="{parent}"/><child link="a"/><axis xyz="0 0 1"/>
    <limit lower="-1" upper="1" effort="1" velocity="1"/></joint>
</robot>"""


@pytest.mark.parametrize("text, words", [
    (GOOD.format(jtype="planar", parent="base"), ["joint 'j'", "planar"]),
    (GOOD.format(jtype="screw", parent="base"), ["joint 'j'", "unknown joint type 'screw'"]),
    (GOOD.format(jtype="revolute", parent="nowhere"), ["joint 'j'", "'nowhere' is not defined"]),
    (GOOD.format(jtype="revolute", parent="base").replace('<limit lower="-1" upper="1" effort="1" velocity="1"/>',
                                                         ""), ["joint 'j'", "<limit"]),
    (GOOD.format(jtype="revolute", parent="base").replace('ixx="0.1"', 'ixx="5"'),
     ["body 'a'", "non-physical inertia", "triangle inequality"]),
    (GOOD.format(jtype="revolute", parent="base").replace('<mass value="1"/>', '<mass value="heavy"/>'),
     ["link 'a'", "<mass>", "value='heavy'"]),
    (GOOD.format(jtype="fixed", parent="base"), ["no moving joint"]),
    (GOOD.format(jtype="revolute", parent="base").replace("</robot>", (
        '<link name="b"/><joint name="idle" type="revolute"><parent link="a"/><child link="b"/>'
        '<limit lower="-1" upper="1" effort="1" velocity="1"/></joint></robot>')), ["joints ['idle'] move no mass"]),
    ("<robot name='r'><link name='a'/><link name='b'/></robot>", ["exactly one root link"]),
    ("<robot name='r'><link name='a'>", ["not valid XML"]),
    ("<mujoco/>", ["expected <robot>"]),
])
def test_bad_urdf_names_file_element_and_fix(tmp_path, text, words):
    assert_refused(tmp_path / "bad.urdf", text, words)


def test_floating_joint_must_start_at_the_root(tmp_path):
    text = GOOD.format(jtype="revolute", parent="base").replace("</robot>", (
        '<link name="c"><inertial><mass value="1"/><inertia ixx="0.1" ixy="0" ixz="0" iyy="0.1" iyz="0" '
        'izz="0.1"/></inertial></link><joint name="f" type="floating"><parent link="a"/><child link="c"/></joint>'
        "</robot>"))
    f = tmp_path / "float.urdf"
    f.write_text(text)
    with pytest.raises(ModelError, match="joint 'f'.*floating joint must connect the root link"):
        symgait.load_model(f)


def test_fixed_links_merge_exactly(tmp_path):
    """A link on a fixed joint (rotated origin, rotated inertial frame) merges into its parent's body:
    the parent body's mass, centre of mass and inertia are those of the two rigid bodies together
    (computed here from the parallel-axis theorem by hand), and its origin is a point."""
    a = np.array([0.1, -0.2, 0.3])
    text = f"""<robot name="m">
      <link name="base"/>
      <link name="a"><inertial><origin xyz="0 0 0.1"/><mass value="2"/>
        <inertia ixx="0.02" ixy="0" ixz="0" iyy="0.03" iyz="0" izz="0.04"/></inertial></link>
      <link name="tip"><inertial><origin xyz="0.05 0 0" rpy="0 0 1.5707963267948966"/><mass value="1"/>
        <inertia ixx="0.001" ixy="0" ixz="0" iyy="0.002" iyz="0" izz="0.0025"/></inertial></link>
      <joint name="j" type="continuous"><parent link="base"/><child link="a"/><axis xyz="1 0 0"/></joint>
      <joint name="weld" type="fixed"><parent link="a"/><child link="tip"/>
        <origin xyz="{a[0]} {a[1]} {a[2]}" rpy="0 1.5707963267948966 0"/></joint>
    </robot>"""
    f = tmp_path / "m.urdf"
    f.write_text(text)
    m = symgait.load_model(f)
    assert m.bodies == ["a"] and m.points == ["a", "tip"] and m.limits == {}
    b = m.spec.bodies[0]
    # tip's COM: origin a, then Ry(90°) maps (0.05, 0, 0) to (0, 0, -0.05)
    c_tip = a + np.array([0.0, 0.0, -0.05])
    c_a = np.array([0.0, 0.0, 0.1])
    com = (2 * c_a + 1 * c_tip) / 3
    # tip's inertia in a's axes: Rz(90°) swaps x, y; then Ry(90°) swaps x, z
    I_tip = np.diag([0.0025, 0.001, 0.002])
    I = np.diag([0.02, 0.03, 0.04]) + I_tip
    for mass, c in ((2, c_a), (1, c_tip)):
        d = c - com
        I += mass * (d @ d * np.eye(3) - np.outer(d, d))
    assert float(b.mass) == 3
    assert np.allclose([float(x) for x in b.com], com, rtol=0, atol=1e-15)
    ixx, iyy, izz, ixy, ixz, iyz = (float(x) for x in b.inertia)
    assert np.allclose([ixx, iyy, izz, ixy, ixz, iyz], [I[0, 0], I[1, 1], I[2, 2], I[0, 1], I[0, 2], I[1, 2]],
                       rtol=0, atol=1e-15)
    assert np.allclose([float(x) for x in m.spec.points[1].position], a, rtol=0, atol=1e-15)
