"""ForwardKinematics: gradcheck (float64) of positions and velocities on planar, an imported MJCF
humanoid (free root, several joints per body, a slide, rotated frames) and gait3d; rigid-body laws (distances between two points of one body constant under motion, their
relative velocity perpendicular to their separation); velocities = central differences of positions
along a path; the Jacobian method; input errors."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import symgait
from layer_fixtures import _one_numba_thread, layer_gen_root, layer_model  # noqa: F401
from symgait import InputError
from symgait.codegen import generate
from symgait.layers import ForwardKinematics
from symgait_testing import TEST_MODELS

MODELS = ["planar", "mjcf_humanoid"]


@pytest.fixture(scope="module")
def fk_model(layer_model, layer_gen_root):
    """fk_model(name) -> (Model, Kernels): layer_model, or the MJCF test humanoid of tests/models (its free
    root as Euler angles: the layer takes one-coordinate joints)."""
    def get(name):
        if name != "mjcf_humanoid":
            return layer_model(name)
        path = TEST_MODELS / "mjcf_humanoid.xml"
        out = generate(path, out=layer_gen_root / "mjcf_humanoid", log=lambda *a: None, floating_root="euler")
        m = symgait.load_model(path, floating_root="euler")
        return m, symgait.kernels(m, generated=out)
    return get


def _q(m, B, seed, scale=0.5):
    g = torch.Generator().manual_seed(seed)
    q = scale * (2 * torch.rand(B, m.nq, generator=g, dtype=torch.float64) - 1)
    qd = 2 * torch.rand(B, m.nq, generator=g, dtype=torch.float64) - 1
    return q.requires_grad_(), qd.requires_grad_()


def _two_on_each_body(m, bodies):
    by = {}
    for pt in m.spec.points:
        by.setdefault(pt.body, []).append(pt.name)
    return [(by[b][0], by[b][-1]) for b in bodies if len(by.get(b, [])) >= 2]


@pytest.mark.parametrize("name", MODELS)
def test_gradcheck_positions_and_velocities(fk_model, name):
    m, k = fk_model(name)
    fk = ForwardKinematics(k)
    q, qd = _q(m, 3, seed=1)
    assert torch.autograd.gradcheck(lambda q: fk(q), (q,), eps=1e-6, atol=1e-7, rtol=1e-6)
    assert torch.autograd.gradcheck(lambda q, qd: fk(q, qd), (q, qd), eps=1e-6, atol=1e-7, rtol=1e-6)
    # only the velocities used: the second-order term alone
    assert torch.autograd.gradcheck(lambda q, qd: fk(q, qd)[1], (q, qd), eps=1e-6, atol=1e-7, rtol=1e-6)


@pytest.mark.slow
@pytest.mark.xdist_group("gait3d")
def test_gradcheck_gait3d(layer_model):
    """gait3d: floating root, oblique ankle/subtalar/mtp axes, points on every foot segment."""
    m, k = layer_model("gait3d")
    fk = ForwardKinematics(k, points=["R.Toe.Tip", "L.Heel", "R.Midfoot.Lat", "Top.Head", "L.Knee.Lat",
                                      "mtp_l_center"])
    q, qd = _q(m, 2, seed=2)
    assert torch.autograd.gradcheck(lambda q, qd: fk(q, qd), (q, qd), eps=1e-6, atol=1e-7, rtol=1e-6)


@pytest.mark.parametrize("name", MODELS)
def test_rigid_body_laws_and_velocities(fk_model, name):
    """Two points of one body keep their distance for every q, and (v1 - v2) . (x1 - x2) = 0; the
    velocities equal central differences of the positions along q(t) = q0 + t qd."""
    m, k = fk_model(name)
    fk = ForwardKinematics(k)
    pairs = _two_on_each_body(m, m.bodies)
    assert pairs
    q, qd = (t.detach() for t in _q(m, 8, seed=3, scale=1.5))
    x, v = fk(q, qd)
    x0 = fk(torch.zeros_like(q[:1]))
    idx = {n: i for i, n in enumerate(fk.points)}
    for a, b in pairs:
        d = x[:, idx[a]] - x[:, idx[b]]
        d0 = x0[:, idx[a]] - x0[:, idx[b]]
        assert torch.allclose(d.norm(dim=1), d0.norm(dim=1).expand(8), rtol=0, atol=1e-12)
        assert torch.allclose(((v[:, idx[a]] - v[:, idx[b]]) * d).sum(1), torch.zeros(8, dtype=d.dtype),
                              atol=1e-12)
    h = 1e-5
    fd = (fk(q + h * qd) - fk(q - h * qd)) / (2 * h)
    assert torch.allclose(v, fd, rtol=0, atol=1e-8)


def test_jacobian_and_selection(layer_model):
    m, k = layer_model("planar")
    names = ["Top.Head", "R.Toe.Tip"]
    fk = ForwardKinematics(k, points=names)
    q = _q(m, 2, seed=4)[0].detach()
    J = fk.jacobian(q)
    assert J.shape == (2, 2, 3, m.nq)
    full = k.point_jacobians(q.numpy(), m.parameters())
    for i, n in enumerate(names):
        assert np.allclose(J[:, i].numpy(), full[:, m.points.index(n)], rtol=0, atol=0)
    # the layer's gradient is Jᵀ g
    qq = q.clone().requires_grad_()
    g = torch.randn(2, 2, 3, dtype=torch.float64)
    (fk(qq) * g).sum().backward()
    assert torch.allclose(qq.grad, torch.einsum("bpc,bpck->bk", g, J), rtol=0, atol=1e-14)


def test_float32(layer_model):
    m, k = layer_model("planar")
    fk = ForwardKinematics(k)
    q, qd = (t.detach() for t in _q(m, 2, seed=5))
    x64, v64 = fk(q, qd)
    x32, v32 = fk(q.float(), qd.float())
    assert x32.dtype == torch.float32 and torch.allclose(x32.double(), x64, atol=1e-5)
    assert torch.allclose(v32.double(), v64, atol=1e-5)


def test_input_errors(layer_model):
    m, k = layer_model("planar")
    with pytest.raises(InputError, match="not named points.*Top.Head"):
        ForwardKinematics(k, points=["nose"])
    with pytest.raises(InputError, match="list of point names"):
        ForwardKinematics(k, points="Top.Head")
    fk = ForwardKinematics(k)
    q = torch.zeros(2, m.nq, dtype=torch.float64)
    with pytest.raises(InputError, match=r"q has shape \(2, 3\)"):
        fk(q[:, :3])
    with pytest.raises(InputError, match="qd has dtype torch.float32 but q has torch.float64"):
        fk(q, q.float())
    with pytest.raises(InputError, match="numpy array"):
        fk(q.numpy())
    with pytest.raises(InputError, match="p requires grad.*p.detach"):
        fk(q, p=torch.from_numpy(m.parameters()).requires_grad_())
    with pytest.raises(InputError, match="NaN"):
        fk(q + float("nan"))
    m2, k2 = layer_model("floating_pair")
    with pytest.raises(InputError, match="no named points"):
        ForwardKinematics(k2)
