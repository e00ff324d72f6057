"""Compile a generated ``device.py`` for a backend: one source, several compilers.

Each device function is re-bound to a private globals dictionary in which its callees are the
compiled versions, then wrapped by the backend's compiler (lazily: compilation happens at first
call). CPU: ``numba.njit(cache=True)`` (on-disk cache beside the source). CUDA:
``numba.cuda.jit(device=True)``.
"""
from __future__ import annotations

import inspect
import types


def _compiler(backend: str):
    from .numba_typing_cache import install
    install()
    if backend == "cpu":
        import numba
        return lambda f: numba.njit(cache=True, fastmath=False, error_model="numpy")(f)
    if backend == "cuda":
        from numba import cuda
        return lambda f: cuda.jit(device=True)(f)
    raise ValueError(f"unknown backend {backend!r}; use 'cpu' or 'cuda'")


def compile_device(module, backend: str) -> dict:
    """name -> compiled device function, for every function defined in ``module``."""
    jit = _compiler(backend)
    ns = dict(vars(module))
    out = {}
    for name, f in vars(module).items():
        if inspect.isfunction(f) and f.__module__ == module.__name__:
            nf = types.FunctionType(f.__code__, ns, name, f.__defaults__, f.__closure__)
            nf.__module__, nf.__qualname__, nf.__doc__ = f.__module__, f.__qualname__, f.__doc__
            out[name] = jit(nf)
    ns.update(out)
    return out
