"""Native CPU code (LLVM IR written from the generated source) against CPython running that source.

The generated ``device.py`` is plain Python: CPython evaluating it is an independent reference for
the translation to LLVM IR (same operations, same order, IEEE float64), so the two agree exactly.
"""
from __future__ import annotations

import json

import numpy as np
import pytest

import symgait
from symgait.paths import default_dir
from symgait.runtime.llvm_ir import NotStraightLine, translate_module
from symgait.runtime.native import numba_callable


def _device(model):
    path = default_dir(symgait.load_model(model)) / "device.py"
    src = path.read_text()
    ns = {}
    exec(compile(src, str(path), "exec"), ns)
    man = json.loads((path.parent / "manifest.json").read_text())
    return src, ns, man


def _compiled(model):
    """The CPU backend's compiled device functions (native where straight-line)."""
    return symgait.kernels(symgait.load_model(model)).module.DEVICE


def _args(sig, rng, dtype=np.float64):
    ins = [rng.uniform(0.5, 1.5, size).astype(dtype) for _, size in sig["inputs"]]
    outs = [np.full(size, np.nan, dtype) for _, size in sig["outputs"]]
    return ins, outs, np.zeros(sig["work"], dtype)


@pytest.mark.parametrize("model", ["planar", "gait3d"])
def test_native_equals_cpython_bit_for_bit(model):
    src, ns, man = _device(model)
    dev = _compiled(model)
    rng = np.random.default_rng(1)
    kernels = [k for k in man["kernels"] if not k.startswith("forward_dynamics")]
    for name in kernels:
        ins, outs, work = _args(man["kernels"][name], rng)
        ref = [o.copy() for o in outs]
        ns[name](*ins, *ref, work.copy())
        dev[name](*ins, *outs, work)
        for a, b in zip(outs, ref):
            assert np.array_equal(a, b), f"{model} {name}: native differs from CPython by {np.nanmax(abs(a - b))}"


def test_float32_arrays_computed_in_float64():
    src, ns, man = _device("planar")
    dev = _compiled("planar")
    rng = np.random.default_rng(2)
    for name, sig in man["kernels"].items():
        if name.startswith("forward_dynamics"):
            continue
        ins, outs, work = _args(sig, rng, np.float32)
        dev[name](*ins, *outs, work)
        ref = [np.full(o.shape, np.nan) for o in outs]
        ns[name](*[a.astype(np.float64) for a in ins], *ref, work.astype(np.float64))
        for a, b in zip(outs, ref):
            assert a.dtype == np.float32
            assert np.array_equal(a, b.astype(np.float32)), name


def test_loops_stay_with_numba():
    src, _, _ = _device("planar")
    _, nargs = translate_module(src)
    for name in ("inverse_dynamics", "point_jacobians", "ltdl_factor", "ltdl_solve"):
        assert name in nargs
    for name in ("solve_columns", "forward_dynamics", "forward_dynamics_derivatives"):
        assert name not in nargs
    with pytest.raises(NotStraightLine, match="solve_columns"):
        translate_module(src, ["solve_columns"])


def test_strided_and_mixed_arguments_refused():
    dev = _compiled("planar")
    n = 10
    q = np.zeros((n, 2))[:, 0]  # a column view: stride 16 bytes
    with pytest.raises(ValueError, match="contiguous"):
        dev["mass_matrix"](q, np.ones(64), np.zeros(n * n), np.zeros(1))
    import numba
    with pytest.raises(numba.core.errors.TypingError, match="all float64 or all float32"):
        dev["mass_matrix"](np.zeros(n, np.float32), np.ones(64), np.zeros(n * n), np.zeros(1))


def test_numba_callable_argument_names_and_doc():
    f = numba_callable("symgait_test_unregistered", ["a", "b"], "doc text")
    assert f.py_func.__doc__ == "doc text"
    assert list(f.py_func.__code__.co_varnames[:2]) == ["a", "b"]
