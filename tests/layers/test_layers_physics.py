"""Physics of the layers: momentum and energy conservation within the integrator's order, and a
motion made by the forward layer has ~0 residual in the inverse layer with the same wrenches."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from layer_fixtures import (_one_numba_thread, layer_gen_root, layer_model, momentum,  # noqa: F401
                            pendulum_energy, random_inputs)
from symgait.layers import ForwardDynamics, InverseDynamics, finite_difference_velocities


def _drift(values):
    """max over samples and frames of |v_k - v_0|."""
    return float(np.abs(values - values[:, :1]).max())


@pytest.mark.parametrize("name, spin", [("free_body", 3.0), ("floating_pair", 1.0)])
def test_momentum_conserved(layer_model, name, spin):
    """No gravity, no contact wrenches: the world linear momentum and the angular momentum about the
    world origin are conserved, whether the body is torque-free (free_body: nothing actuated) or its
    arm is driven by internal joint torques (floating_pair). RK4's drift is fourth order: it shrinks
    16x each time the step halves (measured 15.9-16.03); semi-implicit Euler's is first order.
    ``spin`` scales the root's angular velocities so that RK4's drift stays far above rounding."""
    m, k = layer_model(name)
    x0, tau, w, p = random_inputs(m, B=2, T=20, seed=20, scale=0.5)
    x0[:, m.nq + 3:] *= spin
    w = torch.zeros_like(w)
    pn = p.numpy()
    drifts = {}
    for integ, steps in (("rk4", (1, 2, 4)), ("semi_implicit_euler", (1, 2))):
        for S in steps:
            x = ForwardDynamics(k, 0.01, substeps=S, integrator=integ)(x0, tau, w, p)
            h = momentum(m, k, x.numpy(), pn)
            scale = np.abs(h).max()
            assert scale > 1.0  # a non-trivial motion
            drifts[integ, S] = _drift(h) / scale
    assert 1e-12 < drifts["rk4", 4] < drifts["rk4", 1] < 1e-7, drifts  # well above rounding, and small
    for S in (1, 2):
        assert 15.0 < drifts["rk4", S] / drifts["rk4", 2 * S] < 17.0, drifts
    se_ratio = drifts["semi_implicit_euler", 1] / drifts["semi_implicit_euler", 2]
    assert 1.7 < se_ratio < 2.3, drifts
    assert drifts["semi_implicit_euler", 2] < 1e-2


def test_energy_conserved_to_the_integrators_order(layer_model):
    """Gravity only, no torques, no contacts (3-DOF pendulum): the energy error over 0.5 s shrinks
    ~2^4 per halving of the step for RK4 and ~2 for the (symplectic) semi-implicit Euler."""
    m, k = layer_model("pendulum2")
    x0, tau, w, p = random_inputs(m, B=2, T=25, seed=21)
    tau = torch.zeros_like(tau)
    pn = p.numpy()
    errs = {}
    for integ in ("rk4", "semi_implicit_euler"):
        for S in (1, 2, 4):
            x = ForwardDynamics(k, 0.02, substeps=S, integrator=integ)(x0, tau, w, p)
            E = pendulum_energy(m, k, x.numpy(), pn)
            errs[integ, S] = _drift(E)
    order = {integ: np.log2([errs[integ, 1] / errs[integ, 2], errs[integ, 2] / errs[integ, 4]])
             for integ in ("rk4", "semi_implicit_euler")}
    assert np.all((order["rk4"] > 3.5) & (order["rk4"] < 5.0)), (errs, order)
    assert np.all((order["semi_implicit_euler"] > 0.8) & (order["semi_implicit_euler"] < 1.3)), (errs, order)
    assert errs["rk4", 4] < 1e-6


@pytest.mark.parametrize("name", ["floating_pair", "planar"])
def test_forward_motion_has_zero_inverse_residual(layer_model, name):
    """Semi-implicit Euler motion -> finite_difference_velocities (the consistent differences) ->
    InverseDynamics with the same wrenches: velocities equal the layer's, the root residual is ~0
    and the joint torques are the applied ones (interior frames 1..T-1). For planar the root is a
    planar joint, so only its in-plane components (Fx, Fy, Mz) vanish."""
    m, k = layer_model(name)
    n, dt, T = m.nq, 0.01, 6
    x0, tau, w, p = random_inputs(m, B=2, T=T, seed=22, per_sample_p=True)
    x = ForwardDynamics(k, dt, integrator="semi_implicit_euler")(x0, tau, w, p)
    q_mid, qd, qdd = finite_difference_velocities(x[..., :n], dt)
    assert q_mid.shape == (2, T - 1, n)
    assert torch.allclose(qd, x[:, 1:T, n:], rtol=0, atol=1e-10)
    inv = InverseDynamics(k)
    res = inv(q_mid, qd, qdd, w[:, 1:T], p)
    comps = [0, 1, 5] if name == "planar" else list(range(6))
    scale = float(m.parameters()[[i for i, s in enumerate(m.parameter_names) if "mass" in s]].sum()) * 9.81
    assert res[..., comps].abs().max() < 1e-7 * max(scale, 1.0)
    torques = inv.joint_torques(q_mid, qd, qdd, w[:, 1:T], p)
    assert torch.allclose(torques, tau[:, 1:T], rtol=0, atol=1e-7 * max(scale, 1.0))


def test_rk4_states_with_their_accelerations_have_zero_residual(layer_model):
    """For RK4 the layer's states with the accelerations the dynamics gives there (FD kernel at the
    frame's inputs) have ~0 residual and reproduce the applied torques."""
    m, k = layer_model("floating_pair")
    n, T = m.nq, 4
    x0, tau, w, p = random_inputs(m, B=2, T=T, seed=23)
    x = ForwardDynamics(k, 0.01, substeps=2)(x0, tau, w, p)[:, :T]
    full = torch.zeros(2, T, n, dtype=torch.float64)
    full[..., m.actuated_indices] = tau
    q, qd = x[..., :n], x[..., n:]
    qdd = k.forward_dynamics(q.reshape(-1, n), qd.reshape(-1, n), full.reshape(-1, n),
                             w.reshape(-1, m.n_contacts, 6), p).reshape(2, T, n)
    inv = InverseDynamics(k)
    assert inv(q, qd, qdd, w, p).abs().max() < 1e-9
    assert torch.allclose(inv.joint_torques(q, qd, qdd, w, p), tau, atol=1e-9)


def test_finite_difference_velocities():
    """Exact on quadratics (qdd) and consistent with the documented formulas; numpy or torch;
    central scheme is second order for qd."""
    t = np.linspace(0, 1, 11)
    dt = t[1] - t[0]
    q = np.stack([3 * t**2 + t, -t**2], 1)[None]  # (1, 11, 2)
    mid, qd, qdd = finite_difference_velocities(q, dt)
    assert mid.shape == qd.shape == qdd.shape == (1, 9, 2)
    assert np.allclose(qdd, [6.0, -2.0])
    assert np.allclose(qd, (q[:, 1:-1] - q[:, :-2]) / dt)
    _, qdc, _ = finite_difference_velocities(torch.from_numpy(q), dt, scheme="central")
    assert torch.allclose(qdc, torch.from_numpy(np.stack([6 * t + 1, -2 * t], 1)[None, 1:-1]))
