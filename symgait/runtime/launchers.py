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
modification time and size) and on the function's code, not on the device functions it calls. So
each model's launchers are written to a file of their own, named by the SHA-256 of its text (which
records the SHA-256 of ``device.py``): ``<cache>/launchers/<model>-<sha16>/<backend>.py`` in the
user cache (:func:`symgait.user_cache.cache_dir`). A file is written once (atomically) and never
rewritten, so Numba's cache beside it (its ``__pycache__``) stays valid across processes, and a
changed ``device.py`` or template is a new file. The compiled device functions are handed to the
module as its global ``DEVICE`` before it runs.
"""
from __future__ import annotations

import hashlib
import importlib.util
import os
import re
import sys
import tempfile
from pathlib import Path

from ..user_cache import cache_dir
from .jit import compile_device

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

TEMPLATES = {"cpu": (CPU_HEADER, CPU_TEMPLATE, "p[0] if shared_p else p[b]"),
             "cuda": (CUDA_HEADER, CUDA_TEMPLATE, "p[b * ps]")}


def launcher_source(backend: str, manifest: dict) -> str:
    """The launchers of ``backend`` ('cpu' or 'cuda') for the kernels of ``manifest``."""
    header, template, p_row = TEMPLATES[backend]
    out = [f"# Launchers ({backend}) of model {manifest['model']!r}, written by symgait.runtime.launchers\n"
           f"# device.py sha256 {manifest['sources']['device.py']}\n", header]
    signatures = manifest["kernels"]
    for name in signatures:
        out.append(f"_d_{name} = DEVICE[{name!r}]")
    for name, sig in signatures.items():
        args = [a for a, _ in sig["inputs"]] + [a for a, _ in sig["outputs"]] + ["work"]
        call = [(p_row if a == "p" else f"{a}[b]") for a in args]
        out.append(template.format(name=name, args=", ".join(args), call=", ".join(call)))
    return "\n".join(out).rstrip() + "\n"


def _launcher_file(backend: str, manifest: dict, text: str) -> Path:
    """The file of these launchers in the user cache, written if absent (or not this text); a
    temporary directory of this process where the user cache cannot be written."""
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", manifest["model"])
    data = text.encode()
    for root in (cache_dir() / "launchers", None):
        try:
            if root is None:
                root = Path(tempfile.mkdtemp(prefix="symgait-launchers-"))
            path = root / f"{safe}-{digest}" / f"{backend}.py"
            if path.is_file() and path.read_bytes() == data:
                return path
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
            tmp.write_bytes(data)
            os.replace(tmp, path)
            return path
        except OSError:
            continue
    raise OSError("cannot write the launchers to the user cache or a temporary directory")  # pragma: no cover


def load_launchers(device_module, manifest: dict, backend: str):
    """The launcher module of ``backend`` for a model's imported ``device.py``, imported once per
    process and file (the same ``device.py`` generated into two directories shares it: its text,
    and so the compiled code, is the same)."""
    text = launcher_source(backend, manifest)
    path = _launcher_file(backend, manifest, text)
    name = f"symgait_launchers_{backend}_{re.sub(r'[^A-Za-z0-9_]', '_', path.parent.name)}"
    mod = sys.modules.get(name)
    if mod is None:
        spec = importlib.util.spec_from_file_location(name, path)
        mod = importlib.util.module_from_spec(spec)
        mod.DEVICE = compile_device(device_module, backend)
        sys.modules[name] = mod
        try:
            spec.loader.exec_module(mod)
        except BaseException:
            del sys.modules[name]
            raise
    return mod
