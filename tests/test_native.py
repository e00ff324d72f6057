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


@pytest.mark.parametrize("model", ["planar", "gait3d"])
def test_block_solve_equals_cpython_bit_for_bit(model):
    """solve_columns with the native vector variant of ltdl_solve (ltdl_solve_block) against CPython
    solving column by column, for column counts below, at and above a block, and against numpy."""
    src, ns, man = _device(model)
    k = symgait.kernels(symgait.load_model(model))
    dev = k.module.DEVICE
    n, block = man["nq"], ns["SOLVE_BLOCK"]
    rng = np.random.default_rng(3)
    M = np.asarray(k.mass_matrix(rng.uniform(-0.5, 0.5, (1, n)), k.model.parameters()))[0]
    H = M.ravel().copy()
    ns["ltdl_factor"](H)
    for ncol in (1, 3, block, block + 3, n, 45):
        X = rng.normal(size=n * ncol)
        T = np.zeros(n * block)
        ours, ref = X.copy(), X.copy()
        dev["solve_columns"](H, ours, ncol, T.copy(), -1.0)
        ns["solve_columns"](H, ref, ncol, T.copy(), -1.0)
        assert np.array_equal(ours, ref), f"{model}, {ncol} columns: {np.max(abs(ours - ref))}"
        exact = -np.linalg.solve(M, X.reshape(n, ncol)).ravel()
        assert np.max(abs(ours - exact)) <= 1e-12 * np.max(abs(exact))
        # float32 arrays: each column as the scalar float32 function computes it (float64 inside)
        X32, H32 = X.astype(np.float32), H.astype(np.float32)
        ours32 = X32.copy()
        dev["solve_columns"](H32, ours32, ncol, T.astype(np.float32), 1.0)
        cols = X32.reshape(n, ncol).T.copy()
        for c in cols:
            dev["ltdl_solve"](H32, c)
        assert np.array_equal(ours32, cols.T.ravel()), f"{model} float32, {ncol} columns"


def test_loops_stay_with_numba():
    src, _, _ = _device("planar")
    _, nargs = translate_module(src)
    for name in ("inverse_dynamics", "point_jacobians", "ltdl_factor", "ltdl_solve", "ltdl_solve_block"):
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


@pytest.mark.parametrize("model", ["planar", "gait3d"])
def test_batch_variant_equals_per_sample_bit_for_bit(model):
    """The CPU's block launchers (8 samples at once through the vector batch variant of
    inverse_dynamics_derivatives, the rest one by one) against the per-sample launcher sample by
    sample, with a shared and a per-sample p: the same numbers to the last bit."""
    k = symgait.kernels(symgait.load_model(model))
    assert hasattr(k.module, "forward_dynamics_derivatives_block")
    n, nc, B = k.nq, k.n_contacts, 19  # two blocks of 8 and 3 samples one by one
    rng = np.random.default_rng(4)
    q, qd, x = (rng.uniform(-0.5, 0.5, (B, n)) for _ in range(3))
    w = rng.normal(0, 20, (B, nc, 6))
    p0 = k.model.parameters()
    for p in (p0, p0 * rng.uniform(0.95, 1.05, (B, 1))):
        for kern in ("inverse_dynamics_derivatives", "forward_dynamics_derivatives"):
            r = getattr(k, kern)(q, qd, x, w, p, parameters=False)
            for b in range(B):
                one = getattr(k, kern)(q[b:b + 1], qd[b:b + 1], x[b:b + 1], w[b:b + 1],
                                       p if p.ndim == 1 else p[b:b + 1], parameters=False)
                for key in one:
                    assert np.array_equal(r[key][b], one[key][0]), f"{model} {kern} {key} sample {b}"


def test_batch_variants_can_be_left_out(monkeypatch):
    """SYMGAIT_NATIVE_BATCH=0: no batch variant is translated (a shorter compile) and no block
    launcher is written; anything but 0 or 1 is refused by name."""
    from symgait.runtime import native
    src, _, _ = _device("planar")
    _, with_batch = translate_module(src, ["inverse_dynamics_derivatives"])
    _, without = translate_module(src, ["inverse_dynamics_derivatives"], batched=())
    assert "inverse_dynamics_derivatives_b8" in with_batch and "inverse_dynamics_derivatives_b8" not in without
    monkeypatch.setenv("SYMGAIT_NATIVE_BATCH", "0")
    assert native.batched() == ()
    monkeypatch.setenv("SYMGAIT_NATIVE_BATCH", "yes")
    with pytest.raises(ValueError, match="SYMGAIT_NATIVE_BATCH"):
        native.batched()
