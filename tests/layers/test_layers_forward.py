"""Forward layer: sensitivity and adjoint gradients agree to 1e-10; the trajectory is the documented
integration scheme; partial requires_grad and no-grad paths give the same values."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from layer_fixtures import _one_numba_thread, layer_model, layer_gen_root, random_inputs  # noqa: F401
from symgait.layers import ForwardDynamics


def _grads(layer, inputs, G):
    ts = [t.detach().clone().requires_grad_() for t in inputs]
    x = layer(*ts)
    (x * G).sum().backward()
    return x.detach(), [t.grad for t in ts]


@pytest.mark.parametrize("integrator", ["rk4", "semi_implicit_euler"])
@pytest.mark.parametrize("substeps,per_sample_p", [(1, True), (3, False)])
def test_sensitivity_equals_adjoint(layer_model, integrator, substeps, per_sample_p):
    """Both gradient modes are exact derivatives of the same discrete map: they agree to 1e-10
    (relative to max(1, |grad|)) for x0, tau, w and p, and give identical trajectories."""
    m, k = layer_model("planar")
    inputs = random_inputs(m, B=3, T=4, seed=10, per_sample_p=per_sample_p)
    G = torch.randn(3, 5, 2 * m.nq, generator=torch.Generator().manual_seed(11), dtype=torch.float64)
    xs, gs = _grads(ForwardDynamics(k, 0.01, substeps, integrator, "sensitivity"), inputs, G)
    xa, ga = _grads(ForwardDynamics(k, 0.01, substeps, integrator, "adjoint"), inputs, G)
    assert torch.equal(xs, xa)
    for name, a, b in zip(("x0", "tau", "w", "p"), gs, ga):
        assert a.shape == b.shape
        err = ((a - b).abs().max() / a.abs().max().clamp(min=1.0)).item()
        assert err < 1e-10, f"{name}: {err:.2e}"


def test_trajectory_is_the_documented_scheme(layer_model):
    """x[:, 0] = x0; RK4 and semi-implicit Euler steps written out with the forward_dynamics kernel;
    inputs are held over each frame and substeps split it."""
    m, k = layer_model("planar")
    n = m.nq
    x0, tau, w, p = random_inputs(m, B=2, T=2, seed=12)
    full = torch.zeros(2, 2, n, dtype=torch.float64)
    full[:, :, m.actuated_indices] = tau
    h = 0.02 / 2

    def f(x, j):
        return torch.cat([x[:, n:], k.forward_dynamics(x[:, :n], x[:, n:], full[:, j], w[:, j], p)], 1)

    ref_rk, ref_se = [x0], [x0]
    x_rk, x_se = x0, x0
    for j in range(2):
        for _ in range(2):
            k1 = f(x_rk, j)
            k2 = f(x_rk + h / 2 * k1, j)
            k3 = f(x_rk + h / 2 * k2, j)
            k4 = f(x_rk + h * k3, j)
            x_rk = x_rk + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
            qd1 = x_se[:, n:] + h * f(x_se, j)[:, n:]
            x_se = torch.cat([x_se[:, :n] + h * qd1, qd1], 1)
        ref_rk.append(x_rk)
        ref_se.append(x_se)
    for integ, ref in (("rk4", ref_rk), ("semi_implicit_euler", ref_se)):
        x = ForwardDynamics(k, 0.02, substeps=2, integrator=integ)(x0, tau, w, p)
        assert x.shape == (2, 3, 2 * n)
        assert torch.allclose(x, torch.stack(ref, 1), rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("gradient", ["sensitivity", "adjoint"])
def test_partial_requires_grad_and_no_grad(layer_model, gradient):
    """Only some inputs requiring grad (e.g. tau alone) gives the same gradients as all of them;
    under torch.no_grad the layer returns the same trajectory without a graph; w and p default."""
    m, k = layer_model("planar")
    layer = ForwardDynamics(k, 0.01, substeps=1, gradient=gradient)
    x0, tau, w, p = random_inputs(m, B=2, T=3, seed=13)
    G = torch.randn(2, 4, 2 * m.nq, generator=torch.Generator().manual_seed(14), dtype=torch.float64)
    x_all, g_all = _grads(layer, (x0, tau, w, p), G)
    t = tau.clone().requires_grad_()
    x = layer(x0, t, w, p)
    (x * G).sum().backward()
    assert torch.allclose(t.grad, g_all[1], rtol=1e-12, atol=1e-12)
    pt = p.clone().requires_grad_()
    (layer(x0, tau, w, pt) * G).sum().backward()
    assert torch.allclose(pt.grad, g_all[3], rtol=1e-12, atol=1e-12)
    with torch.no_grad():
        x_ng = layer(x0, tau.clone().requires_grad_(), w, p)
    assert not x_ng.requires_grad and torch.equal(x_ng, x_all)
    x_def = layer(x0, tau)  # w = 0, p = model defaults
    assert torch.equal(x_def, layer(x0, tau, torch.zeros_like(w), torch.from_numpy(m.parameters())))
    assert torch.equal(layer(x0, tau, w, m.parameters()), x_all)  # numpy p is accepted


def test_no_actuated_coordinates_and_no_contacts(layer_model):
    """Edge sizes: a model with n_actuated = 0 (tau (B, T, 0)) and one with n_contacts = 0."""
    m, k = layer_model("free_body")
    x0, tau, w, p = random_inputs(m, B=2, T=2, seed=15)
    assert tau.shape == (2, 2, 0)
    for gradient in ("sensitivity", "adjoint"):
        ts = [t.clone().requires_grad_() for t in (x0, tau, w)]
        ForwardDynamics(k, 0.01, gradient=gradient)(*ts, p).sum().backward()
        assert ts[1].grad.shape == (2, 2, 0) and torch.isfinite(ts[0].grad).all()
    m2, k2 = layer_model("pendulum2")
    x0, tau, w, p = random_inputs(m2, B=2, T=2, seed=16)
    assert w.shape == (2, 2, 0, 6)
    layer = ForwardDynamics(k2, 0.01, gradient="adjoint")
    ins = [t.clone().requires_grad_() for t in (x0, tau, p)]  # (gradcheck cannot perturb an empty w)
    assert torch.autograd.gradcheck(lambda x0, tau, p: layer(x0, tau, w, p), ins)


def test_sensitivity_memory_is_the_stored_jacobians(layer_model):
    """The sensitivity mode keeps one (2n x (2n + n_act + 6 n_c + n_p)) matrix per frame and sample;
    the adjoint mode keeps the stage states only (4 per step for RK4)."""
    m, k = layer_model("planar")
    n, B, T = m.nq, 2, 5
    x0, tau, w, p = (t.clone().requires_grad_() for t in random_inputs(m, B=B, T=T, seed=17))
    sizes = {}
    for gradient in ("sensitivity", "adjoint"):
        x = ForwardDynamics(k, 0.01, gradient=gradient)(x0, tau, w, p)
        saved = x.grad_fn.saved_tensors
        sizes[gradient] = sum(s.numel() for s in saved) - sum(t.numel() for t in (tau, w, p))
    cols = 2 * n + m.n_actuated + 6 * m.n_contacts + m.n_parameters
    assert sizes["sensitivity"] == T * B * 2 * n * cols
    assert sizes["adjoint"] == T * 4 * B * 2 * n
    assert np.isclose(sizes["sensitivity"] / sizes["adjoint"], cols / 4)
