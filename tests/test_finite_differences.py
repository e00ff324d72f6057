"""Every generated derivative against central finite differences of the kernels' own values, and
the reverse-mode products against the Jacobian-transpose products."""
from __future__ import annotations

import numpy as np
import pytest

from symgait_testing import central, close, model_and_kernels, random_state

MODELS = ["double_pendulum3d", "floating_chain", "custom_joints", "planar"]


@pytest.fixture(scope="module", params=MODELS)
def mk(request, gen_root):
    m, k = model_and_kernels(request.param, gen_root)
    return m, k, m.parameters()


def test_inverse_dynamics_jacobians(mk):
    m, k, p = mk
    q, qd, qdd, _, w = random_state(m, 4, seed=11)
    B, n = q.shape
    d = k.inverse_dynamics_derivatives(q, qd, qdd, w, p)
    ID = lambda **kw: k.inverse_dynamics(**{**dict(q=q, qd=qd, qdd=qdd, w=w, p=p), **kw})  # noqa: E731
    close(d["tau"], ID())
    close(d["dtau_dq"], central(lambda x: ID(q=x), q))
    close(d["dtau_dqd"], central(lambda x: ID(qd=x), qd))
    close(d["dtau_dqdd"], central(lambda x: ID(qdd=x), qdd))
    close(d["dtau_dw"].reshape(B, n, -1), central(lambda x: ID(w=x.reshape(w.shape)), w.reshape(B, -1)))
    P = np.repeat(p[None], B, axis=0)
    close(d["dtau_dp"], central(lambda x: ID(p=x), P))


def test_forward_dynamics_jacobians(mk):
    m, k, p = mk
    q, qd, _, tau, w = random_state(m, 4, seed=12)
    B, n = q.shape
    d = k.forward_dynamics_derivatives(q, qd, tau, w, p)
    FD = lambda **kw: k.forward_dynamics(**{**dict(q=q, qd=qd, tau=tau, w=w, p=p), **kw})  # noqa: E731
    close(d["qdd"], FD(), 1e-12)
    close(d["dqdd_dq"], central(lambda x: FD(q=x), q))
    close(d["dqdd_dqd"], central(lambda x: FD(qd=x), qd))
    close(d["dqdd_dtau"], central(lambda x: FD(tau=x), tau))
    close(d["dqdd_dw"].reshape(B, n, -1), central(lambda x: FD(w=x.reshape(w.shape)), w.reshape(B, -1)))
    P = np.repeat(p[None], B, axis=0)
    close(d["dqdd_dp"], central(lambda x: FD(p=x), P))


def test_reverse_mode_equals_jacobian_transpose(mk):
    m, k, p = mk
    q, qd, qdd, tau, w = random_state(m, 3, seed=13)
    B, n = q.shape
    rng = np.random.default_rng(0)
    mu = rng.normal(size=(B, n))
    d = k.inverse_dynamics_derivatives(q, qd, qdd, w, p)
    v = k.inverse_dynamics_vjp(q, qd, qdd, w, p, mu)
    for key in ("q", "qd", "qdd"):
        close(v[f"grad_{key}"], np.einsum("bi,bij->bj", mu, d[f"dtau_d{key}"]), 1e-12)
    close(v["grad_w"].reshape(B, -1), np.einsum("bi,bij->bj", mu, d["dtau_dw"].reshape(B, n, -1)), 1e-12)
    close(v["grad_p"], np.einsum("bi,bij->bj", mu, d["dtau_dp"]), 1e-12)
    g = rng.normal(size=(B, n))
    fd = k.forward_dynamics_derivatives(q, qd, tau, w, p)
    fv = k.forward_dynamics_vjp(q, qd, tau, w, p, g)
    for key in ("q", "qd", "tau", "p"):
        close(fv[f"grad_{key}"], np.einsum("bi,bij->bj", g, fd[f"dqdd_d{key}"]), 1e-10)
    close(fv["grad_w"].reshape(B, -1), np.einsum("bi,bij->bj", g, fd["dqdd_dw"].reshape(B, n, -1)), 1e-10)


def test_root_residual_and_its_vjp(mk):
    m, k, p = mk
    q, qd, qdd, _, w = random_state(m, 3, seed=14)
    B = q.shape[0]
    nu = np.random.default_rng(1).normal(size=(B, 6))
    R = lambda **kw: k.root_residual(**{**dict(q=q, qd=qd, qdd=qdd, w=w, p=p), **kw})  # noqa: E731
    v = k.root_residual_vjp(q, qd, qdd, w, p, nu)
    for key, x in (("q", q), ("qd", qd), ("qdd", qdd)):
        close(v[f"grad_{key}"], np.einsum("bi,bij->bj", nu, central(lambda y: R(**{key: y}), x)))
    close(v["grad_w"].reshape(B, -1), np.einsum("bi,bij->bj", nu, central(lambda y: R(w=y.reshape(w.shape)),
                                                                      w.reshape(B, -1))))


def test_root_residual_is_the_net_external_wrench(mk):
    """Newton-Euler for the whole body: the residual force equals the rate of change of linear
    momentum minus gravity and contact forces; checked through its relation to the root's ID rows.
    For a root with translations along the world axes, the first rows of ID are the residual force."""
    m, k, p = mk
    if m.spec.bodies[0].joint_type not in ("floating", "planar"):
        pytest.skip("fixed-base model: no root translations")
    q, qd, qdd, _, w = random_state(m, 5, seed=15)
    res = k.root_residual(q, qd, qdd, w, p)
    ID = k.inverse_dynamics(q, qd, qdd, w, p)
    ntr = 3 if m.spec.bodies[0].joint_type == "floating" else 2
    close(res[:, :ntr], ID[:, :ntr], 1e-12)


def test_point_and_contact_jacobians(mk):
    m, k, p = mk
    q = random_state(m, 3, seed=16)[0]
    if m.points:
        close(k.point_jacobians(q, p), central(lambda x: k.points(x, p), q))
    J = k.contact_jacobians(q, p)
    if m.n_contacts:
        close(J[:, :, :3], central(lambda x: k.contact_points(x, p), q))
        # d ID / d w = -J^T: the contact Jacobian is the one the dynamics uses
        d = k.inverse_dynamics_derivatives(q, q * 0, q * 0, np.zeros((3, m.n_contacts, 6)), p)
        close(d["dtau_dw"], -np.transpose(J, (0, 3, 1, 2)), 1e-12)
