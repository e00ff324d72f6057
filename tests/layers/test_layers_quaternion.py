"""The layers on a model with quaternion joints (tests/models/quaternion_tree.yaml: a free-flyer root,
spherical joints): ForwardDynamics on the configuration space (q advanced by ``integrate``,
sensitivities and adjoints in the tangent space) and InverseDynamics pass torch's gradcheck, the
initial q through a tangent parametrization q0 = q ⊕ δ (``symgait.layers.integrate``); both gradient
modes agree; RK4 (Runge-Kutta-Munthe-Kaas) converges at order 4 and semi-implicit Euler at order 1
on the manifold; quaternions stay unit."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from symgait import InputError
from symgait.layers import ForwardDynamics, InverseDynamics, integrate
from symgait_testing import model_and_kernels

MODEL = "quaternion_tree"


@pytest.fixture(scope="module")
def mk(gen_root):
    m, k = model_and_kernels(MODEL, gen_root)
    return m, k


def _inputs(m, k, B, T, seed):
    rng = np.random.default_rng(seed)
    t = lambda a: torch.from_numpy(np.asarray(a, dtype=np.float64))  # noqa: E731
    return (t(k.space.random(B, rng)), t(rng.normal(size=(B, m.nv)) * 0.5),
            t(rng.normal(size=(B, T, m.n_actuated)) * 2), t(rng.normal(size=(B, T, m.n_contacts, 6)) * 5),
            t(m.parameters()))


@pytest.mark.parametrize("integrator", ["semi_implicit_euler", "rk4"])
@pytest.mark.parametrize("gradient", ["sensitivity", "adjoint"])
def test_forward_layer_gradcheck(mk, integrator, gradient):
    m, k = mk
    qb, v0, tau, w, p = _inputs(m, k, 1, 2, seed=1)
    fwd = ForwardDynamics(k, dt=0.01, substeps=1, integrator=integrator, gradient=gradient)
    delta = torch.zeros(1, m.nv, dtype=torch.float64, requires_grad=True)
    args = [delta, v0.requires_grad_(), tau.requires_grad_()]
    if integrator == "semi_implicit_euler":  # w and p too (RK4 runs the same input code)
        args += [w.requires_grad_(), p.requires_grad_()]

    def f(d, v, t, *rest):
        ww, pp = rest if rest else (w, p)
        return fwd(torch.cat([integrate(k, qb, d), v], 1), t, ww, pp)

    assert torch.autograd.gradcheck(f, tuple(args), eps=1e-6, atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize("integrator", ["semi_implicit_euler", "rk4"])
def test_sensitivity_and_adjoint_agree(mk, integrator):
    m, k = mk
    qb, v0, tau, w, p = _inputs(m, k, 2, 3, seed=2)
    grads = []
    for gradient in ("sensitivity", "adjoint"):
        fwd = ForwardDynamics(k, dt=0.01, substeps=2, integrator=integrator, gradient=gradient)
        leaves = [x.clone().requires_grad_() for x in (qb, v0, tau, w, p)]
        xs = fwd(torch.cat(leaves[:2], 1), *leaves[2:])
        assert xs.shape == (2, 4, m.nq + m.nv)
        G = torch.from_numpy(np.random.default_rng(3).normal(size=tuple(xs.shape)))
        (xs * G).sum().backward()
        grads.append([x.grad for x in leaves])
        # the states stay on the manifold: unit quaternions
        for _, kind, qi, _ in m.quaternion_joints:
            a = qi + (3 if kind == "free_flyer" else 0)
            assert float((xs.detach()[..., a: a + 4].norm(dim=-1) - 1).abs().max()) < 1e-14
    for a, b in zip(*grads):
        assert float((a - b).abs().max() / max(1.0, float(b.abs().max()))) < 1e-12


def test_convergence_order_on_the_manifold(mk):
    """The end state of one frame against a reference of 1024 substeps (difference on the manifold):
    halving the step divides RK4's error by ~16 and semi-implicit Euler's by ~2."""
    m, k = mk
    qb, v0, tau, w, p = _inputs(m, k, 2, 1, seed=4)
    x0 = torch.cat([qb, v0], 1)
    w = torch.zeros_like(w)

    def end(integrator, sub):
        return ForwardDynamics(k, dt=0.05, substeps=sub, integrator=integrator)(x0, tau, w, p)[:, -1].numpy()

    for integrator, subs, order in (("rk4", (32, 64, 128), 4), ("semi_implicit_euler", (128, 256, 512), 1)):
        ref = end(integrator, 1024 if integrator == "rk4" else 8192)
        errs = []
        for sub in subs:
            x = end(integrator, sub)
            errs.append(max(np.abs(k.difference(ref[:, :m.nq], x[:, :m.nq])).max(),
                            np.abs(x[:, m.nq:] - ref[:, m.nq:]).max()))
        ratios = [errs[i] / errs[i + 1] for i in range(len(errs) - 1)]
        assert all(0.75 * 2 ** order < r < 1.3 * 2 ** order for r in ratios), (integrator, errs, ratios)


def test_inverse_layer_gradcheck(mk):
    m, k = mk
    qb, v0, _, _, p = _inputs(m, k, 1, 1, seed=5)
    rng = np.random.default_rng(6)
    inv = InverseDynamics(k)
    T = 2
    qd = torch.from_numpy(rng.normal(size=(1, T, m.nv))).requires_grad_()
    qdd = torch.from_numpy(rng.normal(size=(1, T, m.nv))).requires_grad_()
    w = torch.from_numpy(rng.normal(size=(1, T, m.n_contacts, 6)) * 5).requires_grad_()
    delta = torch.from_numpy(rng.normal(size=(T, m.nv)) * 0.1).requires_grad_()

    def f(d, a, b, ww):
        q = integrate(k, qb.expand(T, m.nq), d).reshape(1, T, m.nq)
        return inv(q, a, b, ww, p), inv.joint_torques(q, a, b, ww, p)

    assert torch.autograd.gradcheck(f, (delta, qd, qdd, w), eps=1e-6, atol=1e-6, rtol=1e-5)


def test_integrate_layer_against_numpy_and_gradcheck(mk):
    m, k = mk
    qb, v0, _, _, _ = _inputs(m, k, 3, 1, seed=7)
    out = integrate(k, qb, v0, 0.3)
    assert np.array_equal(out.numpy(), k.integrate(qb.numpy(), v0.numpy(), 0.3))
    d = torch.zeros(3, m.nv, dtype=torch.float64, requires_grad=True)
    v = v0.clone().requires_grad_()
    # q through a tangent parametrization: (qb ⊕ d) ⊕ v
    assert torch.autograd.gradcheck(lambda d, v: integrate(k, integrate(k, qb, d), v, 0.3), (d, v))


def test_quaternion_layer_inputs_are_checked(mk):
    m, k = mk
    qb, v0, tau, w, p = _inputs(m, k, 1, 1, seed=8)
    fwd = ForwardDynamics(k, dt=0.01)
    with pytest.raises(InputError, match=r"x0 has shape \(1, 40\); expected \(B, 44\): initial state \[q \(nq=24"):
        fwd(torch.cat([qb[:, :20], v0], 1), tau, w, p)
    bad = qb.clone()
    bad[0, 3:7] *= 1.01
    with pytest.raises(InputError, match="x0's q: the quaternion of joint 'root'"):
        fwd(torch.cat([bad, v0], 1), tau, w, p)
    with pytest.raises(InputError, match="qd has shape .*expected \\(1, 1, 20\\)"):
        InverseDynamics(k)(qb[:, None], v0[:, None, :10], v0[:, None], None, p)


def test_verify_checks_a_quaternion_model_on_the_manifold(mk):
    """``symgait verify``'s checks (every kernel derivative and both layers against fourth-order central
    differences, q along the tangent directions) pass."""
    from symgait.layers.verify import verify
    m, k = mk
    report = verify(k, samples=2, log=None)
    assert report.ok, report.table()
    assert any(r.quantity == "ForwardDynamics rk4 adjoint d/dx0" for r in report.rows)
