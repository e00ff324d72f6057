"""Kernels against Pinocchio on the exported URDF: M, ID, FD and their derivatives, with contact
wrenches, 50 random states per model, relative error <= 1e-9 (float64)."""
from __future__ import annotations

import numpy as np
import pytest

from symgait_testing import BUILTIN, model_and_kernels, random_state, rel_err

pin = pytest.importorskip("pinocchio", reason="Pinocchio (`pip install pin`) is the independent oracle")

MODELS = ["double_pendulum3d", "floating_chain", "custom_joints"] + BUILTIN
N_STATES = 50
TOL = 1e-9


def pin_model(model, p):
    pm = pin.buildModelFromXML(model.to_urdf(p))
    pm.gravity.linear = np.array(model.gravity)
    assert pm.nq == model.nq and pm.nv == model.nq, "URDF must give one Pinocchio joint per coordinate"
    assert sorted(pm.names[i] for i in range(1, pm.njoints)) == sorted(model.coordinates)
    return pm


class Pin:
    """Pinocchio on the exported URDF, with vectors and matrices permuted into our coordinate order
    (Pinocchio may visit the URDF tree's branches in another order)."""

    def __init__(self, model, p):
        self.m = pin_model(model, p)
        self.data = self.m.createData()
        self.P = np.array([self.m.joints[self.m.getJointId(c)].idx_q for c in model.coordinates])

    def vec_in(self, x):
        out = np.empty_like(x)
        out[self.P] = x
        return out

    def vec_out(self, x):
        return np.asarray(x)[self.P]

    def mat_out(self, a):
        return np.asarray(a)[np.ix_(self.P, self.P)]

    def rows_out(self, a):  # Jacobians: (6, nv) -> columns in our order
        return np.asarray(a)[:, self.P]


def dw_dq_local_fixed(J, w):
    """d w / d q when the wrench is held fixed in the body frame (Pinocchio's fext convention) rather
    than in the world (ours): w = R(q) w_local, dR/dq_k = [omega_k]x R with omega_k the k-th column
    of the body's world angular Jacobian. Returns (n_contacts*6, nq)."""
    nc, n = J.shape[0], J.shape[2]
    out = np.zeros((nc * 6, n))
    for c in range(nc):
        for kk in range(n):
            om = J[c, 3:, kk]
            out[6 * c: 6 * c + 3, kk] = np.cross(om, w[c, :3])
            out[6 * c + 3: 6 * c + 6, kk] = np.cross(om, w[c, 3:])
    return out


def pin_fext(P, model, q_row, w_row):
    """World wrenches about the contact body's origin -> Pinocchio's local joint-frame forces."""
    pm = P.m
    data = pm.createData()
    pin.forwardKinematics(pm, data, P.vec_in(q_row))
    fext = pin.StdVec_Force()
    for _ in range(pm.njoints):
        fext.append(pin.Force.Zero())
    for c, body in enumerate(model.spec.contacts):
        b = next(bb for bb in model.spec.bodies if bb.name == body.body)
        jid = pm.getJointId(b.coordinates[-1])
        R = data.oMi[jid].rotation
        f = fext[jid]
        fext[jid] = pin.Force(f.linear + R.T @ w_row[c, :3], f.angular + R.T @ w_row[c, 3:])
    return fext


@pytest.fixture(scope="module", params=MODELS)
def setup(request, gen_root):
    m, k = model_and_kernels(request.param, gen_root)
    p = m.parameters()
    P = Pin(m, p)
    return m, k, p, P


def test_mass_matrix_and_inverse_dynamics(setup):
    m, k, p, P = setup
    pm, data = P.m, P.data
    q, qd, qdd, tau, w = random_state(m, N_STATES, seed=1)
    M = k.mass_matrix(q, p)
    ID = k.inverse_dynamics(q, qd, qdd, w, p)
    for b in range(N_STATES):
        Mp = pin.crba(pm, data, P.vec_in(q[b])).copy()
        Mp = P.mat_out(np.triu(Mp) + np.triu(Mp, 1).T)
        assert rel_err(M[b], Mp) < TOL
        fext = pin_fext(P, m, q[b], w[b])
        assert rel_err(ID[b], P.vec_out(pin.rnea(pm, data, P.vec_in(q[b]), P.vec_in(qd[b]), P.vec_in(qdd[b]), fext))) < TOL


def test_forward_dynamics(setup):
    m, k, p, P = setup
    pm, data = P.m, P.data
    q, qd, _, tau, w = random_state(m, N_STATES, seed=2)
    FD = k.forward_dynamics(q, qd, tau, w, p)
    for b in range(N_STATES):
        fext = pin_fext(P, m, q[b], w[b])
        assert rel_err(FD[b], P.vec_out(pin.aba(pm, data, P.vec_in(q[b]), P.vec_in(qd[b]), P.vec_in(tau[b]), fext))) < TOL


def test_inverse_dynamics_derivatives(setup):
    m, k, p, P = setup
    pm, data = P.m, P.data
    q, qd, qdd, _, w = random_state(m, N_STATES, seed=3)
    d = k.inverse_dynamics_derivatives(q, qd, qdd, w, p)
    J = k.contact_jacobians(q, p)
    n = m.nq
    for b in range(N_STATES):
        fext = pin_fext(P, m, q[b], w[b])
        dq, dv, dM = pin.computeRNEADerivatives(pm, data, P.vec_in(q[b]), P.vec_in(qd[b]), P.vec_in(qdd[b]), fext)
        dq, dv, dM = P.mat_out(dq), P.mat_out(dv), P.mat_out(np.triu(dM) + np.triu(dM, 1).T)
        # Pinocchio holds fext fixed in the joint frames; ours are fixed in the world
        ours_local = d["dtau_dq"][b] + d["dtau_dw"][b].reshape(n, -1) @ dw_dq_local_fixed(J[b], w[b])
        assert rel_err(ours_local, dq) < TOL
        assert rel_err(d["dtau_dqd"][b], dv) < TOL
        assert rel_err(d["dtau_dqdd"][b], dM) < TOL


def test_forward_dynamics_derivatives(setup):
    m, k, p, P = setup
    pm, data = P.m, P.data
    q, qd, _, tau, w = random_state(m, N_STATES, seed=4)
    d = k.forward_dynamics_derivatives(q, qd, tau, w, p)
    J = k.contact_jacobians(q, p)
    n = m.nq
    for b in range(N_STATES):
        fext = pin_fext(P, m, q[b], w[b])
        pin.computeABADerivatives(pm, data, P.vec_in(q[b]), P.vec_in(qd[b]), P.vec_in(tau[b]), fext)
        Minv = P.mat_out(np.triu(data.Minv) + np.triu(data.Minv, 1).T)
        assert rel_err(d["qdd"][b], P.vec_out(data.ddq)) < TOL
        ours_local = d["dqdd_dq"][b] + d["dqdd_dw"][b].reshape(n, -1) @ dw_dq_local_fixed(J[b], w[b])
        assert rel_err(ours_local, P.mat_out(data.ddq_dq)) < TOL
        assert rel_err(d["dqdd_dqd"][b], P.mat_out(data.ddq_dv)) < TOL
        assert rel_err(d["dqdd_dtau"][b], Minv) < TOL


def test_points_against_pinocchio_frames(setup):
    m, k, p, P = setup
    pm, data = P.m, P.data
    q = random_state(m, 10, seed=5)[0]
    cp = k.contact_points(q, p)
    J = k.contact_jacobians(q, p)
    for b in range(10):
        pin.computeJointJacobians(pm, data, P.vec_in(q[b]))
        pin.updateFramePlacements(pm, data)
        for c, ct in enumerate(m.spec.contacts):
            body = next(bb for bb in m.spec.bodies if bb.name == ct.body)
            jid = pm.getJointId(body.coordinates[-1])
            assert rel_err(cp[b, c], data.oMi[jid].translation) < TOL
            Jp = pin.getJointJacobian(pm, data, jid, pin.LOCAL_WORLD_ALIGNED)
            assert rel_err(J[b, c], P.rows_out(Jp)) < TOL


def test_root_residual_is_the_root_joint_wrench(setup):
    """The root residual is the wrench that the root joint transmits to the root body: Pinocchio's
    rnea force of the joint carrying the root body (its local frame, origin at the body's origin),
    rotated into the world."""
    m, k, p, P = setup
    pm, data = P.m, P.data
    q, qd, qdd, _, w = random_state(m, N_STATES, seed=6)
    res = k.root_residual(q, qd, qdd, w, p)
    jid = pm.getJointId(m.spec.bodies[0].coordinates[-1])
    for b in range(N_STATES):
        pin.rnea(pm, data, P.vec_in(q[b]), P.vec_in(qd[b]), P.vec_in(qdd[b]), pin_fext(P, m, q[b], w[b]))
        pin.forwardKinematics(pm, data, P.vec_in(q[b]))  # rnea leaves data.oMi as it was
        R = data.oMi[jid].rotation
        f = data.f[jid]
        assert rel_err(res[b], np.concatenate([R @ f.linear, R @ f.angular])) < TOL
