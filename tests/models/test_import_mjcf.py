"""MJCF import against MuJoCo reading the same file (contacts and joint limits disabled, no damping or
armature): M, ID (mj_inverse), FD (mj_forward), site and body positions, matched by joint name, at
random states, on tests/models/mjcf_humanoid.xml (a free root, hinges and slides, several joints per
body, default classes, rotated bodies, full and geom-derived inertias, a welded body), read with
``floating_root="euler"``: MuJoCo reads the file with the root written as three slides and three
hinges about the axes our six coordinates move along; derivatives against Pinocchio on the model's
URDF export (one URDF joint per coordinate). The default import (a quaternion free flyer, ball joints
as spherical joints) against MuJoCo's own free and ball joints on tests/models/mjcf_ball_humanoid.xml
(qpos w first, the free joint's linear velocity in the world frame: converted), with tangent-space
central differences of the derivative kernels. Bad files raise ModelError naming the file, element
and fix."""
from __future__ import annotations

import json

import numpy as np
import pytest

import symgait
from symgait.cli import main as cli_main
from symgait.codegen import generate
from symgait.model.mjcf_import import quat_matrix
from symgait.paths import default_dir
from symgait.runtime.loader import generate_command
from symgait.runtime.manifold import quat_matrix as xyzw_matrix
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
    m = symgait.load_model(FILE, floating_root="euler")
    k = symgait.kernels(m, generated=generate(FILE, out=gen_root / "mjcf_humanoid", log=lambda *a: None,
                                              floating_root="euler"))
    mm = mujoco.MjModel.from_xml_string(_explicit_root(FILE.read_text()))
    mm.opt.disableflags |= mujoco.mjtDisableBit.mjDSBL_CONTACT | mujoco.mjtDisableBit.mjDSBL_LIMIT
    ids = [mujoco.mj_name2id(mm, mujoco.mjtObj.mjOBJ_JOINT, c) for c in m.coordinates]
    assert min(ids) >= 0 and mm.nv == m.nq
    return m, k, mm, mm.jnt_qposadr[ids], mm.jnt_dofadr[ids]


def _world_position(mm, d, name):
    """MuJoCo's world position of the site ``name``, else of the body ``name``."""
    site = mujoco.mj_name2id(mm, mujoco.mjtObj.mjOBJ_SITE, name)
    return d.site_xpos[site] if site >= 0 else d.xpos[mujoco.mj_name2id(mm, mujoco.mjtObj.mjOBJ_BODY, name)]


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
            assert rel_err(X[b, i], _world_position(mm, d, name)) < TOL, name


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
    (_one_body('<joint name="j" armature="0.1"/>'), ["joint 'j'", "armature", 'armature="0"']),
    (_one_body('<joint name="j" type="ball" armature="0.1"/>'), ["joint 'j'", "armature", 'armature="0"']),
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


# --- the default import: a quaternion free flyer and spherical joints, against MuJoCo's own --------------
BALL_FILE = TEST_MODELS / "mjcf_ball_humanoid.xml"


@pytest.fixture(scope="module")
def ball_humanoid(gen_root):
    m = symgait.load_model(BALL_FILE)
    k = symgait.kernels(m, generated=generate(BALL_FILE, out=gen_root / "mjcf_ball_humanoid", log=lambda *a: None))
    mm = mujoco.MjModel.from_xml_string(BALL_FILE.read_text())
    mm.opt.disableflags |= (mujoco.mjtDisableBit.mjDSBL_CONTACT | mujoco.mjtDisableBit.mjDSBL_LIMIT
                            | mujoco.mjtDisableBit.mjDSBL_CONSTRAINT)
    # our q and v entries -> MuJoCo's qpos (quaternions w first) and qvel, by joint name
    Pq, Pv = np.zeros(m.nq, int), np.zeros(m.nv, int)
    for f in m.spec.frames:
        if f.motion.has_coordinate:
            j = mujoco.mj_name2id(mm, mujoco.mjtObj.mjOBJ_JOINT, f.name)
            assert j >= 0, f.name
            qa, va = mm.jnt_qposadr[j], mm.jnt_dofadr[j]
            Pq[f.coordinate: f.coordinate + f.motion.nq] = {
                "free_flyer": [qa, qa + 1, qa + 2, qa + 4, qa + 5, qa + 6, qa + 3],
                "spherical": [qa + 1, qa + 2, qa + 3, qa]}.get(f.motion.name, [qa])
            Pv[f.velocity: f.velocity + f.motion.nv] = np.arange(va, va + f.motion.nv)
    assert (mm.nq, mm.nv) == (m.nq, m.nv) and sorted(Pq) == list(range(m.nq)) and sorted(Pv) == list(range(m.nv))
    return m, k, mm, Pq, Pv


def test_ball_humanoid_structure(ball_humanoid):
    m, k, mm, Pq, Pv = ball_humanoid
    assert (m.nq, m.nv) == (35, 28)
    assert m.coordinates[:7] == ["root_tx", "root_ty", "root_tz", "root_qx", "root_qy", "root_qz", "root_qw"]
    assert m.velocities[6:9] == ["lumbar_wx", "lumbar_wy", "lumbar_wz"]
    assert [j[:2] for j in m.quaternion_joints] == [["root", "free_flyer"], ["lumbar", "spherical"],
                                                   ["neck", "spherical"], ["shoulder_r", "spherical"],
                                                   ["hip_r", "spherical"], ["ankle_r", "spherical"],
                                                   ["hip_l", "spherical"]]
    assert m.actuated == m.velocities[6:] and "elbow_r" in m.limits and not any("_q" in c for c in m.limits)
    # MuJoCo's initial qpos (the bodies' poses in the file) is a valid configuration of ours
    q0 = mm.qpos0[Pq]
    assert np.allclose(k.points(q0[None], m.parameters())[0, m.points.index("pelvis")], [0.1, -0.05, 1.0])


def test_ball_humanoid_against_mujoco(ball_humanoid):
    """M, mj_inverse, mj_forward and positions with MuJoCo's velocity basis converted: its free joint's
    linear qvel is R v (world frame), its linear qacc the world acceleration R (a + ω x v) of the origin,
    its linear generalized force the world force; angular parts and ball joints are body-frame as ours."""
    m, k, mm, Pq, Pv = ball_humanoid
    d = mujoco.MjData(mm)
    B = 20
    q, qd, qdd, tau, _ = random_state(m, B, seed=1, scale=1.0)
    p, w = m.parameters(), np.zeros((B, 0, 6))
    M, ID, FD, X = (k.mass_matrix(q, p), k.inverse_dynamics(q, qd, qdd, w, p), k.forward_dynamics(q, qd, tau, w, p),
                    k.points(q, p))
    for b in range(B):
        R = xyzw_matrix(q[b, 3:7])
        T = np.eye(m.nv)
        T[:3, :3] = R
        c = np.zeros(m.nv)
        c[:3] = R @ np.cross(qd[b, 3:6], qd[b, :3])
        d.qpos[Pq] = q[b]
        d.qvel[Pv] = T @ qd[b]
        d.qacc[Pv] = T @ qdd[b] + c
        mujoco.mj_inverse(mm, d)
        Mm = np.zeros((m.nv, m.nv))
        mujoco.mj_fullM(mm, d, Mm)
        assert rel_err(M[b], T.T @ Mm[np.ix_(Pv, Pv)] @ T) < TOL
        assert rel_err(ID[b], T.T @ d.qfrc_inverse[Pv]) < TOL
        d.qfrc_applied[:] = 0
        d.qfrc_applied[Pv] = np.linalg.solve(T.T, tau[b])
        mujoco.mj_forward(mm, d)
        assert rel_err(FD[b], np.linalg.solve(T, d.qacc[Pv] - c)) < TOL
        for i, name in enumerate(m.points):
            assert rel_err(X[b, i], _world_position(mm, d, name)) < TOL, name


def test_ball_humanoid_derivatives_on_the_manifold(ball_humanoid):
    """The derivative kernels against central differences in the tangent space (q ⊕ ±ε e_k)."""
    m, k, mm, Pq, Pv = ball_humanoid
    q, qd, qdd, tau, _ = random_state(m, 2, seed=3, scale=1.0)
    p, w, n = m.parameters(), np.zeros((2, 0, 6)), m.nv
    di = k.inverse_dynamics_derivatives(q, qd, qdd, w, p)
    df = k.forward_dynamics_derivatives(q, qd, tau, w, p)
    eps = 1e-6
    for j in range(n):
        e = np.zeros((2, n))
        e[:, j] = eps
        qp, qm = k.integrate(q, e), k.integrate(q, -e)
        fd_id = (k.inverse_dynamics(qp, qd, qdd, w, p) - k.inverse_dynamics(qm, qd, qdd, w, p)) / (2 * eps)
        fd_fd = (k.forward_dynamics(qp, qd, tau, w, p) - k.forward_dynamics(qm, qd, tau, w, p)) / (2 * eps)
        assert rel_err(di["dtau_dq"][:, :, j], fd_id) < 1e-6
        assert rel_err(df["dqdd_dq"][:, :, j], fd_fd) < 1e-6
        vp, vm = qd + e, qd - e
        assert rel_err(di["dtau_dqd"][:, :, j], (k.inverse_dynamics(q, vp, qdd, w, p)
                                                 - k.inverse_dynamics(q, vm, qdd, w, p)) / (2 * eps)) < 1e-6


def test_floating_root_option_is_part_of_the_identity(tmp_path, monkeypatch):
    """The same file read with floating_root='euler' is another model: another hash (stale code of the
    other reading is refused) and another directory in the user cache; the command that regenerates it
    names the option. A YAML file refuses the option."""
    monkeypatch.setenv("SYMGAIT_CACHE_DIR", str(tmp_path))
    quat, euler = symgait.load_model(FILE), symgait.load_model(FILE, floating_root="euler")
    assert (quat.nq, quat.nv, euler.nq, euler.nv) == (24, 23, 23, 23)
    assert quat.import_options == {} and euler.import_options == {"floating_root": "euler"}
    assert quat.source_hash != euler.source_hash and default_dir(quat) != default_dir(euler)
    assert generate_command(euler, default_dir(euler)) == f"symgait generate {euler.path} --floating-root euler"
    for option, sizes in (([], (24, 23)), (["--floating-root", "euler"], (23, 23))):
        out = tmp_path / f"gen{len(option)}"
        assert cli_main(["generate", str(FILE), *option, "--out", str(out)]) == 0
        man = json.loads((out / "manifest.json").read_text())
        assert (man["nq"], man.get("nv", man["nq"])) == sizes and man["arguments"]["q"] == [sizes[0]]
    with pytest.raises(symgait.ModelError, match="floating_root='sideways'.*'quaternion'.*'euler'"):
        symgait.load_model(FILE, floating_root="sideways")
    with pytest.raises(symgait.ModelError, match="floating_root='euler' is for imported URDF and MJCF files"):
        symgait.load_model(TEST_MODELS / "floating_chain.yaml", floating_root="euler")
