"""torch.autograd.gradcheck (float64) of both layers: both integrators, both gradient modes, shared
and per-sample parameters; float32 gradients against float64 ones; gait3d in one small slow case."""
from __future__ import annotations

import pytest
import torch

from layer_fixtures import _one_numba_thread, layer_model, layer_gen_root, random_inputs  # noqa: F401
from symgait.layers import ForwardDynamics, InverseDynamics, inverse_loss

CASES = [("rk4", "sensitivity", False), ("rk4", "adjoint", True),
         ("semi_implicit_euler", "sensitivity", True), ("semi_implicit_euler", "adjoint", False)]


def _req(ts):
    return [t.detach().clone().requires_grad_() for t in ts]


@pytest.mark.parametrize("integrator,gradient,per_sample_p", CASES)
def test_forward_gradcheck_planar(layer_model, integrator, gradient, per_sample_p):
    """Analytic gradients for x0, tau, w and p match torch's central differences of the layer."""
    m, k = layer_model("planar")
    layer = ForwardDynamics(k, 0.01, substeps=2, integrator=integrator, gradient=gradient)
    inputs = _req(random_inputs(m, B=2, T=2, seed=1, per_sample_p=per_sample_p))
    assert torch.autograd.gradcheck(layer, inputs, eps=1e-6, atol=1e-6, rtol=1e-6)


@pytest.mark.parametrize("what", ["residual", "joint_torques"])
@pytest.mark.parametrize("per_sample_p", [False, True])
def test_inverse_gradcheck_planar(layer_model, what, per_sample_p):
    """Gradients for q, qd, qdd, w and p (reverse-mode kernels) match central differences."""
    m, k = layer_model("planar")
    layer = InverseDynamics(k)
    fn = layer if what == "residual" else layer.joint_torques
    B, T, n = 2, 3, m.nq
    g = torch.Generator().manual_seed(2)
    q = torch.rand(B, T, n, generator=g, dtype=torch.float64) - 0.5
    qd = 2 * torch.rand(B, T, n, generator=g, dtype=torch.float64) - 1
    qdd = 4 * torch.rand(B, T, n, generator=g, dtype=torch.float64) - 2
    w = 20 * torch.randn(B, T, m.n_contacts, 6, generator=g, dtype=torch.float64)
    p = torch.from_numpy(m.parameters())
    if per_sample_p:
        p = p * (1 + 0.05 * torch.rand(B, 1, generator=g, dtype=torch.float64))
    assert torch.autograd.gradcheck(fn, _req((q, qd, qdd, w, p)), eps=1e-6, atol=1e-6, rtol=1e-6)


def test_inverse_loss_gradcheck_and_zero_guard():
    """inverse_loss = mean (|F| + |M|) / mass; gradient r/|r| and exactly 0 (no NaN) where r = 0."""
    g = torch.Generator().manual_seed(3)
    r = torch.randn(2, 4, 6, generator=g, dtype=torch.float64)
    r[0, 1, :3] = 0.0  # a frame with zero residual force
    r[1, 2] = 0.0      # a frame with zero residual wrench
    r.requires_grad_()
    assert torch.autograd.gradcheck(lambda r: inverse_loss(r, 70.0), [r])
    loss = inverse_loss(r, 70.0)
    expected = (r[..., :3].norm(dim=-1) + r[..., 3:].norm(dim=-1)).mean() / 70.0
    assert torch.allclose(loss, expected)
    loss.backward()
    assert torch.isfinite(r.grad).all()
    assert torch.all(r.grad[0, 1, :3] == 0) and torch.all(r.grad[1, 2] == 0)
    unit = r[0, 0, :3] / r[0, 0, :3].norm()
    assert torch.allclose(r.grad[0, 0, :3], unit.detach() / (70.0 * 8))
    per_frame = inverse_loss(r.detach(), torch.tensor([[70.0], [80.0]], dtype=torch.float64), reduction="none")
    assert per_frame.shape == (2, 4)


@pytest.mark.parametrize("gradient", ["sensitivity", "adjoint"])
def test_float32_matches_float64(layer_model, gradient):
    """The layers run in float32 and give the float64 gradients to float32 accuracy."""
    m, k = layer_model("planar")
    layer = ForwardDynamics(k, 0.01, substeps=2, gradient=gradient)
    ins64 = random_inputs(m, B=2, T=3, seed=4, per_sample_p=True)
    grads = {}
    for dt in (torch.float64, torch.float32):
        ins = _req([t.to(dt) for t in ins64])
        x = layer(*ins)
        assert x.dtype == dt and x.shape == (2, 4, 2 * m.nq)
        G = torch.linspace(-1, 1, x.numel(), dtype=torch.float64).reshape(x.shape).to(dt)
        (x * G).sum().backward()
        grads[dt] = [t.grad.double() for t in ins]
    for a, b in zip(grads[torch.float32], grads[torch.float64]):
        assert ((a - b).abs().max() / b.abs().max().clamp(min=1.0)) < 1e-3
    inv = InverseDynamics(k)
    q = ins64[0][:, None, : m.nq].repeat(1, 2, 1)
    r64 = inv(q, q, q, ins64[2][:, :2], ins64[3])
    r32 = inv(*(t.float() for t in (q, q, q, ins64[2][:, :2], ins64[3])))
    assert r32.dtype == torch.float32
    assert (r32.double() - r64).abs().max() / r64.abs().max() < 1e-4


@pytest.mark.slow
@pytest.mark.xdist_group("gait3d")  # with the other gait3d tests: its kernels compile once, in one worker
@pytest.mark.parametrize("gradient", ["sensitivity", "adjoint"])
def test_gait3d_gradcheck_small(layer_model, gradient):
    """gait3d (23 DOF, floating root): one small case, B=1, T=1, RK4 (compiling its derivative kernels
    is the cost). fast_mode checks random directional derivatives of every input."""
    m, k = layer_model("gait3d")
    layer = ForwardDynamics(k, 0.005, substeps=1, integrator="rk4", gradient=gradient)
    inputs = _req(random_inputs(m, B=1, T=1, seed=5))
    assert torch.autograd.gradcheck(layer, inputs, eps=1e-6, atol=1e-6, rtol=1e-6, fast_mode=True)
    inv = InverseDynamics(k)
    x0 = inputs[0].detach()[:, None]
    q, qd = x0[..., : m.nq], x0[..., m.nq:]
    assert torch.autograd.gradcheck(inv, _req((q, qd, qd, inputs[2].detach(), inputs[3].detach())),
                                    eps=1e-6, atol=1e-6, rtol=1e-6, fast_mode=True)
