"""Quaternion joints (a free-flyer root, spherical joints) against Pinocchio's JointModelFreeFlyer and
JointModelSpherical on tests/models/quaternion_tree.yaml (built joint by joint in Pinocchio from the
model's frames, matched by joint name): M, ID with contact wrenches, FD, the tangent-space
derivatives (computeRNEADerivatives, computeABADerivatives), points, contact Jacobians and the root
wrench at random states with unit quaternions, relative error <= 1e-8; every derivative kernel
against central differences taken on the manifold (q ⊕ ±ε e_k with ``integrate``); the
configuration-space helpers (integrate, difference, their Jacobians, neutral) against Pinocchio's;
the quaternion-norm check and the model file's checks."""
from __future__ import annotations

import numpy as np
import pytest

import symgait
from symgait import InputError, ModelError
from symgait.runtime.manifold import ConfigurationSpace, check_configuration, difference, integrate, neutral
from symgait_testing import (PinMatch, central, close, model_and_kernels, pinocchio_from_spec, random_state,
                              rel_err, tangent_central)

pin = pytest.importorskip("pinocchio", reason="Pinocchio (`pip install pin`) is the independent oracle")

MODEL = "quaternion_tree"
TOL = 1e-8
N_STATES = 20


@pytest.fixture(scope="module")
def setup(gen_root):
    m, k = model_and_kernels(MODEL, gen_root)
    p = m.parameters()
    return m, k, p, PinMatch(pin, pinocchio_from_spec(pin, m, p), m)


def sym(a):
    return np.triu(a) + np.triu(a, 1).T


def fext_of(pm, m, q_row, w_row):
    """Our world wrenches (about each contact body's origin, the origin of its joint frame) ->
    Pinocchio's forces in the joint frames."""
    data = pm.m.createData()
    pin.forwardKinematics(pm.m, data, pm.q_in(q_row))
    fext = pin.StdVec_Force()
    for _ in range(pm.m.njoints):
        fext.append(pin.Force.Zero())
    for c, ct in enumerate(m.spec.contacts):
        jid = pm.m.getJointId(m.spec.frames[ct.frame].name)
        R = data.oMi[jid].rotation
        fext[jid] = pin.Force(fext[jid].linear + R.T @ w_row[c, :3], fext[jid].angular + R.T @ w_row[c, 3:])
    return fext


def local_wrench_correction(J, w):
    """d w / d q (tangent) when the wrench is held in the joint frame (Pinocchio's fext) instead of
    the world (ours): d(R w_local)/d delta_k = omega_k x w, omega_k the k-th angular Jacobian column."""
    nc, n = J.shape[0], J.shape[2]
    out = np.zeros((nc * 6, n))
    for c in range(nc):
        for k in range(n):
            out[6 * c: 6 * c + 3, k] = np.cross(J[c, 3:, k], w[c, :3])
            out[6 * c + 3: 6 * c + 6, k] = np.cross(J[c, 3:, k], w[c, 3:])
    return out


def test_layout(setup):
    m, k, p, pm = setup
    assert (m.nq, m.nv) == (24, 20) and (k.nq, k.nv) == (24, 20)
    assert m.coordinates[:7] == ["root_tx", "root_ty", "root_tz", "root_qx", "root_qy", "root_qz", "root_qw"]
    assert m.velocities[:6] == ["root_vx", "root_vy", "root_vz", "root_wx", "root_wy", "root_wz"]
    assert m.quaternion_joints == [["root", "free_flyer", 0, 0], ["hip_r", "spherical", 7, 6],
                                   ["ankle_r", "spherical", 12, 10], ["neck", "spherical", 20, 17]]
    assert m.actuated == m.velocities[6:] and k.model.actuated_indices == list(range(6, 20))
    assert k.data.quaternion_joints == m.quaternion_joints and k.data.velocities == m.velocities
    assert np.array_equal(pm.q_in(neutral(m)), pin.neutral(pm.m))
    assert np.array_equal(k.neutral(), neutral(m))


def test_dynamics_against_pinocchio(setup):
    m, k, p, pm = setup
    q, qd, qdd, tau, w = random_state(m, N_STATES, seed=1)
    M = k.mass_matrix(q, p)
    ID = k.inverse_dynamics(q, qd, qdd, w, p)
    FD = k.forward_dynamics(q, qd, tau, w, p)
    res = k.root_residual(q, qd, qdd, w, p)
    root = pm.m.getJointId("root")
    for b in range(N_STATES):
        x, v, a, t = pm.q_in(q[b]), pm.vec_in(qd[b]), pm.vec_in(qdd[b]), pm.vec_in(tau[b])
        fext = fext_of(pm, m, q[b], w[b])
        assert rel_err(M[b], pm.mat(pin.crba(pm.m, pm.data, x), sym=True)) < TOL
        assert rel_err(ID[b], pin.rnea(pm.m, pm.data, x, v, a, fext)[pm.P]) < TOL
        # the free flyer's generalized force is the root body's wrench in its frame: the residual rotated
        f = pm.data.f[root].copy()
        pin.forwardKinematics(pm.m, pm.data, x)  # rnea leaves data.oMi as it was
        R = pm.data.oMi[root].rotation
        assert rel_err(res[b], np.concatenate([R @ f.linear, R @ f.angular])) < TOL
        assert rel_err(FD[b], pin.aba(pm.m, pm.data, x, v, t, fext)[pm.P]) < TOL


def test_derivatives_against_pinocchio(setup):
    """d/dq in the tangent space, as computeRNEADerivatives and computeABADerivatives return them."""
    m, k, p, pm = setup
    q, qd, qdd, tau, w = random_state(m, N_STATES, seed=2)
    di = k.inverse_dynamics_derivatives(q, qd, qdd, w, p)
    df = k.forward_dynamics_derivatives(q, qd, tau, w, p)
    J = k.contact_jacobians(q, p)
    n = m.nv
    for b in range(N_STATES):
        x, v, a, t = pm.q_in(q[b]), pm.vec_in(qd[b]), pm.vec_in(qdd[b]), pm.vec_in(tau[b])
        fext = fext_of(pm, m, q[b], w[b])
        corr = local_wrench_correction(J[b], w[b])
        dq, dv, dM = pin.computeRNEADerivatives(pm.m, pm.data, x, v, a, fext)
        assert rel_err(di["dtau_dq"][b] + di["dtau_dw"][b].reshape(n, -1) @ corr, pm.mat(dq)) < TOL
        assert rel_err(di["dtau_dqd"][b], pm.mat(dv)) < TOL
        assert rel_err(di["dtau_dqdd"][b], pm.mat(dM, sym=True)) < TOL
        pin.computeABADerivatives(pm.m, pm.data, x, v, t, fext)
        assert rel_err(df["qdd"][b], pm.data.ddq[pm.P]) < TOL
        assert rel_err(df["dqdd_dq"][b] + df["dqdd_dw"][b].reshape(n, -1) @ corr, pm.mat(pm.data.ddq_dq)) < TOL
        assert rel_err(df["dqdd_dqd"][b], pm.mat(pm.data.ddq_dv)) < TOL
        assert rel_err(df["dqdd_dtau"][b], pm.mat(pm.data.Minv, sym=True)) < TOL


def test_points_and_contact_jacobians_against_pinocchio(setup):
    m, k, p, pm = setup
    q = random_state(m, 10, seed=3)[0]
    X, Jp = k.points(q, p), k.point_jacobians(q, p)
    C, Jc = k.contact_points(q, p), k.contact_jacobians(q, p)
    for b in range(10):
        pin.computeJointJacobians(pm.m, pm.data, pm.q_in(q[b]))
        for i, pt in enumerate(m.spec.points):
            jid = pm.m.getJointId(m.spec.frames[pt.frame].name)
            oMi = pm.data.oMi[jid]
            r = np.array([float(c) for c in pt.position])
            assert rel_err(X[b, i], oMi.act(r)) < TOL
            J6 = pin.getJointJacobian(pm.m, pm.data, jid, pin.LOCAL_WORLD_ALIGNED)
            lin = J6[:3] - np.cross(oMi.rotation @ r, J6[3:].T).T  # the point's velocity: v_o + omega x (x - o)
            assert rel_err(Jp[b, i], lin[:, pm.P]) < TOL
        for c, ct in enumerate(m.spec.contacts):
            jid = pm.m.getJointId(m.spec.frames[ct.frame].name)
            assert rel_err(C[b, c], pm.data.oMi[jid].translation) < TOL
            J6 = pin.getJointJacobian(pm.m, pm.data, jid, pin.LOCAL_WORLD_ALIGNED)
            assert rel_err(Jc[b, c], J6[:, pm.P]) < TOL


def test_derivatives_against_central_differences_on_the_manifold(setup):
    m, k, p, _ = setup
    q, qd, qdd, tau, w = random_state(m, 3, seed=4)
    B, n = qd.shape
    ID = lambda **kw: k.inverse_dynamics(**{**dict(q=q, qd=qd, qdd=qdd, w=w, p=p), **kw})  # noqa: E731
    FD = lambda **kw: k.forward_dynamics(**{**dict(q=q, qd=qd, tau=tau, w=w, p=p), **kw})  # noqa: E731
    di = k.inverse_dynamics_derivatives(q, qd, qdd, w, p)
    df = k.forward_dynamics_derivatives(q, qd, tau, w, p)
    close(di["dtau_dq"], tangent_central(k, lambda x: ID(q=x), q, n))
    close(di["dtau_dqd"], central(lambda x: ID(qd=x), qd))
    close(di["dtau_dqdd"], central(lambda x: ID(qdd=x), qdd))
    close(di["dtau_dw"].reshape(B, n, -1), central(lambda x: ID(w=x.reshape(w.shape)), w.reshape(B, -1)))
    close(di["dtau_dp"], central(lambda x: ID(p=x), np.repeat(p[None], B, 0)))
    close(df["dqdd_dq"], tangent_central(k, lambda x: FD(q=x), q, n))
    close(df["dqdd_dqd"], central(lambda x: FD(qd=x), qd))
    close(df["dqdd_dtau"], central(lambda x: FD(tau=x), tau))
    close(df["dqdd_dp"], central(lambda x: FD(p=x), np.repeat(p[None], B, 0)))
    close(k.point_jacobians(q, p), tangent_central(k, lambda x: k.points(x, p), q, n))
    lin = tangent_central(k, lambda x: k.contact_points(x, p), q, n)
    close(k.contact_jacobians(q, p)[:, :, :3], lin)
    res = lambda x: k.root_residual(x, qd, qdd, w, p)  # noqa: E731
    # reverse-mode products (tangent-space q) are the transposed Jacobians
    rng = np.random.default_rng(5)
    mu, g, nu = rng.normal(size=(B, n)), rng.normal(size=(B, n)), rng.normal(size=(B, 6))
    v = k.inverse_dynamics_vjp(q, qd, qdd, w, p, mu)
    close(v["grad_q"], np.einsum("bi,bij->bj", mu, di["dtau_dq"]), 1e-10)
    close(v["grad_qd"], np.einsum("bi,bij->bj", mu, di["dtau_dqd"]), 1e-10)
    close(v["grad_qdd"], np.einsum("bi,bij->bj", mu, di["dtau_dqdd"]), 1e-10)
    f = k.forward_dynamics_vjp(q, qd, tau, w, p, g)
    close(f["grad_q"], np.einsum("bi,bij->bj", g, df["dqdd_dq"]), 1e-10)
    close(f["grad_tau"], np.einsum("bi,bij->bj", g, df["dqdd_dtau"]), 1e-10)
    r = k.root_residual_vjp(q, qd, qdd, w, p, nu)
    close(r["grad_q"], np.einsum("bi,bij->bj", nu, tangent_central(k, res, q, n)))


def test_configuration_space_against_pinocchio(setup):
    """integrate, difference and dIntegrate (ARG0, ARG1) equal Pinocchio's, from tiny steps (series)
    to rotations beyond pi (the free flyer's quaternion kept in its hemisphere, as Pinocchio does)."""
    m, k, p, pm = setup
    rng = np.random.default_rng(6)
    for scale in (1e-9, 1e-5, 1e-2, 1.0, 3.0):
        q = random_state(m, 5, seed=int(scale * 1e9) % 1000)[0]
        v = rng.normal(size=(5, m.nv)) * scale
        dt = 0.7
        q1 = integrate(m, q, v, dt)
        d = difference(m, q, q1)
        Jq, Jv = k.space.integrate_jacobians(q, v, dt)
        for b in range(5):
            x = pm.q_in(q[b])
            ref = pin.integrate(pm.m, x, pm.vec_in(v[b]) * dt)
            assert rel_err(pm.q_in(q1[b]), ref) < 1e-12
            if scale <= 1:  # rotations below pi: difference undoes integrate
                assert rel_err(d[b], v[b] * dt) < 1e-9
            assert rel_err(d[b], pin.difference(pm.m, x, ref)[pm.P]) < 1e-9
            assert rel_err(Jq[b], pm.mat(pin.dIntegrate(pm.m, x, pm.vec_in(v[b]) * dt, pin.ARG0))) < 1e-12
            # Pinocchio's SE(3) coupling block loses digits for small twists (1e-10 at |v| ~ 1e-4); ours
            # keeps them (its series), so the two agree to that
            assert rel_err(Jv[b], pm.mat(pin.dIntegrate(pm.m, x, pm.vec_in(v[b]) * dt, pin.ARG1)) * dt) < 1e-9
    assert np.abs(integrate(m, q, np.zeros_like(v)) - q).max() < 1e-15


def test_integrate_jacobians_against_central_differences(setup):
    m, k, p, _ = setup
    space = k.space
    rng = np.random.default_rng(7)
    q = random_state(m, 3, seed=8)[0]
    for scale in (1e-4, 0.5, 2.5):
        v = rng.normal(size=(3, m.nv)) * scale
        q1 = space.integrate(q, v)
        Jq, Jv = space.integrate_jacobians(q, v)
        eps = 1e-6
        for j in range(m.nv):
            e = np.zeros((3, m.nv))
            e[:, j] = eps
            fq = (space.difference(q1, space.integrate(space.integrate(q, e), v))
                  - space.difference(q1, space.integrate(space.integrate(q, -e), v))) / (2 * eps)
            fv = (space.difference(q1, space.integrate(q, v + e)) - space.difference(q1, space.integrate(q, v - e))) / (2 * eps)
            assert np.abs(fq - Jq[:, :, j]).max() < 1e-8
            assert np.abs(fv - Jv[:, :, j]).max() < 1e-8


def test_quaternion_norm_is_checked(setup):
    m, k, p, _ = setup
    q, qd, qdd, _, w = random_state(m, 4, seed=9)
    q[2, 12:16] *= 1 + 2e-6  # ankle_r's quaternion
    with pytest.raises(InputError, match=r"q: the quaternion of joint 'ankle_r' .*q\[\.\.\., 12:16\].* at sample 2"
                                         r".*normalize it"):
        k.inverse_dynamics(q, qd, qdd, w, p)
    with pytest.raises(InputError, match="joint 'ankle_r'"):
        integrate(m, q, qd)
    with pytest.raises(InputError, match="joint 'ankle_r'"):
        check_configuration(m, q)
    q[2, 12:16] /= np.linalg.norm(q[2, 12:16])
    q[1, 3:7] *= 1 + 9e-7  # within 1e-6: accepted
    k.inverse_dynamics(q, qd, qdd, w, p)
    with pytest.raises(InputError, match=r"q has shape \(4, 20\); expected \('B', 24\)"):
        k.inverse_dynamics(q[:, :20], qd, qdd, w, p)


QUAT_BODY = """name: m
bodies:
  - name: a
    parent: ground
    joint: {joint}
    mass: 1.0
    inertia: [0.1, 0.1, 0.1]
  - name: b
    parent: a
    joint: {child}
    mass: 1.0
    inertia: [0.1, 0.1, 0.1]
"""


@pytest.mark.parametrize("joint, child, words", [
    ("{type: free_flyer, coordinates: [root]}", "{type: spherical, coordinates: [ball], axes: [x]}",
     ["'spherical' joint turns about every axis", "no 'axes'"]),
    ("{type: free_flyer, coordinates: [root]}", "{type: spherical, coordinates: [bx, by, bz]}",
     ["takes one name", "<name>_qx", "coordinates: [shoulder_r]"]),
    ("{type: hinge, coordinates: [h]}", "{type: free_flyer, coordinates: [f]}",
     ["joint type 'free_flyer' is allowed only for the root body"]),
    ("{type: free_flyer, coordinates: [root]}", "{type: hinge, coordinates: [root_qw]}",
     ["coordinate 'root_qw' is used twice"]),
    ("{type: free_flyer, coordinates: [root]}", "{type: spherical, coordinates: [root]}",
     ["coordinate 'root' is used twice"]),
    ("{type: free_flyer, coordinates: [root]}", "{type: hinge, coordinates: [root]}",
     ["coordinate 'root' is used twice"]),
])
def test_bad_quaternion_joints_name_the_fix(tmp_path, joint, child, words):
    f = tmp_path / "m.yaml"
    f.write_text(QUAT_BODY.format(joint=joint, child=child))
    with pytest.raises(ModelError) as e:
        symgait.load_model(f)
    for word in words:
        assert word in str(e.value), str(e.value)


def test_one_coordinate_steps_refuse_quaternion_models(setup):
    """Steps that treat every coordinate as one angle or length (IK, mirroring, the URDF export of a
    spherical joint) refuse a model with quaternion joints instead of computing a wrong number."""
    m, k, p, _ = setup
    with pytest.raises(ModelError, match="has quaternion joints .*one-coordinate joints only"):
        m.spec.coordinate_frames()
    with pytest.raises(ModelError, match="URDF has no spherical joint"):
        m.to_urdf()


def test_space_of_one_coordinate_models_is_plain_addition(kern):
    m, k = kern("planar")
    rng = np.random.default_rng(0)
    q, v = rng.normal(size=(3, m.nq)), rng.normal(size=(3, m.nq))
    assert np.array_equal(k.integrate(q, v, 0.1), q + 0.1 * v)
    assert np.array_equal(k.difference(q, q + v), (q + v) - q)
    Jq, Jv = ConfigurationSpace.of(m).integrate_jacobians(q, v, 0.1)
    assert np.array_equal(Jq, np.broadcast_to(np.eye(m.nq), Jq.shape)) and np.allclose(Jv, 0.1 * np.eye(m.nq))
