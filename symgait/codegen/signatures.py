"""The batched kernels of a generated model, as the manifest records them (from the kernel table).

:mod:`symgait.symbolic.kernel_table` declares every kernel once; this module writes it out in a
model's numbers for the runtime, which reads it from ``manifest.json`` (the runtime imports no
SymPy and no symbolic code): each argument's per-sample shape, and per kernel the per-sample
argument sizes, each result's public key and shape, the work size, the results assembled from
several kernels and the old result keys kept as aliases.
"""
from __future__ import annotations

from ..symbolic.kernel_table import ALIASES, ARG_SHAPES, EXTRA_RESULTS, KERNELS, arguments, dimensions, shape_of


def argument_shapes(n: int, nc: int, npar: int, npts: int, nq: int | None = None) -> dict:
    """{argument: per-sample shape} of every argument any kernel takes (``p``: (n_p,); ``q``: (nq,))."""
    dims = dimensions(n, nc, npar, npts, nq)
    return {a: list(shape_of(s, dims)) for a, s in ARG_SHAPES.items()}


def kernel_signatures(n: int, nc: int, npar: int, npts: int, nwork: dict, nq: int | None = None) -> dict:
    """name -> {"inputs": [[arg, size]], "outputs": [[arg, size]], "results": {arg: [key, shape]},
    "work": size, ...}; every device function takes a trailing per-sample ``work`` array of size
    ``nwork[name]`` (from the code generator)."""
    dims = dimensions(n, nc, npar, npts, nq)
    sigs = {}
    for name, k in KERNELS.items():
        ins, outs = arguments(name, dims)
        sig = {"inputs": [list(a) for a in ins], "outputs": [list(o) for o in outs],
               "results": {o.name: [o.key, list(shape_of(o.shape, dims))] for o in k.outputs},
               "work": nwork[name]}
        if name in EXTRA_RESULTS:
            sig["extra_results"] = {key: list(src) for key, src in EXTRA_RESULTS[name].items()}
        if name in ALIASES:
            sig["aliases"] = dict(ALIASES[name])
        sigs[name] = sig
    return sigs
