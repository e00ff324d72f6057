"""Batched launchers: written once, here, as a template per backend, instantiated per model from the
kernel signatures of its manifest.

CPU: ``numba.njit(parallel=True, cache=True)`` with ``prange`` over the samples, and ``<name>_serial``,
the same loop on the calling thread (small batches: :mod:`symgait.runtime.threads`); the device
functions are compiled from the model's ``device.py`` by :func:`symgait.runtime.jit.compile_device`.
The parameter vector ``p`` has a batch dimension of 1 (shared) or B (per sample).

CUDA: one ``numba.cuda.jit`` kernel per manifest kernel, one thread per sample in a grid-stride
loop (any grid covers any batch), calling the same device functions compiled with
``compile_device(device, "cuda")``. Every input and output is a (B, size) device array (``p``:
(1, n_p) or (B, n_p)); ``work`` is per-sample scratch in global memory, (B, nwork), row b for sample
b as on the CPU. The kernel code does not fix the layout: the runtime may pass the transpose of an
(nwork, B) buffer instead, so that the threads of a warp touch consecutive addresses
(``WORK_LAYOUT`` in :mod:`symgait.runtime.cuda_arrays`; docs/gpu.md has the trade-off and
``bench/gpu.py`` measures it). Launch configuration and streams are the runtime's choice.

Numba's on-disk cache (``cache=True``) is keyed on the file that defines a function (its path,
modification time and size) and on the function's code, not on the device functions it calls, and
the cached code names the module of those device functions (one per generated directory, see
:func:`symgait.runtime.loader.import_generated`). So the launchers of each generated directory are
a file of their own, named by the SHA-256 of its text (which records the SHA-256 of ``device.py``
and the device module's name): ``<directory>/__pycache__/symgait-launchers/<backend>-<sha16>.py``
beside the generated code, or ``<cache>/launchers/<device module>/`` in the user cache
(:func:`symgait.user_cache.cache_dir`) where that cannot be written (a read-only installation). A
file is written once (atomically) and never rewritten, so Numba's cache beside it stays valid across
processes, and a changed ``device.py`` or template is a new file. The compiled device functions are
handed to the module as its global ``DEVICE`` before it runs.
"""
from __future__ import annotations

import hashlib
import importlib.util
import sys
import tempfile
from pathlib import Path

from ..atomic import write_bytes
from ..user_cache import cache_dir
from .jit import compile_device
from .llvm_ir import BATCH_SUFFIX, BATCH_WIDTH
from .loader import exec_module_spec
from .native import batched

CPU_HEADER = '''import numba

# DEVICE (name -> compiled device function) is set by symgait.runtime.launchers before this runs
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

CUDA_HEADER = '''from numba import cuda

# DEVICE (name -> compiled device function) is set by symgait.runtime.launchers before this runs
'''

CUDA_TEMPLATE = '''

@cuda.jit(cache=True)
def {name}({args}):
    nb = q.shape[0]
    ps = 0 if p.shape[0] == 1 else 1
    for b in range(cuda.grid(1), nb, cuda.gridsize(1)):
        _d_{name}({call})
'''

# CPU, float64, on the calling thread: blocks of BATCH_WIDTH samples through the batch variant of
# inverse_dynamics_derivatives (llvm_ir.batch_variant; ``scratch``: BATCH_WIDTH times its work), the
# remaining samples one by one; per sample the same operations as the per-sample launcher
CPU_BLOCK_TEMPLATES = {
    "inverse_dynamics_derivatives": '''

_b_inverse_dynamics_derivatives = DEVICE["inverse_dynamics_derivatives{suffix}"]


@numba.njit(cache=True)
def inverse_dynamics_derivatives_block(q, qd, qdd, w, p, tau, dq, dqd, dw, work, scratch):
    nb = q.shape[0]
    shared_p = p.shape[0] == 1
    full = nb - nb % {W}
    for b in range(0, full, {W}):
        e = b + {W}
        _b_inverse_dynamics_derivatives(q[b:e], qd[b:e], qdd[b:e], w[b:e], p[0:1] if shared_p else p[b:e],
                                        tau[b:e], dq[b:e], dqd[b:e], dw[b:e], scratch)
    for b in range(full, nb):
        _d_inverse_dynamics_derivatives(q[b], qd[b], qdd[b], w[b], p[0] if shared_p else p[b], tau[b], dq[b],
                                        dqd[b], dw[b], work[b])
''',
    "forward_dynamics_derivatives": '''

_d_forward_dynamics_derivatives_solves = DEVICE["forward_dynamics_derivatives_solves"]


@numba.njit(cache=True)
def forward_dynamics_derivatives_block(q, qd, tau, w, p, qdd, dq, dqd, dtau, dw, work, scratch):
    nb = q.shape[0]
    shared_p = p.shape[0] == 1
    full = nb - nb % {W}
    for b in range(0, full, {W}):
        e = b + {W}
        for j in range(b, e):
            _d_forward_dynamics(q[j], qd[j], tau[j], w[j], p[0] if shared_p else p[j], qdd[j], work[j])
        _b_inverse_dynamics_derivatives(q[b:e], qd[b:e], qdd[b:e], w[b:e], p[0:1] if shared_p else p[b:e],
                                        work[b:e, {nn}:{nn_n}], dq[b:e], dqd[b:e], dw[b:e], scratch)
        for j in range(b, e):
            _d_forward_dynamics_derivatives_solves(dq[j], dqd[j], dtau[j], dw[j], work[j])
    for b in range(full, nb):
        _d_forward_dynamics_derivatives(q[b], qd[b], tau[b], w[b], p[0] if shared_p else p[b], qdd[b], dq[b],
                                        dqd[b], dtau[b], dw[b], work[b])
'''}

TEMPLATES = {"cpu": (CPU_HEADER, CPU_TEMPLATE, "p[0] if shared_p else p[b]"),
             "cuda": (CUDA_HEADER, CUDA_TEMPLATE, "p[b * ps]")}


def launcher_source(backend: str, manifest: dict, device_module: str, blocks: bool = False) -> str:
    """The launchers of ``backend`` ('cpu' or 'cuda') for the kernels of ``manifest``, calling the
    device functions of the module named ``device_module``; with ``blocks`` (CPU) also the
    ``<kernel>_block`` launchers of ``CPU_BLOCK_TEMPLATES``."""
    header, template, p_row = TEMPLATES[backend]
    out = [f"# Launchers ({backend}) of model {manifest['model']!r}, written by symgait.runtime.launchers\n"
           f"# device functions: {device_module} (device.py sha256 {manifest['sources']['device.py']})\n", header]
    signatures = manifest["kernels"]
    for name in signatures:
        out.append(f"_d_{name} = DEVICE[{name!r}]")
    for name, sig in signatures.items():
        args = [a for a, _ in sig["inputs"]] + [a for a, _ in sig["outputs"]] + ["work"]
        call = [(p_row if a == "p" else f"{a}[b]") for a in args]
        out.append(template.format(name=name, args=", ".join(args), call=", ".join(call)))
    if blocks:
        n = manifest.get("nv", manifest["nq"])  # the mass matrix is nv x nv
        for name, text in CPU_BLOCK_TEMPLATES.items():
            out.append(text.format(W=BATCH_WIDTH, suffix=BATCH_SUFFIX, nn=n * n, nn_n=n * n + n))
    return "\n".join(out).rstrip() + "\n"


def has_blocks(device_module, backend: str) -> bool:
    """Whether the CPU block launchers apply to this device module (generated with the split-off
    ``forward_dynamics_derivatives_solves``, batch variants not turned off)."""
    return (backend == "cpu" and hasattr(device_module, "forward_dynamics_derivatives_solves")
            and "inverse_dynamics_derivatives" in batched())


def _launcher_file(backend: str, text: str, device_module) -> Path:
    """The file of these launchers (see the module docstring), written if absent (or not this text); a
    temporary directory of this process where neither place can be written."""
    name = f"{backend}-{hashlib.sha256(text.encode()).hexdigest()[:16]}.py"
    data = text.encode()
    places = (Path(device_module.__file__).parent / "__pycache__" / "symgait-launchers",
              cache_dir() / "launchers" / device_module.__name__, None)
    for root in places:
        try:
            if root is None:
                root = Path(tempfile.mkdtemp(prefix="symgait-launchers-"))
            path = root / name
            if path.is_file() and path.read_bytes() == data:
                return path
            return write_bytes(path, data, fsync=False)
        except OSError:
            continue
    raise OSError("cannot write the launchers beside the generated code, to the user cache or to a temporary "
                  "directory")  # pragma: no cover


def load_launchers(device_module, manifest: dict, backend: str):
    """The launcher module of ``backend`` for a model's imported ``device.py`` (imported once per
    process and file)."""
    text = launcher_source(backend, manifest, device_module.__name__, has_blocks(device_module, backend))
    path = _launcher_file(backend, text, device_module)
    name = f"{device_module.__name__.replace('.', '_')}_launch_{path.stem.replace('-', '_')}"
    mod = sys.modules.get(name)
    if mod is None:
        spec = importlib.util.spec_from_file_location(name, path)
        mod = exec_module_spec(name, spec,
                               prepare=lambda m: setattr(m, "DEVICE", compile_device(device_module, backend)))
    return mod
