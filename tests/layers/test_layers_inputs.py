"""Bad inputs to the layers raise symgait.InputError with a message naming the argument and the fix."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import symgait
from layer_fixtures import _one_numba_thread, layer_gen_root, layer_model, random_inputs  # noqa: F401
from symgait.layers import ForwardDynamics, InverseDynamics, finite_difference_velocities, inverse_loss


@pytest.fixture(scope="module")
def planar(layer_model):
    m, k = layer_model("planar")
    return m, k, ForwardDynamics(k, 0.01), InverseDynamics(k)


def _raises(match, fn, *args, **kw):
    with pytest.raises(symgait.InputError, match=match):
        fn(*args, **kw)


def test_forward_shape_errors(planar):
    m, k, fwd, _ = planar
    x0, tau, w, p = random_inputs(m, B=2, T=3)
    n = m.nq
    _raises(r"x0 has shape \(2, 19\); expected \(B, 20\)", fwd, x0[:, 1:], tau, w, p)
    _raises(r"x0 has shape \(20,\)", fwd, x0[0], tau, w, p)
    full = torch.zeros(2, 3, n, dtype=torch.float64)
    _raises(r"tau has 10 columns .* actuated coordinates only", fwd, x0, full, w, p)
    _raises(r"tau has shape \(1, 3, 7\); expected \(2, T, 7\)", fwd, x0, tau[:1], w, p)
    _raises(r"w has shape \(2, 2, 2, 6\); expected \(2, 3, 2, 6\)", fwd, x0, tau, w[:, :2], p)
    _raises(r"w has shape .*contact wrenches", fwd, x0, tau, w[..., :3], p)
    _raises(r"p has shape \(15,\)", fwd, x0, tau, w, p[:15])
    _raises(r"p has shape \(3, 16\); expected \(2, 16\)", fwd, x0, tau, w, p.expand(3, -1))


def test_forward_T0_nan_dtype_device(planar):
    m, k, fwd, _ = planar
    x0, tau, w, p = random_inputs(m, B=2, T=3)
    _raises(r"T = 0", fwd, x0, tau[:, :0], w[:, :0], p)
    for name, i in (("x0", 0), ("tau", 1), ("w", 2), ("p", 3)):
        bad = [x0, tau, w, p]
        bad[i] = bad[i].clone()
        bad[i].view(-1)[1] = float("nan")
        _raises(rf"{name} contains NaN or inf", fwd, *bad)
    _raises(r"tau has dtype torch.float32 but x0 has torch.float64", fwd, x0, tau.float(), w, p)
    _raises(r"p has dtype torch.float32 but x0 has torch.float64", fwd, x0, tau, w, p.float())
    _raises(r"x0 has dtype torch.int64", fwd, x0.long(), tau, w, p)
    _raises(r"x0 has dtype torch.float16", fwd, x0.half(), tau.half(), w.half(), p.half())
    _raises(r"x0 is a numpy array", fwd, x0.numpy(), tau, w, p)
    _raises(r"tau is on meta but x0 is on cpu", fwd, x0, tau.to("meta"), w, p)
    _raises(r"x0 is on meta; the layers run the CPU kernels", fwd, x0.to("meta"), tau.to("meta"),
            w.to("meta"), p.to("meta"))


def test_forward_bad_parameters_and_divergence(planar):
    m, k, fwd, _ = planar
    x0, tau, w, p = random_inputs(m, B=2, T=3)
    bad_p = p.clone()
    bad_p[m.parameter_names.index("pelvis_mass")] = -1.0
    _raises(r"p: body 'pelvis' has mass", fwd, x0, tau, w, bad_p)
    coarse = ForwardDynamics(k, 10.0, integrator="semi_implicit_euler")
    _raises(r"the integration diverged in frame \d .*reduce dt", coarse, x0, tau * 1e300, w, p)
    big = torch.full_like(x0, 1e308)  # the last frame's state overflows: caught after the loop
    _raises(r"the integration diverged in frame 0", coarse, big, tau[:, :1], w[:, :1], p)
    rk = ForwardDynamics(k, 10.0, integrator="rk4", gradient="adjoint")
    _raises(r"the integration diverged in frame \d", rk, x0, tau * 1e300, w, p)


def test_constructor_errors(planar):
    m, k, _, _ = planar
    _raises(r"integrator must be one of", ForwardDynamics, k, 0.01, integrator="euler")
    _raises(r"gradient must be one of", ForwardDynamics, k, 0.01, gradient="autograd")
    _raises(r"dt must be a positive", ForwardDynamics, k, 0.0)
    _raises(r"dt must be a positive", ForwardDynamics, k, float("nan"))
    _raises(r"substeps must be an integer >= 1", ForwardDynamics, k, 0.01, substeps=0)
    _raises(r"substeps must be an integer >= 1", ForwardDynamics, k, 0.01, substeps=1.5)


def test_inverse_layer_errors(planar):
    m, k, _, inv = planar
    n = m.nq
    q = torch.zeros(2, 3, n, dtype=torch.float64)
    w = torch.zeros(2, 3, m.n_contacts, 6, dtype=torch.float64)
    _raises(r"q has shape \(3, 10\); expected \(B, T, 10\)", inv, q[0], q[0], q[0], w[0])
    _raises(r"qd has shape \(2, 2, 10\)", inv, q, q[:, :2], q, w)
    _raises(r"qdd has dtype torch.float32 but q has torch.float64", inv, q, q, q.float(), w)
    _raises(r"q has T = 0", inv, q[:, :0], q[:, :0], q[:, :0], w[:, :0])
    bad = q.clone()
    bad[1, 2, 3] = float("inf")
    _raises(r"qd contains NaN or inf \(first at index \(1, 2, 3\)\)", inv.joint_torques, q, bad, q, w)
    _raises(r"w has shape", inv, q, q, q, w[..., :5])


def test_loss_and_helper_errors():
    _raises(r"residual must be a tensor \(\.\.\., 6\)", inverse_loss, torch.zeros(2, 5), 70.0)
    _raises(r"mass must be positive", inverse_loss, torch.zeros(2, 6), 0.0)
    _raises(r"reduction must be", inverse_loss, torch.zeros(2, 6), 70.0, reduction="sum")
    _raises(r"need at least 3", finite_difference_velocities, np.zeros((2, 2, 4)), 0.01)
    _raises(r"dt must be positive", finite_difference_velocities, np.zeros((5, 4)), -0.01)
    _raises(r"scheme must be one of", finite_difference_velocities, np.zeros((5, 4)), 0.01, scheme="fwd")
