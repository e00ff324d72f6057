"""The runtime's backend classes: each is a :class:`Kernels`, and ``Kernels(model, backend)``
constructs the class of its backend; the CPU kernels against independent references; with host
inputs ``backend="auto"`` runs on the CPU; the CUDA backends (:class:`CudaKernels`, and the layers'
:class:`TorchCudaKernels`) agree with the CPU one to 1e-12 on planar and gait3d.

The CUDA comparisons run in Numba's CUDA simulator, which must be switched on before numba is
imported: :func:`test_cuda_backends_in_a_simulator_process` runs this file's ``test_sim_*`` tests in
a second pytest process with ``NUMBA_ENABLE_CUDASIM=1``; with the variable already set
(``NUMBA_ENABLE_CUDASIM=1 python -m pytest tests/test_runtime_backends.py -n 0``) they run in place.
"""
from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

import symgait
from symgait import InputError
from symgait.runtime import AutoKernels, CpuKernels, CudaKernels, Kernels, TorchCudaKernels, kernels
from symgait_testing import REPO, random_state, rel_err

SIM = os.environ.get("NUMBA_ENABLE_CUDASIM") == "1"
MODELS = ["planar", "gait3d"]
CLASSES = {"cpu": CpuKernels, "cuda": CudaKernels, "auto": AutoKernels}
_KERNELS = {}

# public method -> its arguments
METHODS = {
    "mass_matrix": "q p", "inverse_dynamics": "q qd qdd w p", "root_residual": "q qd qdd w p",
    "forward_dynamics": "q qd tau w p", "inverse_dynamics_derivatives": "q qd qdd w p",
    "forward_dynamics_derivatives": "q qd tau w p", "inverse_dynamics_vjp": "q qd qdd w p mu",
    "root_residual_vjp": "q qd qdd w p nu", "forward_dynamics_vjp": "q qd tau w p g", "points": "q p",
    "point_jacobians": "q p", "contact_points": "q p", "contact_jacobians": "q p",
}


def model_kernels(name: str, backend: str = "cpu"):
    if (name, backend) not in _KERNELS:
        m = symgait.load_model(name)
        _KERNELS[name, backend] = m, (TorchCudaKernels(m) if backend == "torch_cuda" else kernels(m, backend))
    return _KERNELS[name, backend]


def state(m, batch=3, seed=5):
    q, qd, qdd, tau, w = random_state(m, batch, seed=seed)
    rng = np.random.default_rng(seed + 1)
    return dict(q=q, qd=qd, qdd=qdd, tau=tau, w=w, p=m.parameters(), mu=rng.normal(size=(batch, m.nq)),
                nu=rng.normal(size=(batch, 6)), g=rng.normal(size=(batch, m.nq)))


def test_every_backend_class_is_a_kernels():
    for cls in (CpuKernels, CudaKernels, TorchCudaKernels, AutoKernels):
        assert issubclass(cls, Kernels), cls
    assert {b: c.backend for b, c in CLASSES.items()} == {b: b for b in CLASSES}
    assert TorchCudaKernels.backend == "cuda"


@pytest.mark.parametrize("backend", ["cpu", "auto"])
def test_kernels_constructs_the_class_of_its_backend(backend):
    m, _ = model_kernels("planar")
    for k in (Kernels(m, backend), Kernels(m, backend=backend), symgait.kernels(m, backend), CLASSES[backend](m)):
        assert type(k) is CLASSES[backend] and isinstance(k, Kernels) and k.backend == backend
    assert type(Kernels(m)) is CpuKernels and type(symgait.kernels("planar")) is CpuKernels


def test_backend_errors():
    m, _ = model_kernels("planar")
    for bad in ("gpu", "CPU", 3):
        with pytest.raises(InputError, match=r"^backend must be 'cpu', 'cuda' or 'auto', got "):
            Kernels(m, bad)
    with pytest.raises(InputError, match=r"^CpuKernels runs backend='cpu', not 'auto'; Kernels\(model, "
                                         r"backend='auto'\) constructs that backend's class$"):
        CpuKernels(m, "auto")


@pytest.mark.parametrize("name", MODELS)
def test_cpu_inverse_dynamics_is_mass_matrix_times_qdd_plus_bias(name):
    """ID(q, qd, qdd, w) = M(q) qdd + ID(q, qd, 0, w), and FD inverts ID: identities of the equations
    of motion, independent of how the kernels compute them."""
    m, k = model_kernels(name)
    assert type(k) is CpuKernels
    s = state(m, batch=8)
    q, qd, qdd, w, p = s["q"], s["qd"], s["qdd"], s["w"], s["p"]
    tau = k.inverse_dynamics(q, qd, qdd, w, p)
    bias = k.inverse_dynamics(q, qd, np.zeros_like(qdd), w, p)
    M = k.mass_matrix(q, p)
    assert rel_err(tau, np.einsum("bij,bj->bi", M, qdd) + bias) < 1e-10
    assert rel_err(M, M.transpose(0, 2, 1)) == 0.0 and (np.linalg.eigvalsh(M) > 0).all()
    assert rel_err(k.forward_dynamics(q, qd, tau, w, p), qdd) < 1e-9
    d = k.inverse_dynamics_derivatives(q, qd, qdd, w, p, parameters=False)
    assert rel_err(d["tau"], tau) == 0.0 and rel_err(d["dtau_dqdd"], M) < 1e-12


def test_cpu_inverse_dynamics_against_pinocchio():
    """planar without contact wrenches against Pinocchio's RNEA on the exported URDF."""
    pin = pytest.importorskip("pinocchio", reason="Pinocchio (`pip install pin`) is an independent oracle")
    m, k = model_kernels("planar")
    s = state(m, batch=4)
    p = s["p"]
    pm = pin.buildModelFromXML(m.to_urdf(p))
    pm.gravity.linear = np.array(m.gravity)
    data = pm.createData()
    perm = np.array([pm.joints[pm.getJointId(c)].idx_q for c in m.coordinates])

    def to_pin(x):
        out = np.empty_like(x)
        out[perm] = x
        return out
    tau = k.inverse_dynamics(s["q"], s["qd"], s["qdd"], np.zeros_like(s["w"]), p)
    for b in range(4):
        ref = np.asarray(pin.rnea(pm, data, to_pin(s["q"][b]), to_pin(s["qd"][b]), to_pin(s["qdd"][b])))[perm]
        assert rel_err(tau[b], ref) < 1e-9


def test_auto_with_host_inputs_runs_on_the_cpu(monkeypatch):
    m, kc = model_kernels("planar")
    ka = Kernels(m, "auto")
    calls = {"cpu": 0}
    cpu_launch = CpuKernels.launch

    def counted(self, *a, **kw):
        calls["cpu"] += 1
        return cpu_launch(self, *a, **kw)

    def refused(self, *a, **kw):
        raise AssertionError("a CUDA launch for host inputs")
    monkeypatch.setattr(CpuKernels, "launch", counted)
    monkeypatch.setattr(CudaKernels, "launch", refused)
    s = state(m)
    args = [s[a] for a in METHODS["forward_dynamics_derivatives"].split()]
    got, ref = ka.forward_dynamics_derivatives(*args), kc.forward_dynamics_derivatives(*args)
    assert calls["cpu"] == 4  # each call runs the derivative kernel and the parameter-derivative one
    assert got.keys() == ref.keys() and all(np.array_equal(got[key], ref[key]) for key in ref)
    torch = pytest.importorskip("torch")
    out = ka.inverse_dynamics(*(torch.from_numpy(s[a]) for a in "q qd qdd w".split()), s["p"])
    assert isinstance(out, torch.Tensor) and np.array_equal(out.numpy(), kc.inverse_dynamics(
        *(s[a] for a in "q qd qdd w p".split())))


# --- CUDA backends in the simulator -------------------------------------------------------------
@pytest.mark.skipif(SIM, reason="runs the simulator tests of this file in a second process")
def test_cuda_backends_in_a_simulator_process():
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="1")
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-n", "0", "-p", "no:cacheprovider", "-k", "test_sim_",
                        __file__], cwd=REPO, env=env, capture_output=True, text=True, timeout=1800)
    tail = (r.stdout + r.stderr)[-4000:]
    assert r.returncode == 0, tail
    expected = 2 * len(MODELS) + 1  # both CUDA classes x the models, and the construction test
    assert f"{expected} passed" in r.stdout, tail


def _numpy(x):
    return x.numpy() if hasattr(x, "numpy") else np.asarray(x)


def _agree(got, ref, tol=1e-12):
    if isinstance(ref, dict):
        assert got.keys() == ref.keys()
        for key in ref:
            _agree(got[key], ref[key], tol)
        return
    got = _numpy(got)
    assert got.shape == ref.shape and got.dtype == ref.dtype
    assert rel_err(got, ref) <= tol


@pytest.mark.skipif(not SIM, reason="needs NUMBA_ENABLE_CUDASIM=1 before numba is imported")
@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("backend", ["cuda", "torch_cuda"])
def test_sim_cuda_backends_agree_with_cpu(backend, name):
    """Every public method, float64, 1e-12 (the simulator runs the same device functions)."""
    m, kc = model_kernels(name)
    _, kg = model_kernels(name, backend)
    assert isinstance(kg, CudaKernels) and isinstance(kg, Kernels) and kg.backend == "cuda"
    s = state(m, batch=2)
    for method, names in METHODS.items():
        args = [s[a] for a in names.split()]
        if backend == "torch_cuda":  # direct launches: torch tensors only (CPU tensors in the simulator)
            torch = pytest.importorskip("torch")
            out = getattr(kg, method)(*(torch.from_numpy(np.ascontiguousarray(a)) for a in args))
            assert all(isinstance(v, torch.Tensor) for v in (out.values() if isinstance(out, dict) else [out]))
        else:
            out = getattr(kg, method)(*args)
        _agree(out, getattr(kc, method)(*args))


@pytest.mark.skipif(not SIM, reason="needs NUMBA_ENABLE_CUDASIM=1 before numba is imported")
def test_sim_kernels_constructs_the_cuda_class_and_auto_hands_device_inputs_to_it():
    from symgait.runtime import cuda_arrays as ca
    m, kc = model_kernels("planar")
    kg = Kernels(m, "cuda")
    assert type(kg) is CudaKernels and type(symgait.kernels(m, "cuda")) is CudaKernels
    ka = Kernels(m, "auto")
    s = state(m, batch=2)
    args = [s[a] for a in METHODS["inverse_dynamics"].split()]
    ref = kc.inverse_dynamics(*args)
    host = ka.inverse_dynamics(*args)
    assert isinstance(host, np.ndarray) and np.array_equal(host, ref)
    dev = ka.inverse_dynamics(ca.to_device(s["q"]), *args[1:])
    assert ca.array_kind(dev) == "numba" and type(ka.cuda_backend()) is CudaKernels
    assert rel_err(ca.to_host(dev), ref) <= 1e-12
