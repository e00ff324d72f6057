"""backend="cuda" agrees with backend="cpu": every kernel, small models, tiny batches.

Runs in Numba's CUDA simulator, which must be switched on before numba is imported, so these tests
run in their own pytest process (.ci/run):

    NUMBA_ENABLE_CUDASIM=1 python -m pytest tests/cuda -n 0

Without the variable they skip (unless a real GPU is present: then they run on it, with a looser
tolerance, since the GPU contracts multiply-adds and has its own sin/cos). The simulator interprets
every CUDA thread in Python, so batches stay at a few samples.

The physics layers' CUDA tests (backend="cuda" for the layers and their gradcheck) are in
test_cuda_layers.py.
"""
from __future__ import annotations

import numpy as np
import pytest

from cuda_guard import input_error_without_simulator, require_cuda_or_simulator  # noqa: E402

SIM = require_cuda_or_simulator()

from numba.core import config as _nbconfig  # noqa: E402

import symgait  # noqa: E402
from symgait_testing import BUILTIN, REPO, TEST_MODELS, model_and_kernels, random_state  # noqa: E402
from symgait import InputError  # noqa: E402
from symgait.runtime import cuda_arrays as ca  # noqa: E402

if SIM and not _nbconfig.ENABLE_CUDASIM:  # pragma: no cover - numba imported before the variable was set
    pytest.skip("numba was imported before NUMBA_ENABLE_CUDASIM=1 took effect", allow_module_level=True)

TOL = 1e-12 if SIM else 1e-10
MODELS = ["double_pendulum3d", "floating_chain", "planar"]
B = 3

# public method -> (argument names, manifest kernels it runs)
METHODS = {
    "mass_matrix": ("q p", ["mass_matrix"]),
    "inverse_dynamics": ("q qd qdd w p", ["inverse_dynamics"]),
    "root_residual": ("q qd qdd w p", ["root_residual"]),
    "forward_dynamics": ("q qd tau w p", ["forward_dynamics"]),
    "inverse_dynamics_derivatives": ("q qd qdd w p", ["inverse_dynamics_derivatives", "mass_matrix",
                                                      "inverse_dynamics_parameter_derivatives"]),
    "forward_dynamics_derivatives": ("q qd tau w p", ["forward_dynamics_derivatives",
                                                      "forward_dynamics_parameter_derivatives"]),
    "inverse_dynamics_vjp": ("q qd qdd w p mu", ["inverse_dynamics_vjp"]),
    "root_residual_vjp": ("q qd qdd w p nu", ["root_residual_vjp"]),
    "forward_dynamics_vjp": ("q qd tau w p g", ["forward_dynamics_vjp"]),
    "points": ("q p", ["points"]),
    "point_jacobians": ("q p", ["point_jacobians"]),
    "contact_points": ("q p", ["contact_points"]),
    "contact_jacobians": ("q p", ["contact_jacobians"]),
}

_GPU_KERNELS = {}


def cpu_and_cuda(name, gen_root):
    """(Model, CPU Kernels, CUDA Kernels) of a built-in or tests/models model."""
    m, kc = model_and_kernels(name, gen_root)
    if name not in _GPU_KERNELS:
        _GPU_KERNELS[name] = symgait.kernels(m, backend="cuda", generated=None if name in BUILTIN else gen_root / name)
    return m, kc, _GPU_KERNELS[name]


def state(m, batch=B, seed=1):
    q, qd, qdd, tau, w = random_state(m, batch, seed=seed)
    rng = np.random.default_rng(seed + 100)
    return dict(q=q, qd=qd, qdd=qdd, tau=tau, w=w, p=m.parameters(), mu=rng.normal(size=(batch, m.nv)),
                nu=rng.normal(size=(batch, 6)), g=rng.normal(size=(batch, m.nv)))


def rel(a, b):
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape and a.dtype == b.dtype
    return float(np.abs(a - b).max() / max(1.0, np.abs(b).max())) if a.size else 0.0


def compare(out_gpu, out_cpu, tol):
    if isinstance(out_cpu, dict):
        assert out_gpu.keys() == out_cpu.keys()
        return max(compare(out_gpu[k], out_cpu[k], tol) for k in out_cpu)
    assert isinstance(out_gpu, np.ndarray), type(out_gpu)
    err = rel(out_gpu, out_cpu)
    assert err <= tol, err
    return err


def test_methods_cover_every_manifest_kernel(gen_root):
    _, kc = model_and_kernels("double_pendulum3d", gen_root)
    assert {k for _, ks in METHODS.values() for k in ks} == set(kc.manifest["kernels"])


@pytest.mark.parametrize("method", sorted(METHODS))
@pytest.mark.parametrize("name", MODELS)
def test_cuda_agrees_with_cpu(name, method, gen_root):
    m, kc, kg = cpu_and_cuda(name, gen_root)
    s = state(m)
    args = [s[a] for a in METHODS[method][0].split()]
    compare(getattr(kg, method)(*args), getattr(kc, method)(*args), TOL)


@pytest.mark.parametrize("method", ["mass_matrix", "inverse_dynamics", "forward_dynamics", "forward_dynamics_vjp",
                                    "contact_jacobians"])
def test_cuda_agrees_with_cpu_on_quaternion_joints(method, gen_root):
    """A free-flyer root and spherical joints: q (nq) with unit quaternions, the rest (nv)."""
    m, kc, kg = cpu_and_cuda("quaternion_tree", gen_root)
    s = state(m, batch=2)
    args = [s[a] for a in METHODS[method][0].split()]
    compare(getattr(kg, method)(*args), getattr(kc, method)(*args), TOL)


def test_cuda_refuses_a_quaternion_off_unit_norm(gen_root):
    m, kc, kg = cpu_and_cuda("quaternion_tree", gen_root)
    s = state(m, batch=2)
    s["q"][1, 20:24] *= 1.001  # the neck's quaternion
    with pytest.raises(InputError, match="the quaternion of joint 'neck'.* at sample 1"):
        kg.inverse_dynamics(*[s[a] for a in "q qd qdd w p".split()])


def test_per_sample_parameters_and_grid_stride(gen_root, monkeypatch):
    """p of shape (B, n_p); a grid smaller than the batch (each thread takes several samples)."""
    m, kc, kg = cpu_and_cuda("floating_chain", gen_root)
    s = state(m, batch=5)
    p = m.parameters()[None] * np.linspace(0.9, 1.1, 5)[:, None]
    monkeypatch.setattr(ca, "MAX_BLOCKS", 1)
    monkeypatch.setattr(ca, "SIM_THREADS_PER_BLOCK", 2)
    assert ca.launch_config(5, threads=2) == (1, 2)
    for method in ("forward_dynamics", "inverse_dynamics"):
        args = [s[a] for a in METHODS[method][0].split()[:-1]] + [p]
        compare(getattr(kg, method)(*args), getattr(kc, method)(*args), TOL)


def test_interleaved_work_layout_gives_the_same_results(gen_root, monkeypatch):
    m, kc, kg = cpu_and_cuda("floating_chain", gen_root)
    assert kg.manifest["kernels"]["forward_dynamics"]["work"] > 1
    s = state(m)
    args = [s[a] for a in "q qd tau w p".split()]
    ref = kc.forward_dynamics(*args)
    monkeypatch.setattr(ca, "WORK_LAYOUT", "interleaved")
    compare(kg.forward_dynamics(*args), ref, TOL)


def test_float32(gen_root):
    m, kc, kg = cpu_and_cuda("double_pendulum3d", gen_root)
    s = state(m)
    for method in ("inverse_dynamics", "forward_dynamics", "mass_matrix"):
        args = [s[a].astype(np.float32) if a != "p" else s[a] for a in METHODS[method][0].split()]
        a, b = getattr(kg, method)(*args), getattr(kc, method)(*args)
        assert a.dtype == b.dtype == np.float32
        # the simulator evaluates float32 with NumPy's scalar rules, Numba with its own: not bit-equal
        assert rel(a, b) < 1e-4


def test_device_arrays_in_device_arrays_out(gen_root):
    """Numba device arrays (the simulator's, here) in -> device arrays out; host inputs (p) are copied."""
    m, kc, kg = cpu_and_cuda("floating_chain", gen_root)
    s = state(m)
    dev = {a: ca.to_device(s[a]) for a in ("q", "qd", "tau", "w")}
    out = kg.forward_dynamics_derivatives(dev["q"], dev["qd"], dev["tau"], dev["w"], s["p"])
    ref = kc.forward_dynamics_derivatives(s["q"], s["qd"], s["tau"], s["w"], s["p"])
    for key in ref:
        assert ca.array_kind(out[key]) == "numba" and tuple(out[key].shape) == ref[key].shape
        assert rel(ca.to_host(out[key]), ref[key]) <= TOL
    # p on the device, in float32 with float64 inputs: cast like the CPU path does
    p32 = ca.to_device(s["p"].astype(np.float32))
    compare(ca.to_host(kg.mass_matrix(dev["q"], p32)), kc.mass_matrix(s["q"], s["p"].astype(np.float32)), TOL)


def test_non_contiguous_device_inputs(gen_root):
    m, kc, kg = cpu_and_cuda("double_pendulum3d", gen_root)
    s = state(m)

    def strided(x):  # a device view with every other element of a larger array
        big = np.zeros(x.shape[:-1] + (2 * x.shape[-1],))
        big[..., ::2] = x
        return ca.to_device(big)[(slice(None),) * (x.ndim - 1) + (slice(None, None, 2),)]

    q, w = strided(s["q"]), strided(s["w"])
    assert not q.is_c_contiguous() and not w.is_c_contiguous()
    out = kg.inverse_dynamics(q, ca.to_device(s["qd"]), s["qdd"], w, strided(s["p"][None])[0])
    compare(ca.to_host(out), kc.inverse_dynamics(s["q"], s["qd"], s["qdd"], s["w"], s["p"]), TOL)


def test_auto_backend(gen_root):
    m, kc, _ = cpu_and_cuda("double_pendulum3d", gen_root)
    ka = symgait.kernels(m, backend="auto", generated=gen_root / "double_pendulum3d")
    s = state(m)
    host = ka.forward_dynamics(s["q"], s["qd"], s["tau"], s["w"], s["p"])
    assert ka._cuda is None  # host inputs: the CPU kernels, the CUDA module is not even imported
    ref = kc.forward_dynamics(s["q"], s["qd"], s["tau"], s["w"], s["p"])
    assert np.array_equal(host, ref)
    dev = ka.forward_dynamics(ca.to_device(s["q"]), s["qd"], s["tau"], s["w"], s["p"])
    assert ca.array_kind(dev) == "numba" and ka._cuda is not None
    assert rel(ca.to_host(dev), ref) <= TOL


def test_torch_cpu_tensors_round_trip(gen_root):
    torch = pytest.importorskip("torch")
    m, kc, kg = cpu_and_cuda("double_pendulum3d", gen_root)
    s = state(m)
    args = [torch.from_numpy(s[a]) for a in ("q", "qd", "qdd", "w")] + [s["p"]]
    out = kg.inverse_dynamics(*args)
    assert isinstance(out, torch.Tensor) and out.dtype == torch.float64
    assert rel(out.numpy(), kc.inverse_dynamics(s["q"], s["qd"], s["qdd"], s["w"], s["p"])) <= TOL


def _error(fn, *args):
    with pytest.raises(InputError) as e:
        fn(*args)
    return str(e.value)


def test_input_errors_match_the_cpu_path(gen_root):
    m, kc, kg = cpu_and_cuda("floating_chain", gen_root)
    p = m.parameters()
    n, nc = m.nq, m.n_contacts
    q = np.zeros((3, n))
    w = np.zeros((3, nc, 6))
    bad = q.copy()
    bad[1, 4] = np.nan
    cases = [
        (q[0], q[0], q[0], w[0], p),                       # no batch axis
        (q, q[:2], q, w, p),                               # batch mismatch
        (q, q, q, np.zeros((3, nc, 5)), p),                # w shape
        (q, bad, q, w, p),                                 # NaN
        (q.astype(np.int64), q, q, w, p),                  # dtype
        (q, q.astype(np.float32), q, w, p),                # mixed dtypes
        (q, q, q, w, p[:-1]),                              # p shape
        (q, q, q, w, p * np.nan),                          # p NaN
        (q, q, q, w, p * 0.0),                             # p not physical
    ]
    for args in cases:
        want = _error(kc.inverse_dynamics, *args)
        assert _error(kg.inverse_dynamics, *args) == want
        # the same inputs as device arrays (checked on the device: metadata, and a NaN kernel)
        dargs = [ca.to_device(a) if isinstance(a, np.ndarray) and a.dtype.kind == "f" else a for a in args]
        assert _error(kg.inverse_dynamics, *dargs) == want


def test_cupy_request_without_cupy_names_the_extra():
    try:
        import cupy  # noqa: F401
        pytest.skip("CuPy is installed")
    except ImportError:
        pass
    with pytest.raises(InputError, match=r"pip install symgait\[gpu\]"):
        ca.to_device(np.zeros(3), like="cupy")


@pytest.mark.skipif(not SIM, reason="checks the message on a machine without a GPU")
def test_cuda_backend_without_gpu_or_simulator_is_refused():
    out = input_error_without_simulator("symgait.kernels('planar', backend='cuda')")
    assert "NUMBA_ENABLE_CUDASIM=1" in out and "backend='cpu'" in out


def test_cuda_launchers_cover_the_manifest():
    import json

    from symgait.runtime.launchers import launcher_source
    for name in BUILTIN:
        manifest = json.loads((REPO / "generated" / name / "manifest.json").read_text())
        src = launcher_source("cuda", manifest, f"symgait_generated_{name}")
        for k, sig in manifest["kernels"].items():
            args = [a for a, _ in sig["inputs"]] + [a for a, _ in sig["outputs"]] + ["work"]
            assert f"@cuda.jit(cache=True)\ndef {k}({', '.join(args)}):" in src
    assert TEST_MODELS.exists()
