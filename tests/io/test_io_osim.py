"""The .osim parser (OpenSim 4.x shared files, synthetic 3.x and nested-frame files)
and the evaluation of OpenSim functions."""

import numpy as np
import pytest
from scipy.interpolate import CubicSpline

from symgait.io import DataFormatError, evaluate, read_osim
from symgait.io.osim import xyz_body_fixed_angles, xyz_body_fixed_matrix
from symgait.io.osim_functions import (
    Constant,
    LinearFunction,
    MultiplierFunction,
    NaturalCubicSpline,
    PiecewiseLinearFunction,
    PolynomialFunction,
    SimmSpline,
)

W1 = "opensim/gait2354_subject01_walk1/"
G10 = "opensim/gait10dof_subject01_walk/"


def _check_tree(model):
    children = [j.child_body for j in model.joints]
    assert sorted(children) == sorted(model.bodies)        # every body has exactly one joint
    roots = [j for j in model.joints if j.parent_body == model.ground]
    assert len(roots) == 1


def test_gait2354_bodies_joints_mass(data):
    m = read_osim(data(W1 + "subject01_simbody.osim"))
    assert m.version == 40000
    assert len(m.bodies) == 12 and len(m.joints) == 12 and len(m.coordinates) == 23
    # the scaled model's segment masses sum to the subject mass of the scale setup (72.6 kg)
    assert m.total_mass == pytest.approx(72.6, abs=1e-9)
    np.testing.assert_allclose(m.gravity, [0, -9.80665, 0])
    _check_tree(m)
    pelvis = m.bodies["pelvis"]            # values as printed in the file
    assert pelvis.mass == pytest.approx(11.3751712907406)
    np.testing.assert_allclose(pelvis.mass_center, [-0.0724376, 0, 0])
    np.testing.assert_allclose(pelvis.inertia, [0.0992925, 0.0841282, 0.0559245, 0, 0, 0])
    np.testing.assert_allclose(np.diag(pelvis.inertia_matrix), pelvis.inertia[:3])
    hip = m.joint("hip_r")
    assert (hip.type, hip.parent_body, hip.child_body) == ("CustomJoint", "pelvis", "femur_r")
    np.testing.assert_allclose(hip.location_in_parent, [-0.0724376, -0.0677245, 0.0855522],
                               atol=1e-7)
    assert hip.coordinate_names == ("hip_flexion_r", "hip_adduction_r", "hip_rotation_r")
    assert [a.axis.tolist() for a in hip.rotations] == [[0, 0, 1], [1, 0, 0], [0, 1, 0]]
    knee = m.joint_to("tibia_r")
    c = m.coordinates["knee_angle_r"]
    assert c.range == pytest.approx((-2.0943951, 0.17453293))
    assert c.motion_type == "rotational"
    assert m.coordinates["pelvis_ty"].motion_type == "translational"
    assert m.coordinates["pelvis_ty"].default_value == pytest.approx(1.015)
    # the knee's tibial translations are scaled SimmSplines of the knee angle
    t1, t2, t3 = knee.translations
    assert isinstance(t2.function, MultiplierFunction)
    assert isinstance(t2.function.function, SimmSpline)
    assert t2.function.scale == pytest.approx(1.14724)
    assert t2.coordinates == ("knee_angle_r",) and t3.coordinates == ()
    xs, ys = t2.function.function.x, t2.function.function.y
    np.testing.assert_allclose(t2.value({"knee_angle_r": xs}), 1.14724 * ys, rtol=1e-12)
    # tibia ~0.45 m below the femur origin at full extension
    assert -0.47 < float(t2.value({"knee_angle_r": 0.0})) < -0.44
    ankle = m.joint("ankle_r")
    np.testing.assert_allclose(ankle.rotations[0].axis, [-0.10501355, -0.17402245, 0.97912632],
                               atol=1e-7)


def test_gait10dof_synthesized_pin_and_weld(data):
    m = read_osim(data(G10 + "subject01.osim"))
    assert m.total_mass == pytest.approx(72.6, abs=1e-9)
    _check_tree(m)
    assert len(m.coordinates) == 10
    hip = m.joint("hip_r")
    assert hip.type == "PinJoint" and not hip.transform_from_file
    assert hip.rotations[0].coordinates == ("hip_flexion_r",)
    np.testing.assert_array_equal(hip.rotations[0].axis, [0, 0, 1])   # PinJoint turns about Z
    assert float(hip.rotations[0].value({"hip_flexion_r": 0.3})) == pytest.approx(0.3)
    weld = m.joint("subtalar_r")
    assert weld.type == "WeldJoint" and weld.spatial_transform == () and weld.coordinates == ()


OSIM3 = """<?xml version="1.0" encoding="UTF-8"?>
<OpenSimDocument Version="30000">
<Model name="two_link">
  <gravity> 0 -9.81 0 </gravity>
  <BodySet><objects>
    <Body name="ground"><mass>0</mass><Joint/></Body>
    <Body name="thigh">
      <mass>8.5</mass><mass_center>0 -0.2 0</mass_center>
      <inertia_xx>0.11</inertia_xx><inertia_yy>0.03</inertia_yy><inertia_zz>0.12</inertia_zz>
      <inertia_xy>0.001</inertia_xy><inertia_xz>0</inertia_xz><inertia_yz>-0.002</inertia_yz>
      <Joint><CustomJoint name="hip">
        <parent_body>ground</parent_body>
        <location_in_parent>0 1 0</location_in_parent>
        <orientation_in_parent>0 0 0.5</orientation_in_parent>
        <location>0 0.01 0</location><orientation>0 0 0</orientation>
        <CoordinateSet><objects>
          <Coordinate name="hip_flex"><motion_type>rotational</motion_type>
            <default_value>0.1</default_value><range>-1 2</range></Coordinate>
        </objects></CoordinateSet>
        <SpatialTransform>
          <TransformAxis name="rotation1"><function><LinearFunction>
            <coefficients>1 0</coefficients></LinearFunction></function>
            <coordinates>hip_flex</coordinates><axis>0 0 1</axis></TransformAxis>
          <TransformAxis name="rotation2"><function><Constant><value>0</value></Constant>
            </function><coordinates/><axis>1 0 0</axis></TransformAxis>
          <TransformAxis name="rotation3"><function><Constant><value>0</value></Constant>
            </function><coordinates/><axis>0 1 0</axis></TransformAxis>
          <TransformAxis name="translation1"><function><NaturalCubicSpline>
            <x>-1 0 1 2</x><y>0 0.01 0.0 -0.01</y></NaturalCubicSpline></function>
            <coordinates>hip_flex</coordinates><axis>1 0 0</axis></TransformAxis>
          <TransformAxis name="translation2"><function><Constant><value>0</value></Constant>
            </function><coordinates/><axis>0 1 0</axis></TransformAxis>
          <TransformAxis name="translation3"><function><Constant><value>0</value></Constant>
            </function><coordinates/><axis>0 0 1</axis></TransformAxis>
        </SpatialTransform>
      </CustomJoint></Joint>
    </Body>
    <Body name="shank"><mass>3.5</mass><mass_center>0 -0.2 0</mass_center>
      <inertia_xx>0.05</inertia_xx><inertia_yy>0.005</inertia_yy><inertia_zz>0.05</inertia_zz>
      <Joint><PinJoint name="knee"><parent_body>thigh</parent_body>
        <location_in_parent>0 -0.4 0</location_in_parent>
        <orientation_in_parent>0 0 0</orientation_in_parent>
        <CoordinateSet><objects><Coordinate name="knee_flex">
          <range>-2 0</range></Coordinate></objects></CoordinateSet>
      </PinJoint></Joint>
    </Body>
  </objects></BodySet>
</Model></OpenSimDocument>
"""


def test_opensim3_layout(tmp_path):
    p = tmp_path / "m3.osim"
    p.write_text(OSIM3)
    m = read_osim(p)
    assert list(m.bodies) == ["thigh", "shank"] and m.total_mass == pytest.approx(12.0)
    np.testing.assert_allclose(m.bodies["thigh"].inertia, [0.11, 0.03, 0.12, 0.001, 0, -0.002])
    np.testing.assert_allclose(m.gravity, [0, -9.81, 0])
    hip, knee = m.joints
    assert (hip.parent_body, hip.child_body) == ("ground", "thigh")
    np.testing.assert_allclose(hip.location_in_parent, [0, 1, 0])
    np.testing.assert_allclose(hip.orientation_in_parent, [0, 0, 0.5])
    np.testing.assert_allclose(hip.location_in_child, [0, 0.01, 0])
    assert m.coordinates["hip_flex"].default_value == 0.1
    assert m.coordinates["hip_flex"].range == (-1.0, 2.0)
    tr = hip.translations[0]
    assert isinstance(tr.function, NaturalCubicSpline)
    assert float(tr.value({"hip_flex": 1.0})) == pytest.approx(0.0)
    assert knee.type == "PinJoint" and knee.rotations[0].coordinates == ("knee_flex",)
    assert m.coordinates["knee_flex"].motion_type == "rotational"


OSIM4_NESTED = """<?xml version="1.0" encoding="UTF-8" ?>
<OpenSimDocument Version="40000"><Model name="nested">
  <Ground name="ground"/>
  <BodySet><objects>
    <Body name="link"><mass>2</mass><mass_center>0 0 0</mass_center>
      <inertia>1 1 1 0 0 0</inertia></Body>
  </objects></BodySet>
  <JointSet><objects>
    <SliderJoint name="slide">
      <socket_parent_frame>inner</socket_parent_frame>
      <socket_child_frame>/bodyset/link</socket_child_frame>
      <coordinates><Coordinate name="s"><range>-1 1</range></Coordinate></coordinates>
      <frames>
        <PhysicalOffsetFrame name="outer"><socket_parent>/ground</socket_parent>
          <translation>1 0 0</translation><orientation>0 0 1.5707963267948966</orientation>
        </PhysicalOffsetFrame>
        <PhysicalOffsetFrame name="inner"><socket_parent>outer</socket_parent>
          <translation>0 2 0</translation><orientation>0.3 0 0</orientation>
        </PhysicalOffsetFrame>
      </frames>
    </SliderJoint>
  </objects></JointSet>
</Model></OpenSimDocument>
"""


def test_nested_offset_frames_compose(tmp_path):
    p = tmp_path / "n.osim"
    p.write_text(OSIM4_NESTED)
    (j,) = read_osim(p).joints
    assert (j.parent_body, j.child_body) == ("ground", "link")
    # outer: 90 deg about Z at (1,0,0); inner offset (0,2,0) in outer -> (-2, 0, 0) + (1, 0, 0)
    np.testing.assert_allclose(j.location_in_parent, [-1, 0, 0], atol=1e-12)
    R = xyz_body_fixed_matrix(j.orientation_in_parent)
    np.testing.assert_allclose(R, xyz_body_fixed_matrix([0, 0, np.pi / 2])
                               @ xyz_body_fixed_matrix([0.3, 0, 0]), atol=1e-12)
    assert j.translations[0].coordinates == ("s",) and j.coordinates[0].motion_type == "translational"


def test_xyz_body_fixed_roundtrip():
    rng = np.random.default_rng(0)
    for a in rng.uniform(-1.4, 1.4, size=(20, 3)):
        np.testing.assert_allclose(xyz_body_fixed_angles(xyz_body_fixed_matrix(a)), a, atol=1e-12)
    # body-fixed X then Y: R = Rx Ry; Rx(90) maps y->z
    R = xyz_body_fixed_matrix([np.pi / 2, 0, 0])
    np.testing.assert_allclose(R @ [0, 1, 0], [0, 0, 1], atol=1e-12)


# ------------------------------------------------------------------------- functions
def test_simm_spline_reproduces_cubics_and_fmm_end_condition():
    rng = np.random.default_rng(1)
    x = np.sort(rng.uniform(-2, 2, 9))
    c = [0.3, -0.5, 1.2, 0.7]
    f = SimmSpline(x, np.polyval(c, x))
    xq = np.linspace(x[0], x[-1], 301)
    # FMM end conditions are exact for cubic data (a natural spline is not)
    np.testing.assert_allclose(evaluate(f, xq), np.polyval(c, xq), atol=1e-10)
    nat = NaturalCubicSpline(x, np.polyval(c, x))
    assert np.max(np.abs(evaluate(nat, xq) - np.polyval(c, xq))) > 1e-3
    # random data: interpolates, C2 at knots, third derivative on the end interval equals
    # that of the cubic through the first 4 knots
    y = rng.normal(size=x.size)
    s = SimmSpline(x, y)
    np.testing.assert_allclose(evaluate(s, x), y, atol=1e-12)
    eps = 1e-9
    for d in (1, 2):
        np.testing.assert_allclose(evaluate(s, x[1:-1] - eps, d), evaluate(s, x[1:-1] + eps, d),
                                   rtol=1e-6, atol=1e-6)
    cubic = np.polyfit(x[:4], y[:4], 3)
    mid = 0.5 * (x[0] + x[1])
    third_spline = (evaluate(s, mid + 1e-4, 2) - evaluate(s, mid - 1e-4, 2)) / 2e-4
    assert third_spline == pytest.approx(6 * cubic[0], rel=1e-5)
    # linear extension with the end slopes
    slope0 = float(evaluate(s, x[0], 1))
    assert float(evaluate(s, x[0] - 0.5)) == pytest.approx(y[0] - 0.5 * slope0)
    assert float(evaluate(s, x[-1] + 1.0, 2)) == 0.0


def test_small_simm_splines():
    # 2 knots: the line; 3 knots: the parabola; 4 knots: the interpolating cubic
    np.testing.assert_allclose(evaluate(SimmSpline([0, 2], [1, 5]), [0.5, 3.0]), [2, 7])
    x3, y3 = np.array([0.0, 1.0, 3.0]), np.array([1.0, 0.0, 4.0])
    par = np.polyfit(x3, y3, 2)
    np.testing.assert_allclose(evaluate(SimmSpline(x3, y3), [0.5, 2.0]), np.polyval(par, [0.5, 2]))
    x4, y4 = np.array([0.0, 1.0, 1.5, 3.0]), np.array([1.0, -1.0, 0.5, 2.0])
    np.testing.assert_allclose(evaluate(SimmSpline(x4, y4), [0.3, 2.2]),
                               np.polyval(np.polyfit(x4, y4, 3), [0.3, 2.2]), atol=1e-12)


def test_natural_spline_matches_scipy_and_other_functions():
    x = np.array([-2.0, -1.2, 0.0, 0.4, 1.5, 2.0])
    y = np.array([0.1, -0.3, 0.2, 0.25, -0.1, 0.0])
    xq = np.linspace(-2, 2, 101)
    ref = CubicSpline(x, y, bc_type="natural")
    np.testing.assert_allclose(evaluate(NaturalCubicSpline(x, y), xq), ref(xq), atol=1e-12)
    np.testing.assert_allclose(evaluate(NaturalCubicSpline(x, y), xq, 1), ref(xq, 1), atol=1e-10)
    assert float(evaluate(Constant(0.25), 3.0)) == 0.25
    assert float(evaluate(LinearFunction(2.0, -1.0), 3.0)) == 5.0
    assert float(evaluate(LinearFunction(2.0, -1.0), 3.0, 1)) == 2.0
    assert float(evaluate(PolynomialFunction((1.0, 0.0, -2.0)), 3.0)) == 7.0
    assert float(evaluate(PiecewiseLinearFunction([0, 1, 2], [0, 2, 0]), 1.5)) == 1.0
    m = MultiplierFunction(SimmSpline(x, y), 2.0)
    np.testing.assert_allclose(evaluate(m, xq), 2 * evaluate(SimmSpline(x, y), xq))


def test_bad_function_and_values(tmp_path):
    bad = OSIM3.replace("<mass>8.5</mass>", "<mass>eight</mass>")
    p = tmp_path / "bad.osim"
    p.write_text(bad)
    with pytest.raises(DataFormatError, match=r"bad\.osim.*Body\[thigh\]/mass"):
        read_osim(p)
    bad = OSIM3.replace("<x>-1 0 1 2</x>", "<x>-1 0 1</x>")
    p.write_text(bad)
    with pytest.raises(DataFormatError, match="3 x values but 4 y values"):
        read_osim(p)
    bad = OSIM3.replace("<NaturalCubicSpline>", "<Sine>").replace("</NaturalCubicSpline>", "</Sine>")
    p.write_text(bad)
    with pytest.raises(DataFormatError, match="unsupported function type <Sine>"):
        read_osim(p)
