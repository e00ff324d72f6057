"""Native CPU code for the straight-line device functions, compiled by LLVM directly.

:mod:`symgait.runtime.llvm_ir` writes the straight-line functions of a generated ``device.py`` as
LLVM IR; this module compiles that IR with llvmlite (the LLVM that Numba itself uses), keeps the
object code in the user cache (keyed by the source, the LLVM version, the CPU and the optimization
level), registers every function as a global symbol of the process, and gives Numba a callable for
each: a Numba intrinsic that calls the symbol with the arrays' data pointers, wrapped in a small
``njit`` function so that it can be called from Python too. Numba's own cache of the callers stays
valid across processes because the call is by symbol name, resolved when the cached code is loaded.

Compile time (gait3d ``inverse_dynamics_derivatives``, 40 k operations): Numba's front end spends
minutes typing and lowering the statements one by one; LLVM compiles the same code in seconds
(docs/benchmarks.md has the measured figures).
"""
from __future__ import annotations

import hashlib
import json
import os
import threading
from pathlib import Path

from ..atomic import write_bytes
from ..user_cache import cache_dir
from . import llvm_ir
from .llvm_ir import F32_SUFFIX, VECTOR_ARGS, translate_module

OPT_ENV = "SYMGAIT_NATIVE_OPT"   # LLVM optimization level of native code (0-3), default 2
BATCH_ENV = "SYMGAIT_NATIVE_BATCH"  # 0: no batch variants (compiles faster, derivatives run slower)
_lock = threading.Lock()
_engines = []                    # execution engines (and so the code) live as long as the process


def opt_level() -> int:
    v = os.environ.get(OPT_ENV, "2")
    if v not in ("0", "1", "2", "3"):
        raise ValueError(f"{OPT_ENV}={v!r}: use an LLVM optimization level 0, 1, 2 or 3")
    return int(v)


def batched() -> tuple:
    """The kernels compiled with a batch variant (:data:`symgait.runtime.llvm_ir.BATCHED`), none where
    ``SYMGAIT_NATIVE_BATCH=0``: a batch variant of inverse_dynamics_derivatives doubles its compile
    time (docs/benchmarks.md)."""
    v = os.environ.get(BATCH_ENV, "1")
    if v not in ("0", "1"):
        raise ValueError(f"{BATCH_ENV}={v!r}: use 1 (batch variants, default) or 0")
    return llvm_ir.BATCHED if v == "1" else ()


def _target_machine(opt: int):
    """Code generation one level below the IR passes' (from 1): on the generated kernels LLVM's
    level-2 code generator (register allocation of functions with thousands of values) costs a third
    more time than level 1 for a few per cent of speed (docs/benchmarks.md)."""
    import llvmlite.binding as llvm
    llvm.initialize_native_target()
    llvm.initialize_native_asmprinter()
    target = llvm.Target.from_triple(llvm.get_process_triple())
    return target.create_target_machine(cpu=llvm.get_host_cpu_name(), features=llvm.get_host_cpu_features().flatten(),
                                        opt=max(opt - 1, min(opt, 1)), reloc="pic", codemodel="jitdefault")


def _object_cache(key: str) -> Path:
    return cache_dir() / "native" / f"{key}.o"


def _key(digest: str, opt: int) -> str:
    import llvmlite
    import llvmlite.binding as llvm
    parts = [digest,
             hashlib.sha256(Path(llvm_ir.__file__).read_bytes() + Path(__file__).read_bytes()).hexdigest(),
             llvmlite.__version__,
             str(llvm.llvm_version_info), llvm.get_process_triple(), llvm.get_host_cpu_name(),
             llvm.get_host_cpu_features().flatten(), str(opt), ",".join(batched())]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:24]


def compile_native(source: str, digest: str, prefix: str) -> dict[str, list]:
    """Compile every straight-line function of ``source`` (SHA-256 ``digest``) to native code (or load
    it from the user cache) and register each as the global symbol ``prefix + name``. Returns
    {name: argument names}."""
    import llvmlite.binding as llvm
    opt = opt_level()
    key = _key(digest, opt)
    path = _object_cache(key)
    with _lock:
        tm = _target_machine(opt)
        obj = args = None
        if path.is_file() and path.with_suffix(".json").is_file():
            try:
                obj, args = path.read_bytes(), json.loads(path.with_suffix(".json").read_text())
            except (OSError, ValueError):
                obj = args = None
        if obj is None:
            ir, args = translate_module(source, prefix=prefix, batched=batched())
            mod = llvm.parse_assembly(ir)
            mod.verify()
            if opt:
                pb = llvm.create_pass_builder(tm, llvm.create_pipeline_tuning_options(speed_level=opt))
                pb.getModulePassManager().run(mod, pb)
            obj = tm.emit_object(mod)
            _store(path, obj, args)
        engine = llvm.create_mcjit_compiler(llvm.parse_assembly(""), tm)
        engine.add_object_file(llvm.ObjectFileRef.from_data(obj))
        engine.finalize_object()
        _engines.append(engine)
        for name in args:
            syms = (prefix + name,) if args[name][:1] == ["batch"] else (prefix + name, prefix + name + F32_SUFFIX)
            for sym in syms:
                addr = engine.get_function_address(sym)
                if not addr:
                    raise RuntimeError(f"native code for {sym} has no address: delete {path} and retry")
                llvm.add_symbol(sym, addr)
    return args


def _store(path: Path, obj: bytes, args: dict) -> None:
    """Write the object code and its argument names, each atomically (:func:`symgait.atomic.write_bytes`):
    processes compiling the same key at once write the same bytes, and a reader sees whole files."""
    try:
        for p, data in ((path.with_suffix(".json"), json.dumps(args).encode()), (path, obj)):
            write_bytes(p, data, fsync=False)
    except OSError:  # a read-only cache only costs the compile next time
        pass


def native_functions(module) -> dict:
    """{name: njit callable} for the straight-line functions of a generated device module."""
    source = Path(module.__file__).read_text()
    digest = hashlib.sha256(source.encode()).hexdigest()
    prefix = f"symgait_{digest[:16]}_"
    args = compile_native(source, digest, prefix)
    out = {}
    for name, a in args.items():
        if a == VECTOR_ARGS:
            out[name] = block_callable(prefix + name)
        elif a[:1] == ["batch"]:
            out[name] = batch_callable(prefix + name, a[1:])
        else:
            out[name] = numba_callable(prefix + name, a, getattr(module, name).__doc__)
    return out


def block_callable(symbol: str):
    """An ``njit`` function ``f(H, X, stride, scale)`` calling the native vector variant ``symbol``
    (:func:`symgait.runtime.llvm_ir.vector_variant`) on the data pointers of the contiguous 1-D
    arrays ``H`` and ``X`` (both float64 or both float32): X[k*stride + j] is element k of lane j."""
    import numba
    from llvmlite import ir
    from numba.core import cgutils, types
    from numba.extending import intrinsic

    @intrinsic
    def _native(typingctx, H, X, stride, scale):
        if not (isinstance(H, types.Array) and isinstance(X, types.Array) and H.dtype == X.dtype
                and H.dtype in (types.float64, types.float32)):
            raise numba.core.errors.TypingError(f"{symbol}: H and X must be arrays, both float64 or float32")
        target = symbol + (F32_SUFFIX if H.dtype == types.float32 else "")

        def codegen(context, builder, sig, llargs):
            h = context.make_array(sig.args[0])(context, builder, llargs[0]).data
            x = context.make_array(sig.args[1])(context, builder, llargs[1]).data
            st = context.cast(builder, llargs[2], sig.args[2], types.int64)
            sc = context.cast(builder, llargs[3], sig.args[3], types.float64)
            fnty = ir.FunctionType(ir.VoidType(), [h.type, x.type, ir.IntType(64), ir.DoubleType()])
            fn = cgutils.get_or_insert_function(builder.module, fnty, target)
            builder.call(fn, [h, x, st, sc])
            return context.get_dummy_value()
        return types.none(H, X, stride, scale), codegen

    def call(H, X, stride, scale):
        _native(H, X, stride, scale)
    call.__name__ = call.__qualname__ = symbol
    return numba.njit(cache=False)(call)


def _call_void(context, builder, values, name: str):
    """Emit a call of the native function ``name`` (returning void) with ``values``; Numba's dummy value."""
    from llvmlite import ir
    from numba.core import cgutils
    fnty = ir.FunctionType(ir.VoidType(), [v.type for v in values])
    builder.call(cgutils.get_or_insert_function(builder.module, fnty, name), values)
    return context.get_dummy_value()


def _intrinsic(typer, args):
    """A Numba intrinsic of the arguments ``args`` typed by ``typer`` (an intrinsic needs a fixed
    signature: one is built with the argument names)."""
    from numba.extending import intrinsic  # numba: imported when native code is first bound
    params = ", ".join(args)
    ns = {"_typer": typer}
    exec(f"def _call(typingctx, {params}):\n    return _typer(typingctx, {params})\n", ns)
    return intrinsic(ns["_call"])


def numba_callable(symbol: str, args: list[str], doc: str | None = None):
    """An ``njit`` function ``f(*args)`` that calls the native ``symbol`` (``symbol + F32_SUFFIX`` for
    float32) with the data pointers of its contiguous array arguments; callable from Python and from
    other Numba functions."""
    import numba
    from numba.core import types

    def typer(typingctx, *arrs):
        dtypes = {getattr(a, "dtype", None) for a in arrs}
        if not (all(isinstance(a, types.Array) and a.ndim == 1 for a in arrs) and len(dtypes) == 1
                and dtypes <= {types.float64, types.float32}):
            raise numba.core.errors.TypingError(
                f"{symbol}: arguments must be 1-D arrays, all float64 or all float32; got {', '.join(map(str, arrs))}")
        target = symbol + (F32_SUFFIX if dtypes == {types.float32} else "")

        def codegen(context, builder, sig, llargs):
            ptrs = [context.make_array(t)(context, builder, v).data for t, v in zip(sig.args, llargs)]
            return _call_void(context, builder, ptrs, target)
        return types.none(*arrs), codegen

    params = ", ".join(args)
    ns2 = {"_native": _intrinsic(typer, args)}
    check = " or ".join(f"({a}.size > 1 and {a}.strides[0] != {a}.itemsize)" for a in args)
    exec(f"def {symbol}({params}):\n"
         f"    if {check}:\n"
         f"        raise ValueError('{symbol}: every argument must be a contiguous array')\n"
         f"    _native({params})\n", ns2)
    ns2[symbol].__doc__ = doc
    return numba.njit(cache=False)(ns2[symbol])


def batch_callable(symbol: str, args: list[str]):
    """An ``njit`` function ``f(*args)`` calling the native batch variant ``symbol``
    (:func:`symgait.runtime.llvm_ir.batch_variant`) on ``BATCH_WIDTH`` samples: every argument but
    the last is a float64 2-D array with a row per sample (rows may be strided, each row contiguous;
    one row: shared by the samples), the last (``work``) float64 1-D scratch of ``BATCH_WIDTH`` times
    the kernel's work size. Only full blocks: the arrays must hold ``BATCH_WIDTH`` rows (or one)."""
    import numba
    from llvmlite import ir
    from numba.core import cgutils, types

    def typer(typingctx, *arrs):
        if not (all(isinstance(a, types.Array) and a.dtype == types.float64 for a in arrs)
                and all(a.ndim == 2 for a in arrs[:-1]) and arrs[-1].ndim == 1):
            raise numba.core.errors.TypingError(f"{symbol}: float64 2-D arrays and a 1-D scratch; got {arrs}")

        def codegen(context, builder, sig, llargs):
            vals = []
            i64 = ir.IntType(64)
            for t, v in zip(sig.args[:-1], llargs[:-1]):
                a = context.make_array(t)(context, builder, v)
                rows = cgutils.unpack_tuple(builder, a.shape, 2)[0]
                stride = builder.sdiv(cgutils.unpack_tuple(builder, a.strides, 2)[0], ir.Constant(i64, 8))
                one = builder.icmp_signed("==", rows, ir.Constant(i64, 1))
                vals += [a.data, builder.select(one, ir.Constant(i64, 0), stride)]
            vals.append(context.make_array(sig.args[-1])(context, builder, llargs[-1]).data)
            return _call_void(context, builder, vals, symbol)
        return types.none(*arrs), codegen

    params = ", ".join(args)
    ns2 = {"_native": _intrinsic(typer, args)}
    exec(f"def {symbol}({params}):\n    _native({params})\n", ns2)
    return numba.njit(cache=False)(ns2[symbol])
