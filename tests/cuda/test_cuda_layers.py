"""The physics layers on backend="cuda" agree with backend="cpu"; gradcheck on "cuda"; float32; errors.

Runs in Numba's CUDA simulator (see test_cuda_sim.py; ``NUMBA_ENABLE_CUDASIM=1 python -m pytest
tests/cuda -n 0``), where backend="cuda" takes CPU tensors: the kernels run through the generated
CUDA launchers (zero-copy views of the tensors as simulated device arrays) and the integrator's
algebra in torch -- the code path of CUDA tensors on a GPU except for the device. Small models from
tests/layers/models and ``planar``; B <= 3, T <= 3 (every simulated CUDA thread is a Python thread).
"""
from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from cuda_guard import input_error_without_simulator, launches, require_cuda_or_simulator  # noqa: E402,F401

SIM = require_cuda_or_simulator()

torch = pytest.importorskip("torch")


HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "layers"))
sys.path.insert(0, str(HERE.parents[1] / "bench"))

from layer_fixtures import _one_numba_thread, layer_gen_root, layer_model, random_inputs  # noqa: E402,F401
from symgait import InputError  # noqa: E402
from symgait.layers import ForwardDynamics, InverseDynamics  # noqa: E402
from symgait.layers import _backend  # noqa: E402
from symgait.runtime import cuda_arrays as ca  # noqa: E402

# on a real GPU the same tests move the inputs to it (and allow for contracted multiply-adds)
DEVICE = "cpu" if SIM else "cuda"
TOL = 1e-12 if SIM else 1e-10


def _rel(a, b):
    if a.numel() == 0:
        return 0.0
    return ((a - b).abs().max() / b.abs().max().clamp(min=1.0)).item()


def _run(layer, inputs, G, device):
    ts = [t.detach().clone().to(device).requires_grad_() for t in inputs]
    x = layer(*ts)
    (x * G.to(device)).sum().backward()
    return [x.detach().cpu()] + [t.grad.cpu() for t in ts]


FWD_CASES = [("floating_pair", "rk4", "sensitivity", 2, True), ("floating_pair", "rk4", "adjoint", 1, False),
             ("floating_pair", "semi_implicit_euler", "sensitivity", 1, False),
             ("floating_pair", "semi_implicit_euler", "adjoint", 2, True),
             ("pendulum2", "rk4", "adjoint", 2, True),
             ("planar", "rk4", "sensitivity", 1, False), ("planar", "semi_implicit_euler", "adjoint", 1, True)]


@pytest.mark.parametrize("name,integrator,gradient,substeps,per_sample_p", FWD_CASES)
def test_forward_layer_cuda_agrees_with_cpu(layer_model, launches, name, integrator, gradient, substeps,
                                            per_sample_p):
    """Trajectory and gradients for x0, tau, w and p: backend='cuda' = backend='cpu' to 1e-12 (float64),
    and the 'cuda' run launched only CUDA kernels."""
    m, k = layer_model(name)
    B, T = (3, 3) if name != "planar" else (2, 2)
    inputs = random_inputs(m, B=B, T=T, seed=21, per_sample_p=per_sample_p)
    G = torch.randn(B, T + 1, 2 * m.nq, generator=torch.Generator().manual_seed(22), dtype=torch.float64)
    kw = dict(substeps=substeps, integrator=integrator, gradient=gradient)
    ref = _run(ForwardDynamics(k, 0.01, backend="cpu", **kw), inputs, G, "cpu")
    cpu_calls = launches["cpu"]
    assert cpu_calls > 0 and launches["cuda"] == 0
    layer = ForwardDynamics(k, 0.01, backend="cuda", **kw)
    got = _run(layer, inputs, G, DEVICE)
    assert launches["cpu"] == cpu_calls, "backend='cuda' ran a CPU kernel"
    n_stages = (4 if integrator == "rk4" else 1) * substeps * T
    assert launches["cuda"] == 2 * n_stages if gradient == "adjoint" else n_stages
    for what, a, b in zip(("x", "x0", "tau", "w", "p"), got, ref):
        assert a.shape == b.shape and a.dtype == b.dtype
        assert _rel(a, b) <= TOL, f"{what}: {_rel(a, b):.2e}"


def test_forward_layer_partial_and_no_grad(layer_model, launches):
    """Only some inputs need gradients (sensitivity columns), and no gradient at all (plain integration)."""
    m, k = layer_model("floating_pair")
    x0, tau, w, p = random_inputs(m, B=2, T=2, seed=23)
    cpu = ForwardDynamics(k, 0.01, backend="cpu")
    gpu = ForwardDynamics(k, 0.01, backend="cuda")
    with torch.no_grad():
        assert _rel(gpu(x0, tau, w, p), cpu(x0, tau, w, p)) <= TOL
    grads = []
    for layer in (cpu, gpu):
        t = tau.clone().requires_grad_()
        layer(x0, t, None, p.numpy()).square().sum().backward()
        grads.append(t.grad)
    assert _rel(grads[1], grads[0]) <= TOL


@pytest.mark.parametrize("name,per_sample_p", [("floating_pair", True), ("planar", False)])
@pytest.mark.parametrize("what", ["forward", "joint_torques"])
def test_inverse_layer_cuda_agrees_with_cpu(layer_model, launches, name, per_sample_p, what):
    m, k = layer_model(name)
    B, T, n = 2, 3, m.nq
    g = torch.Generator().manual_seed(24)
    q, qd, qdd = (torch.rand(B, T, n, generator=g, dtype=torch.float64) - 0.5 for _ in range(3))
    w = 20 * torch.randn(B, T, m.n_contacts, 6, generator=g, dtype=torch.float64)
    p = torch.from_numpy(m.parameters())
    if per_sample_p:
        p = p * (1 + 0.05 * torch.rand(B, 1, generator=g, dtype=torch.float64))
    out = {}
    for backend, device in (("cpu", "cpu"), ("cuda", DEVICE)):
        layer = InverseDynamics(k, backend=backend)
        ts = [t.clone().to(device).requires_grad_() for t in (q, qd, qdd, w, p)]
        r = getattr(layer, what)(*ts)
        G = torch.linspace(-1, 1, r.numel(), dtype=r.dtype).reshape(r.shape).to(device)
        (r * G).sum().backward()
        out[backend] = [r.detach().cpu()] + [t.grad.cpu() for t in ts]
        if backend == "cpu":
            cpu_calls = launches["cpu"]
    assert launches["cuda"] == 2 and launches["cpu"] == cpu_calls
    for a, b in zip(out["cuda"], out["cpu"]):
        assert a.shape == b.shape and _rel(a, b) <= TOL


def _req(ts):
    return [t.detach().clone().to(DEVICE).requires_grad_() for t in ts]


@pytest.mark.parametrize("integrator,gradient", [("rk4", "sensitivity"), ("semi_implicit_euler", "adjoint"),
                                                 ("rk4", "adjoint")])
def test_forward_gradcheck_cuda(layer_model, integrator, gradient):
    m, k = layer_model("floating_pair")
    # sensitivity mode integrates the variational equation in every one of gradcheck's evaluations
    # (its inputs require grad): the smallest trajectory keeps it to seconds in the simulator
    T, substeps = (1, 1) if gradient == "sensitivity" else (2, 2)
    layer = ForwardDynamics(k, 0.01, substeps=substeps, integrator=integrator, gradient=gradient, backend="cuda")
    sie = integrator == "semi_implicit_euler"
    inputs = _req(random_inputs(m, B=1 + sie, T=T, seed=25, per_sample_p=sie))
    assert torch.autograd.gradcheck(layer, inputs, eps=1e-6, atol=1e-6, rtol=1e-6)


@pytest.mark.parametrize("what", ["residual", "joint_torques"])
def test_inverse_gradcheck_cuda(layer_model, what):
    m, k = layer_model("floating_pair")
    layer = InverseDynamics(k, backend="cuda")
    fn = layer if what == "residual" else layer.joint_torques
    g = torch.Generator().manual_seed(26)
    B, T, n = 2, 2, m.nq
    q, qd, qdd = (torch.rand(B, T, n, generator=g, dtype=torch.float64) - 0.5 for _ in range(3))
    w = 20 * torch.randn(B, T, m.n_contacts, 6, generator=g, dtype=torch.float64)
    p = torch.from_numpy(m.parameters()) * (1 + 0.05 * torch.rand(B, 1, generator=g, dtype=torch.float64))
    assert torch.autograd.gradcheck(fn, _req((q, qd, qdd, w, p)), eps=1e-6, atol=1e-6, rtol=1e-6)


@pytest.mark.parametrize("gradient", ["sensitivity", "adjoint"])
def test_float32_on_cuda(layer_model, gradient):
    """float32 in -> float32 out, gradients within float32 accuracy of the float64 CPU ones."""
    m, k = layer_model("floating_pair")
    ins64 = random_inputs(m, B=2, T=3, seed=27, per_sample_p=True)
    G = torch.linspace(-1, 1, 2 * 4 * 2 * m.nq, dtype=torch.float64).reshape(2, 4, 2 * m.nq)
    ref = _run(ForwardDynamics(k, 0.01, substeps=2, gradient=gradient, backend="cpu"), ins64, G, "cpu")
    layer = ForwardDynamics(k, 0.01, substeps=2, gradient=gradient, backend="cuda")
    got = _run(layer, [t.float() for t in ins64], G.float(), DEVICE)
    for a, b in zip(got, ref):
        assert a.dtype == torch.float32
        assert _rel(a.double(), b) < 1e-3
    inv = InverseDynamics(k, backend="cuda")
    q = ins64[0][:, None, : m.nq].repeat(1, 3, 1)
    args = (q, q, q, ins64[2], ins64[3])
    r64 = InverseDynamics(k, backend="cpu")(*args)
    r32 = inv(*(t.float().to(DEVICE) for t in args))
    assert r32.dtype == torch.float32 and _rel(r32.double().cpu(), r64) < 1e-4


def test_interleaved_work_layout(layer_model, monkeypatch):
    m, k = layer_model("floating_pair")
    inputs = random_inputs(m, B=2, T=2, seed=28)
    G = torch.ones(2, 3, 2 * m.nq, dtype=torch.float64)
    kw = dict(integrator="semi_implicit_euler", gradient="sensitivity")
    ref = _run(ForwardDynamics(k, 0.01, backend="cpu", **kw), inputs, G, "cpu")
    monkeypatch.setattr(ca, "WORK_LAYOUT", "interleaved")
    got = _run(ForwardDynamics(k, 0.01, backend="cuda", **kw), inputs, G, DEVICE)
    assert max(_rel(a, b) for a, b in zip(got, ref)) <= TOL


def test_auto_backend_and_repr(layer_model, launches):
    m, k = layer_model("pendulum2")
    layer = ForwardDynamics(k, 0.01)  # backend="auto": CPU tensors -> the CPU kernels
    assert layer.backend == "auto" and "backend='auto'" in repr(layer)
    x0, tau, w, p = random_inputs(m, B=2, T=2, seed=29)
    layer(x0, tau, w, p)
    assert layer._cuda_engine is None and launches["cuda"] == 0 and launches["cpu"] > 0
    inv = InverseDynamics(k)
    q = x0[:, None, : m.nq].repeat(1, 2, 1)
    inv(q, q, q, w, p)
    assert inv._cuda_kernels is None and launches["cuda"] == 0


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the simulator's NumPy scalars overflow
def test_divergence_is_reported_on_cuda(layer_model):
    m, k = layer_model("floating_pair")
    x0, tau, w, p = random_inputs(m, B=2, T=3, seed=30)
    for integrator, gradient in (("semi_implicit_euler", "sensitivity"), ("rk4", "adjoint")):
        layer = ForwardDynamics(k, 10.0, integrator=integrator, gradient=gradient, backend="cuda")
        with pytest.raises(InputError, match=r"the integration diverged in frame \d .*reduce dt"):
            layer(*(t.to(DEVICE) for t in (x0, tau * 1e300, w, p)))


def test_input_errors_match_the_cpu_layers(layer_model):
    """NaN / shape / parameter errors on backend='cuda' (checked once per call, one host sync for the
    finite-value flags) carry the CPU layers' messages."""
    m, k = layer_model("floating_pair")
    x0, tau, w, p = random_inputs(m, B=2, T=2, seed=32)
    q = x0[:, None, : m.nq].repeat(1, 2, 1)
    bad_p = p.clone()
    bad_p[m.parameter_names.index("body_mass")] = -1.0
    nan = tau.clone()
    nan[1, 0, 2] = float("nan")
    inf_w = w.clone()
    inf_w[0, 1, 1, 3] = float("inf")
    fwd_cases = [(x0, nan, w, p), (x0, tau, inf_w, p), (x0, tau, w, p * float("nan")), (x0, tau, w, bad_p),
                 (x0[:, 1:], tau, w, p), (x0, tau, w[:, :1], p)]
    inv_cases = [(q, q, q.clone().fill_(float("inf")), None, p), (q, q, q, inf_w, p), (q, q[:, :1], q, None, p)]
    for cases, make in ((fwd_cases, lambda b: ForwardDynamics(k, 0.01, backend=b)),
                        (inv_cases, lambda b: InverseDynamics(k, backend=b))):
        cpu, gpu = make("cpu"), make("cuda")
        for args in cases:
            msgs = []
            for layer, device in ((cpu, "cpu"), (gpu, DEVICE)):
                with pytest.raises(InputError) as e:
                    layer(*(a if a is None else a.to(device) for a in args))
                msgs.append(str(e.value))
            assert msgs[0] == msgs[1]


def _cuda_like():
    return SimpleNamespace(device=torch.device("cuda", 0))


def test_backend_errors(layer_model, monkeypatch):
    m, k = layer_model("pendulum2")
    with pytest.raises(InputError, match=r"backend must be one of \('auto', 'cpu', 'cuda'\), got 'gpu'"):
        ForwardDynamics(k, 0.01, backend="gpu")
    with pytest.raises(InputError, match=r"backend must be one of"):
        InverseDynamics(k, backend="GPU")
    # CUDA inputs to a layer built with backend="cpu" (a stand-in: this torch has no CUDA)
    with pytest.raises(InputError, match=r"x0 is on cuda:0 but this layer was built with backend='cpu'; build it "
                                         r"with backend='cuda' or 'auto' \(the default\), or move the inputs with "
                                         r"\.cpu\(\)"):
        _backend.resolve_backend("cpu", "x0", _cuda_like())
    assert _backend.resolve_backend("auto", "q", _cuda_like()) == "cuda"
    assert _backend.resolve_backend("cuda", "q", _cuda_like()) == "cuda"
    # CPU tensors to backend="cuda" outside the simulator
    x0, tau, w, p = random_inputs(m, B=2, T=2, seed=31)
    layer = ForwardDynamics(k, 0.01, backend="cuda")
    inv = InverseDynamics(k, backend="cuda")
    q = x0[:, None, : m.nq].repeat(1, 2, 1)
    monkeypatch.setattr(_backend, "simulator", lambda: False)
    with pytest.raises(InputError, match=r"x0 is on cpu but this layer was built with backend='cuda'; move the "
                                         r"inputs to the GPU with \.cuda\(\), or build the layer with "
                                         r"backend='cpu' or 'auto'"):
        layer(x0, tau, w, p)
    with pytest.raises(InputError, match=r"q is on cpu but this layer was built with backend='cuda'"):
        inv(q, q, q, None, p)
    monkeypatch.undo()
    # mixed devices (the meta device stands in for a second device)
    with pytest.raises(InputError, match=r"tau is on meta but x0 is on cpu; put all inputs on one device"):
        layer(x0, tau.to("meta"), w, p)
    with pytest.raises(InputError, match=r"p is on meta but q is on cpu; put all inputs on one device"):
        inv(q, q, q, None, p.to("meta"))


@pytest.mark.skipif(not SIM, reason="checks the message on a machine without a GPU")
def test_layer_backend_cuda_without_gpu_is_refused():
    out = input_error_without_simulator("ForwardDynamics('planar', 0.01, backend='cuda')")
    assert "NUMBA_ENABLE_CUDASIM=1" in out and "backend='cpu'" in out


# --- bench/gpu.py's layer section: its code paths, tiny, in the simulator ---------------------------
def test_bench_gpu_layers_arguments_and_code_paths(layer_model):
    import gpu
    a = gpu.parse_args(["--layers", "--layer-batches", "64", "1024", "--torch-max-batch", "64"])
    assert a.layers and a.layer_batches == [64, 1024] and a.torch_max_batch == 64 and a.sections is None
    d = gpu.parse_args([])
    assert not d.layers and d.layer_batches == [64, 1024, 16384] and d.layer_frames == 50
    _, kf = layer_model("floating_pair")
    rows = gpu.layers_gradcheck(device=DEVICE, model=kf, backend="cuda", frames=1, substeps=1)
    assert [r[2] for r in rows] == ["pass"] * 4, rows
    rows, notes = gpu.layer_benchmark("planar", batches=(2,), frames=2, repeat=1, device=DEVICE, backend="cuda")
    assert [r[1] for r in rows] == ["ForwardDynamics sensitivity", "ForwardDynamics adjoint",
                                    "plain PyTorch + autograd"]
    assert all(r[5] != "-" for r in rows), rows
    assert "sensitivity vs adjoint" in notes[-1] and "plain PyTorch vs layer" in notes[-1]
    diffs = [float(x.split()[-1]) for x in notes[-1].replace(";", ",").split(",") if "diff" in x]
    assert max(diffs) < 1e-9, notes
