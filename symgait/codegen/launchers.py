"""Batched launchers, written once per backend as a template and instantiated per model.

CPU: ``numba.njit(parallel=True, cache=True)`` with ``prange`` over the samples, and ``<name>_serial``,
the same loop on the calling thread (small batches: :mod:`symgait.runtime.threads`); the device
functions are compiled from the model's ``device.py`` by :func:`symgait.runtime.jit.compile_device`.
The parameter vector ``p`` has a batch dimension of 1 (shared) or B (per sample).

CUDA: one ``numba.cuda.jit`` kernel per manifest kernel, one thread per sample in a grid-stride
loop (any grid covers any batch), calling the same device functions compiled with
``compile_device(_device, "cuda")``. Every input and output is a (B, size) device array (``p``:
(1, n_p) or (B, n_p)); ``work`` is per-sample scratch in global memory, (B, nwork), row b for sample
b as on the CPU. The kernel code does not fix the layout: the runtime may pass the transpose of an
(nwork, B) buffer instead, so that the threads of a warp touch consecutive addresses
(``WORK_LAYOUT`` in :mod:`symgait.runtime.cuda_arrays`; docs/gpu.md has the trade-off and
``bench/gpu.py`` measures it). Launch configuration and streams are the runtime's choice.
"""
from __future__ import annotations

import hashlib

CPU_HEADER = '''import numba

from symgait.runtime.jit import compile_device

from . import device as _device

DEVICE = compile_device(_device, "cpu")  # name -> compiled device function
'''

CPU_TEMPLATE = '''

@numba.njit(cache=True, parallel=True)
def {name}({args}):
    nb = q.shape[0]
    shared_p = p.shape[0] == 1
    for b in numba.prange(nb):
        _d_{name}({call})


@numba.njit(cache=True)
def {name}_serial({args}):
    nb = q.shape[0]
    shared_p = p.shape[0] == 1
    for b in range(nb):
        _d_{name}({call})
'''


def device_stamp(device_source: str) -> str:
    """A header line with the hash of ``device.py``. Numba's on-disk caches of the launchers are keyed
    on the launcher file (its mtime and size), not on the device functions it calls, so a changed
    ``device.py`` must change the launcher files too, or a stale cached kernel would be loaded."""
    return f"# device.py sha256 {hashlib.sha256(device_source.encode()).hexdigest()}\n"


def cpu_source(signatures: dict, header: str, device_source: str) -> str:
    out = [header + device_stamp(device_source), CPU_HEADER]
    for name, sig in signatures.items():
        out.append(f"_d_{name} = DEVICE[{name!r}]")
    for name, sig in signatures.items():
        args = [a for a, _ in sig["inputs"]] + [a for a, _ in sig["outputs"]] + ["work"]
        call = [("p[0] if shared_p else p[b]" if a == "p" else f"{a}[b]") for a in args]
        out.append(CPU_TEMPLATE.format(name=name, args=", ".join(args), call=", ".join(call)))
    return "\n".join(out).rstrip() + "\n"


CUDA_HEADER = '''from numba import cuda

from symgait.runtime.jit import compile_device

from . import device as _device

DEVICE = compile_device(_device, "cuda")  # name -> compiled device function
'''

CUDA_TEMPLATE = '''

@cuda.jit(cache=True)
def {name}({args}):
    nb = q.shape[0]
    ps = 0 if p.shape[0] == 1 else 1
    for b in range(cuda.grid(1), nb, cuda.gridsize(1)):
        _d_{name}({call})
'''


def cuda_source(signatures: dict, header: str, device_source: str) -> str:
    out = [header + device_stamp(device_source), CUDA_HEADER]
    for name, sig in signatures.items():
        out.append(f"_d_{name} = DEVICE[{name!r}]")
    for name, sig in signatures.items():
        args = [a for a, _ in sig["inputs"]] + [a for a, _ in sig["outputs"]] + ["work"]
        call = [("p[b * ps]" if a == "p" else f"{a}[b]") for a in args]
        out.append(CUDA_TEMPLATE.format(name=name, args=", ".join(args), call=", ".join(call)))
    return "\n".join(out).rstrip() + "\n"
