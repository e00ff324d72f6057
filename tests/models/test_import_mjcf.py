"""MJCF import against MuJoCo reading the same file (contacts and joint limits disabled, no damping or
armature): M, ID (mj_inverse), FD (mj_forward), site and body positions, matched by joint name, at
random states, on tests/models/mjcf_humanoid.xml (a free root, hinges and slides, several joints per
body, default classes, rotated bodies, full and geom-derived inertias, a welded body). MuJoCo's free
joint is a quaternion: MuJoCo reads the file with the root written as three slides and three hinges
about the axes our six coordinates move along. Derivatives against Pinocchio on the model's URDF
export (one URDF joint per coordinate). Bad files raise ModelError naming the file, element and fix."""
from __future__ import annotations

import numpy as np
import pytest

import symgait
from symgait.codegen import generate
from symgait.model.mjcf_import import quat_matrix
from symgait_testing import (TEST_MODELS, PinMatch, assert_dynamics_match_pinocchio, assert_refused, random_state,
                             rel_err)

mujoco = pytest.importorskip("mujoco", reason="MuJoCo (`pip install mujoco`) is the independent oracle")

TOL = 1e-8
FILE = TEST_MODELS / "mjcf_humanoid.xml"
ROOT_QUAT = np.array([0.96, 0.1, -0.2, 0.15])  # the pelvis quat of the file


def _explicit_root(text: str) -> str:
    """The free joint as slides along the world axes and hinges about body-fixed z, x, y (axes given in
    the pelvis frame, which the file rotates by ROOT_QUAT)."""
    R0 = quat_matrix(ROOT_QUAT / np.linalg.norm(ROOT_QUAT))
    joints = ""
    for suffix, jt, i in [("_tx", "slide", 0), ("_ty", "slide", 1), ("_tz", "slide", 2), ("_rz", "hinge", 2),
                          ("_rx", "hinge", 0), ("_ry", "hinge", 1)]:
        axis = " ".join(repr(float(x)) for x in R0.T @ np.eye(3)[i])
        joints += f'<joint name="root{suffix}" type="{jt}" axis="{axis}" limited="false"/>'
    assert '<freejoint name="root"/>' in text
    return text.replace('<freejoint name="root"/>', joints)


@pytest.fixture(scope="module")
def humanoid(gen_root):
    m = symgait.load_model(FILE)
    k = symgait.kernels(m, generated=generate(FILE, out=gen_root / "mjcf_humanoid", log=lambda *a: None))
    mm = mujoco.MjModel.from_xml_string(_explicit_root(FILE.read_text()))
    mm.opt.disableflags |= mujoco.mjtDisableBit.mjDSBL_CONTACT | mujoco.mjtDisableBit.mjDSBL_LIMIT
    ids = [mujoco.mj_name2id(mm, mujoco.mjtObj.mjOBJ_JOINT, c) for c in m.coordinates]
    assert min(ids) >= 0 and mm.nv == m.nq
    return m, k, mm, mm.jnt_qposadr[ids], mm.jnt_dofadr[ids]


def test_structure(humanoid):
    m, k, mm, qa, va = humanoid
    assert m.nq == 23 and m.n_parameters == 0
    assert m.coordinates[:6] == ["root_tx", "root_ty", "root_tz", "root_rz", "root_rx", "root_ry"]
    assert m.actuated == m.coordinates[6:]
    assert "hand_r" not in m.bodies and {"hand_r", "hand_r_tip", "toe_l", "pelvis"} <= set(m.points)
    assert np.array_equal(m.gravity, [0.3, -0.2, -9.81])


def test_against_mujoco(humanoid):
    m, k, mm, qa, va = humanoid
    d = mujoco.MjData(mm)
    n, B = m.nq, 20
    q, qd, qdd, tau, _ = random_state(m, B, seed=1, scale=1.0)
    p, w = m.parameters(), np.zeros((B, 0, 6))
    M, ID, FD, X = (k.mass_matrix(q, p), k.inverse_dynamics(q, qd, qdd, w, p), k.forward_dynamics(q, qd, tau, w, p),
                    k.points(q, p))
    for b in range(B):
        d.qpos[qa], d.qvel[va], d.qacc[va] = q[b], qd[b], qdd[b]
        mujoco.mj_inverse(mm, d)
        Mm = np.zeros((n, n))
        mujoco.mj_fullM(mm, d, Mm)
        assert rel_err(M[b], Mm[np.ix_(va, va)]) < TOL
        assert rel_err(ID[b], d.qfrc_inverse[va]) < TOL
        d.qfrc_applied[:] = 0
        d.qfrc_applied[va] = tau[b]
        mujoco.mj_forward(mm, d)
        assert rel_err(FD[b], d.qacc[va]) < TOL
        for i, name in enumerate(m.points):
            site = mujoco.mj_name2id(mm, mujoco.mjtObj.mjOBJ_SITE, name)
            ref = d.site_xpos[site] if site >= 0 else d.xpos[mujoco.mj_name2id(mm, mujoco.mjtObj.mjOBJ_BODY, name)]
            assert rel_err(X[b, i], ref) < TOL, name


def test_limits_in_radians(humanoid):
    m, k, mm, qa, va = humanoid
    for c, (lo, hi) in m.limits.items():
        j = mujoco.mj_name2id(mm, mujoco.mjtObj.mjOBJ_JOINT, c)
        assert mm.jnt_limited[j] and np.allclose(mm.jnt_range[j], [lo, hi], rtol=1e-15, atol=0)
    limited = [mujoco.mj_id2name(mm, mujoco.mjtObj.mjOBJ_JOINT, j) for j in range(mm.njnt) if mm.jnt_limited[j]]
    assert sorted(limited) == sorted(m.limits)


def test_derivatives_against_pinocchio(humanoid):
    pin = pytest.importorskip("pinocchio", reason="Pinocchio (`pip install pin`) is the oracle of the derivatives")
    m, k, mm, qa, va = humanoid
    pm = PinMatch(pin, pin.buildModelFromXML(m.to_urdf()), m)
    assert_dynamics_match_pinocchio(m, k, pm, n_states=20, seed=2, tol=TOL)


def test_euler_sequences_and_degrees(tmp_path):
    """Body orientations in every form MJCF has, in radians and in degrees, place a site as MuJoCo does."""
    for compiler, euler in (('angle="radian" eulerseq="XYZ"', "0.3 -0.5 1.1"),
                            ('angle="degree" eulerseq="zxz"', "30 -50 110")):
        text = f"""<mujoco><compiler {compiler}/><worldbody>
          <body name="a" pos="0.1 0.2 0.3" euler="{euler}"><joint name="j" type="hinge" axis="0.3 0.4 1"/>
            <geom type="sphere" size="0.1"/><site name="s1" pos="0.2 -0.1 0.05"/>
            <body name="b" pos="0 0.3 0" axisangle="1 1 0 {0.7 if 'radian' in compiler else 40}">
              <joint name="k" type="slide" axis="1 0 0.2" ref="0.05"/>
              <geom type="box" size="0.1 0.05 0.02"/><site name="s2" pos="0.1 0.1 0.1"/>
              <body name="c" pos="0.1 0 0" xyaxes="0 1 0 -1 0 0.3"><joint name="l" axis="0 0 1" ref="0.2"/>
                <geom type="capsule" fromto="0 0 0 0.2 0.1 0" size="0.02"/><site name="s3" pos="0.1 0 0"/>
                <body name="d" zaxis="0.3 -0.2 0.9"><geom type="sphere" size="0.01"/><site name="s4" pos="0 0 0.1"/>
                </body></body></body></body></worldbody></mujoco>"""
        f = tmp_path / "orient.xml"
        f.write_text(text)
        m = symgait.load_model(f)
        k = symgait.kernels(m, generated=generate(f, out=tmp_path / "gen", log=lambda *a: None))
        mm = mujoco.MjModel.from_xml_string(text)
        d = mujoco.MjData(mm)
        q = random_state(m, 4, seed=5, scale=1.0)[0]
        X = k.points(q, m.parameters())
        for b in range(4):
            d.qpos[:] = q[b]  # one qpos per coordinate, in the same (depth-first) order
            mujoco.mj_kinematics(mm, d)
            for s in ("s1", "s2", "s3", "s4"):
                ref = d.site_xpos[mujoco.mj_name2id(mm, mujoco.mjtObj.mjOBJ_SITE, s)]
                assert rel_err(X[b, m.points.index(s)], ref) < TOL, (compiler, s)


# --- bad files ---------------------------------------------------------------------------------
def _one_body(joint: str, body_extra: str = '<inertial pos="0 0 0" mass="1" diaginertia="0.1 0.1 0.1"/>') -> str:
    return f'<mujoco><worldbody><body name="b">{joint}{body_extra}</body></worldbody></mujoco>'


@pytest.mark.parametrize("text, words", [
    (_one_body('<joint name="shoulder" type="ball"/>'), ["joint 'shoulder'", "ball joints are not imported",
                                                        "three hinge joints"]),
    (_one_body('<joint name="j" armature="0.1"/>'), ["joint 'j'", "armature", 'armature="0"']),
    (_one_body('<joint name="j"/>', '<geom type="mesh" mesh="m"/>'), ["body 'b'", "'mesh' geom",
                                                                      "<inertial"]),
    (_one_body('<joint name="j" axis="0 0 0"/>'), ["joint 'j'", "axis", "zero"]),
    (_one_body('<joint name="j" class="nope"/>'), ["class 'nope'", "<default class"]),
    (_one_body('<joint name="j" type="free"/><joint name="k"/>'), ["joint 'j'", "free joint must be the only"]),
    (_one_body('<joint name="j"/>', '<inertial pos="0 0 0" mass="1"/>'), ["body 'b' <inertial>", "diaginertia"]),
    ('<mujoco><include file="other.xml"/><worldbody/></mujoco>', ["<include>", "inline"]),
    ('<mujoco><worldbody><body name="b"><geom size="0.1"/></body></worldbody></mujoco>', ["no moving joint"]),
    ("<robot/>", ["expected <mujoco>"]),
])
def test_bad_mjcf_names_file_element_and_fix(tmp_path, text, words):
    assert_refused(tmp_path / "bad.xml", text, words)


def test_passive_forces_are_named_in_a_warning(tmp_path):
    f = tmp_path / "damped.xml"
    f.write_text(_one_body('<joint name="j" damping="0.5" stiffness="2"/>'))
    with pytest.warns(UserWarning, match=r"j\.damping, j\.stiffness"):
        m = symgait.load_model(f)
    assert m.coordinates == ["j"]
