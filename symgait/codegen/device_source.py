"""Write the per-sample device functions of a model as plain Python source (no Numba import).

The same text is compiled by every backend: ``numba.njit`` on the CPU, ``numba.cuda.jit(device=True)``
on the GPU (see :mod:`symgait.runtime.jit`). Device functions never allocate: scratch memory comes
in the ``work`` argument, sized by ``NWORK``.
"""
from __future__ import annotations

import re

from ..symbolic.kernels import KernelDef
from .linalg import linalg_source
from .printer import Printer


def _kernel_source(k: KernelDef, graph, printer: Printer) -> tuple[list[str], int]:
    outs = [e for _, _, e in k.assigns]
    allowed = {f"{name}[" for name, _ in k.inputs}
    lines = []
    printer.ops = 0
    for s in graph.reachable(outs):
        lines.append(f"    {s.name} = {printer(graph.exprs[s])}")
    for arr, idx, e in k.assigns:
        lines.append(f"    {arr}[{idx}] = {printer(e)}")
    body = "\n".join(lines)
    # every input symbol used must be an argument of this function

    for m in set(re.findall(r"\b([a-z]+)\[\d+\]", body)):
        if f"{m}[" not in allowed and m not in {name for name, _ in k.outputs}:
            raise RuntimeError(f"kernel {k.name} uses {m}[...] but does not take it as input (generator bug)")
    args = ", ".join([n for n, _ in k.inputs] + [n for n, _ in k.outputs])
    head = [f"def {k.name}({args}):", f'    """{k.doc}"""']
    return head + (lines or []) + ["    return"], printer.ops


def device_source(spec, dyn, kernels: list[KernelDef], header: str) -> tuple[str, dict]:
    n, nc, npar = spec.nq, len(spec.contacts), len(spec.parameter_symbols)
    parent = spec.coordinate_parents()
    printer = Printer()
    ops = {}
    chunks = [header, "import math", "",
              f"NQ = {n}", f"NC = {nc}", f"NP = {npar}", f"NPTS = {len(spec.points)}",
              f"PARENT = {tuple(parent)!r}", f"NWORK = {n * n + 2 * n}", ""]
    for k in kernels:
        src, ops[k.name] = _kernel_source(k, dyn.graph, printer)
        chunks += ["", *src, ""]
    lsrc, lops = linalg_source(parent)
    ops.update(lops)
    chunks.append(lsrc)
    nn = n * n
    chunks += [f'''
def forward_dynamics(q, qd, tau, w, p, qdd, work):
    """qdd = M^-1 (tau + sum_c J_c^T w_c - h). Leaves the factorized M in work[:NQ*NQ]."""
    H = work[0:{nn}]
    zero = work[{nn}:{nn + n}]
    b = work[{nn + n}:{nn + 2 * n}]
    mass_matrix(q, p, H)
    for i in range({n}):
        zero[i] = 0.0
    inverse_dynamics(q, qd, zero, w, p, b)
    for i in range({n}):
        qdd[i] = tau[i] - b[i]
    ltdl_factor(H)
    ltdl_solve(H, qdd, 0, 1)
    return


def forward_dynamics_derivatives(q, qd, tau, w, p, qdd, dq, dqd, dtau, dw, dp, work):
    """qdd and its Jacobians: d qdd/d q = -M^-1 dID/dq at qdd, d qd likewise, d tau = M^-1,
    d w = -M^-1 dID/dw = M^-1 J^T, d p = -M^-1 dID/dp (row-major, qdd rows)."""
    forward_dynamics(q, qd, tau, w, p, qdd, work)
    H = work[0:{nn}]
    t = work[{nn}:{nn + n}]
    inverse_dynamics_derivatives(q, qd, qdd, w, p, t, dq, dqd, dw, dp)
    for j in range({n}):
        ltdl_solve(H, dq, j, {n})
        ltdl_solve(H, dqd, j, {n})
    for k in range({nn}):
        dq[k] = -dq[k]
        dqd[k] = -dqd[k]
    for j in range({6 * nc}):
        ltdl_solve(H, dw, j, {6 * nc})
    for k in range({n * 6 * nc}):
        dw[k] = -dw[k]
    for j in range({npar}):
        ltdl_solve(H, dp, j, {npar})
    for k in range({n * npar}):
        dp[k] = -dp[k]
    for k in range({nn}):
        dtau[k] = 0.0
    for j in range({n}):
        dtau[j*{n} + j] = 1.0
        ltdl_solve(H, dtau, j, {n})
    return


def forward_dynamics_vjp(q, qd, tau, w, p, qdd, g, gq, gqd, gtau, gw, gp, work):
    """Reverse-mode products g^T d qdd / d (q, qd, tau, w, p) without forming Jacobians:
    with v = M^-1 g: gtau = v, and g^T d qdd/d x = -v^T d ID/d x at qdd."""
    H = work[0:{nn}]
    forward_dynamics(q, qd, tau, w, p, qdd, work)
    for i in range({n}):
        gtau[i] = g[i]
    ltdl_solve(H, gtau, 0, 1)
    t = work[{nn}:{nn + n}]
    for i in range({n}):
        t[i] = -gtau[i]
    s = work[{nn + n}:{nn + 2 * n}]
    inverse_dynamics_vjp(q, qd, qdd, w, p, t, gq, gqd, s, gw, gp)
    return
''']
    ops["forward_dynamics_derivatives"] = (ops["inverse_dynamics_derivatives"] + ops["mass_matrix"]
                                            + ops["inverse_dynamics"] + ops["ltdl_factor"]
                                            + ops["ltdl_solve"] * (3 * n + 6 * nc + npar + 1))
    return "\n".join(chunks).rstrip() + "\n", ops
