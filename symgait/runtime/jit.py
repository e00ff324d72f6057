"""Compile a generated ``device.py`` for a backend: one source, several compilers.

Each device function is re-bound to a private globals dictionary in which its callees are the
compiled versions, then wrapped by the backend's compiler (lazily: compilation happens at first
call). CPU: the straight-line functions (the generated kernel bodies and their ``_partN`` chunks) as
native code compiled by LLVM directly (:mod:`symgait.runtime.native`), the others (loops: LTDL
factor and solves, forward dynamics) by ``numba.njit(cache=True)`` (on-disk cache beside the source);
backend ``"numba"`` compiles every function with Numba, as a reference for tests and benchmarks. CUDA:
``numba.cuda.jit(device=True)``; the long device functions (generated kernel bodies and their
``_partN`` chunks, more than ``CUDA_OUTLINE_LINES`` lines) are kept as separate functions in the GPU
code (LLVM ``noinline``): NVVM would otherwise inline every chunk (each has one call site) into one
function of the whole kernel, whose register allocation in ptxas takes tens of minutes and spills
tens of kilobytes per thread for gait3d (docs/gpu.md has the figures).
"""
from __future__ import annotations

import inspect
import types

from .native import native_functions
from .numba_typing_cache import install

CUDA_OUTLINE_LINES = 100  # CUDA: device functions longer than this are not inlined (docs/gpu.md)


def _n_lines(f) -> int:
    lines = [ln for _, _, ln in f.__code__.co_lines() if ln is not None]
    return max(lines) - min(lines) + 1 if lines else 0


def _keep_out_of_line(dispatcher) -> None:
    """Mark every compiled version of a CUDA device function ``noinline`` for NVVM (Numba has no option
    for it). A no-op where Numba's internals differ (and in the simulator, which compiles nothing)."""
    orig = getattr(dispatcher, "compile_device", None)
    if orig is None:
        return

    def compile_device(args, return_type=None):
        cres = orig(args, return_type)
        try:
            name = cres.fndesc.mangled_name
            for fn in cres.library._module.functions:
                if fn.name == name and not fn.is_declaration:
                    fn.attributes.add("noinline")
        except AttributeError:  # pragma: no cover - other Numba versions: inlined as before
            pass
        return cres

    dispatcher.compile_device = compile_device


def _compiler(backend: str):
    install()
    if backend in ("cpu", "numba"):
        import numba
        return lambda f: numba.njit(cache=True, fastmath=False, error_model="numpy")(f)
    if backend == "cuda":
        from numba import cuda

        def jit(f):
            d = cuda.jit(device=True)(f)
            if CUDA_OUTLINE_LINES and _n_lines(f) > CUDA_OUTLINE_LINES:
                _keep_out_of_line(d)
            return d
        return jit
    raise ValueError(f"unknown backend {backend!r}; use 'cpu', 'numba' or 'cuda'")


def compile_device(module, backend: str) -> dict:
    """name -> compiled device function, for every function defined in ``module``."""
    jit = _compiler(backend)
    ns = dict(vars(module))
    out = {}
    if backend == "cpu":
        out.update(native_functions(module))
    ns.update(out)
    for name, f in vars(module).items():
        if inspect.isfunction(f) and f.__module__ == module.__name__ and name not in out:
            nf = types.FunctionType(f.__code__, ns, name, f.__defaults__, f.__closure__)
            nf.__module__, nf.__qualname__, nf.__doc__ = f.__module__, f.__qualname__, f.__doc__
            out[name] = jit(nf)
    ns.update(out)
    return out
