"""ForwardKinematics on backend="cuda" agrees with backend="cpu" (positions, velocities, gradients),
gradcheck on "cuda", float32; a model with quaternion joints is refused on "cuda". Runs in Numba's
CUDA simulator like test_cuda_layers.py (``NUMBA_ENABLE_CUDASIM=1 python -m pytest tests/cuda -n 0``),
where backend="cuda" takes CPU tensors."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

from cuda_guard import launches, require_cuda_or_simulator  # noqa: E402,F401

SIM = require_cuda_or_simulator()

torch = pytest.importorskip("torch")

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "layers"))

from layer_fixtures import _one_numba_thread, layer_gen_root, layer_model  # noqa: E402,F401
from symgait import InputError  # noqa: E402
from symgait.layers import ForwardKinematics  # noqa: E402
from symgait_testing import model_and_kernels  # noqa: E402

DEVICE = "cpu" if SIM else "cuda"
TOL = 1e-12 if SIM else 1e-10
POINTS = ["Top.Head", "R.Toe.Tip", "L.Heel"]


def _rel(a, b):
    return ((a - b).abs().max() / b.abs().max().clamp(min=1.0)).item()


def _inputs(m, B, seed):
    g = torch.Generator().manual_seed(seed)
    q = torch.rand(B, m.nq, generator=g, dtype=torch.float64) - 0.5
    qd = 2 * torch.rand(B, m.nq, generator=g, dtype=torch.float64) - 1
    p = torch.from_numpy(m.parameters()) * (1 + 0.05 * torch.rand(B, 1, generator=g, dtype=torch.float64))
    return q, qd, p


@pytest.mark.parametrize("velocities", [False, True])
def test_cuda_agrees_with_cpu(layer_model, launches, velocities):
    m, k = layer_model("planar")
    count = launches
    q, qd, p = _inputs(m, 3, seed=31)
    out = {}
    for backend, device in (("cpu", "cpu"), ("cuda", DEVICE)):
        fk = ForwardKinematics(k, points=POINTS, backend=backend)
        qq, vv = (t.clone().to(device).requires_grad_() for t in (q, qd))
        r = fk(qq, vv if velocities else None, p.to(device))
        r = torch.cat(r, 1) if velocities else r
        G = torch.linspace(-1, 1, r.numel(), dtype=r.dtype).reshape(r.shape).to(device)
        (r * G).sum().backward()
        out[backend] = [r.detach().cpu(), qq.grad.cpu()] + ([vv.grad.cpu()] if velocities else [])
        if backend == "cpu":
            cpu_calls = count["cpu"]
    assert count["cpu"] == cpu_calls and count["cuda"] == (3 if velocities else 2)
    for a, b in zip(out["cuda"], out["cpu"]):
        assert a.shape == b.shape and _rel(a, b) <= TOL


def test_gradcheck_cuda(layer_model):
    m, k = layer_model("planar")
    fk = ForwardKinematics(k, points=POINTS, backend="cuda")
    q, qd, p = _inputs(m, 2, seed=32)
    q, qd = (t.to(DEVICE).requires_grad_() for t in (q, qd))
    assert torch.autograd.gradcheck(lambda q, qd: fk(q, qd, p.to(DEVICE)), (q, qd), eps=1e-6, atol=1e-7, rtol=1e-6)


def test_float32_on_cuda(layer_model):
    m, k = layer_model("planar")
    q, qd, p = _inputs(m, 2, seed=33)
    x64, v64 = ForwardKinematics(k, backend="cpu")(q, qd, p)
    x32, v32 = ForwardKinematics(k, backend="cuda")(q.float().to(DEVICE), qd.float().to(DEVICE), p.float().to(DEVICE))
    assert x32.dtype == torch.float32 and _rel(x32.double().cpu(), x64) < 1e-5 and _rel(v32.double().cpu(), v64) < 1e-5
    J = ForwardKinematics(k, backend="cuda").jacobian(q.to(DEVICE), p.to(DEVICE))
    assert J.shape == (2, len(m.points), 3, m.nq)


def test_quaternion_model_is_refused_on_cuda(gen_root):
    """A model with quaternion joints runs on the CPU backend only: backend="cuda" raises InputError."""
    m, k = model_and_kernels("quaternion_tree", gen_root)
    q = torch.from_numpy(k.space.random(1, 0)).to(DEVICE)
    with pytest.raises(InputError, match="has quaternion joints: ForwardKinematics takes them on the CPU only"):
        ForwardKinematics(k, backend="cuda")(q)
