"""Batched launchers, written once per backend as a template and instantiated per model.

CPU: ``numba.njit(parallel=True, cache=True)`` with ``prange`` over the samples; the device
functions are compiled from the model's ``device.py`` by :func:`symgait.runtime.jit.compile_device`.
The parameter vector ``p`` has a batch dimension of 1 (shared) or B (per sample).
"""
from __future__ import annotations

CPU_HEADER = '''import numba

from symgait.runtime.jit import compile_device

from . import device as _device

_d = compile_device(_device, "cpu")
'''

CPU_TEMPLATE = '''

@numba.njit(cache=True, parallel=True)
def {name}({args}):
    nb = q.shape[0]
    shared_p = p.shape[0] == 1
    for b in numba.prange(nb):
        _d_{name}({call})
'''


def cpu_source(signatures: dict, header: str) -> str:
    out = [header, CPU_HEADER]
    for name, sig in signatures.items():
        out.append(f"_d_{name} = _d[{name!r}]")
    for name, sig in signatures.items():
        args = [a for a, _ in sig["inputs"]] + [a for a, _ in sig["outputs"]] + ["work"]
        call = [("p[0] if shared_p else p[b]" if a == "p" else f"{a}[b]") for a in args]
        out.append(CPU_TEMPLATE.format(name=name, args=", ".join(args), call=", ".join(call)))
    return "\n".join(out).rstrip() + "\n"
