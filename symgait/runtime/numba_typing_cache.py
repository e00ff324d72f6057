"""Memoize Numba's typing of scalar operators (compile-time only; results are unchanged).

Generated kernels are long straight-line scalar code. Numba re-resolves the type of every
``float64 * float64`` from scratch, trying each operator template (NumPy's array templates first),
which dominates compile time (about 1.5 ms per operation measured here with Numba 0.68). The
resolution depends only on the function and the argument types, so it is cached here for plain
(non-literal) int/float arguments. Installed once by :mod:`symgait.runtime.jit`; if Numba's internals
differ from what this expects, nothing is patched.
"""
from __future__ import annotations

_installed = False


def install() -> bool:
    global _installed
    if _installed:
        return True
    try:
        from numba.core import types
        from numba.core.types import functions as F
        orig = F.BaseFunction.get_call_type
    except (ImportError, AttributeError):  # pragma: no cover - other Numba versions
        return False
    cache = {}
    scalar = (types.Float, types.Integer, types.Boolean)

    def get_call_type(self, context, args, kws):
        if kws or not all(isinstance(a, scalar) and not isinstance(a, types.Literal) for a in args):
            return orig(self, context, args, kws)
        key = (self.typing_key, tuple(args), id(context))
        hit = cache.get(key)
        if hit is None:
            sig = orig(self, context, args, kws)
            if sig is not None:
                cache[key] = (sig, self._impl_keys.get(sig.args))
            return sig
        sig, impl = hit
        if impl is not None:
            self._impl_keys[sig.args] = impl
        return sig

    F.BaseFunction.get_call_type = get_call_type
    _installed = True
    return True
