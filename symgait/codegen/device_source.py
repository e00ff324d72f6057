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


SOLVE_BLOCK = 8  # columns solved at once by ltdl_solve_block (vector lanes of the CPU's native variant)
CHUNK = 2000  # statements per generated function: Numba's compile time grows faster than linearly
              # with the length of one function, so long kernels are split into parts that pass
              # their live values through the ``work`` array.
_VAR = re.compile(r"\bx\d+\b")
# kernels written here around the generated ones; their operation counts are totals of their callees
COMPOSITE_KERNELS = ("forward_dynamics", "forward_dynamics_derivatives", "forward_dynamics_parameter_derivatives",
                     "forward_dynamics_vjp")


def _kernel_source(k: KernelDef, graph, printer: Printer) -> tuple[list[str], int, int]:
    """Source of one kernel (split into parts if long), its operation count and work size."""
    outs = [e for _, _, e in k.assigns]
    printer.ops = 0
    stmts = [(s.name, printer(graph.exprs[s])) for s in graph.reachable(outs)]
    pos = {name: i for i, (name, _) in enumerate(stmts)}
    # each output goes right after the last assignment it reads
    placed = []
    for arr, idx, e in k.assigns:
        text = printer(e)
        last = max((pos[v] for v in _VAR.findall(text)), default=-1)
        placed.append((last, f"{arr}[{idx}]", text))
    placed.sort(key=lambda t: t[0])
    seq = [p[1:] for p in placed if p[0] == -1]  # outputs that read no intermediate
    j = len(seq)
    for i, st in enumerate(stmts):
        seq.append(st)
        while j < len(placed) and placed[j][0] == i:
            seq.append(placed[j][1:])
            j += 1
    assert j == len(placed)
    # temporaries numbered per function, so that a change of one kernel leaves the others' text alone
    local = {name: f"x{i}" for i, (name, _) in enumerate(stmts)}
    rename = lambda text: _VAR.sub(lambda mo: local[mo.group(0)], text)  # noqa: E731
    seq = [(rename(t), rename(x)) for t, x in seq]
    allowed = {name for name, _ in k.inputs} | {name for name, _ in k.outputs}
    for m in set(re.findall(r"\b([a-z]+)\[\d+\]", " ".join(t for _, t in seq))):
        if m not in allowed:
            raise RuntimeError(f"kernel {k.name} uses {m}[...] but does not take it as input (generator bug)")
    args = ", ".join([n for n, _ in k.inputs] + [n for n, _ in k.outputs] + ["work"])
    doc = f'    """{k.doc}"""'
    if len(seq) <= CHUNK:
        return [f"def {k.name}({args}):", doc] + [f"    {t} = {x}" for t, x in seq] + ["    return"], printer.ops, 1
    parts = [seq[i:i + CHUNK] for i in range(0, len(seq), CHUNK)]
    defined_in = {}
    for c, part in enumerate(parts):
        for t, _ in part:
            if _VAR.fullmatch(t):
                defined_in[t] = c
    uses = [set(v for _, x in part for v in _VAR.findall(x)) for part in parts]
    slot = {}
    for c, used in enumerate(uses):
        for v in sorted(used, key=lambda s: int(s[1:])):
            if defined_in[v] < c and v not in slot:
                slot[v] = len(slot)
    lines = []
    for c, part in enumerate(parts):
        lines += ["", f"def {k.name}_part{c}({args}):"]
        lines += [f"    {v} = work[{slot[v]}]" for v in sorted(uses[c], key=lambda s: int(s[1:]))
                  if defined_in[v] < c]
        lines += [f"    {t} = {x}" for t, x in part]
        lines += [f"    work[{slot[t]}] = {t}" for t, _ in part if t in slot]
        lines += ["    return", ""]
    lines += ["", f"def {k.name}({args}):", doc]
    lines += [f"    {k.name}_part{c}({args})" for c in range(len(parts))] + ["    return"]
    return lines, printer.ops, max(1, len(slot))


def device_source(spec, dyn, kernels: list[KernelDef], header: str) -> tuple[str, dict, dict]:
    n, nc, npar = spec.nv, len(spec.contacts), len(spec.parameter_symbols)
    parent = spec.coordinate_parents()
    printer = Printer()
    ops = {}
    sizes = [f"NQ = {spec.nq}"]
    if spec.nq != n:  # quaternion joints: q has NQ entries; qd, qdd, tau, the mass matrix's rows NV
        sizes.append(f"NV = {n}  # entries of qd, qdd, tau; the mass matrix (and H below) is NV x NV")
    chunks = [header, "import math", "",
              *sizes, f"NC = {nc}", f"NP = {npar}", f"NPTS = {len(spec.points)}",
              f"PARENT = {tuple(parent)!r}", f"SOLVE_BLOCK = {SOLVE_BLOCK}", ""]
    nwork = {}
    for k in kernels:
        src, ops[k.name], nwork[k.name] = _kernel_source(k, dyn.graph, printer)
        chunks += ["", *src, ""]
    lsrc, lops = linalg_source(parent)
    ops.update(lops)
    chunks.append(lsrc)
    nn = n * n
    inner = nn + 2 * n  # work of the forward-dynamics functions: H | zero/t | b/s | callee work
    nwork["forward_dynamics"] = fdw = inner + max(nwork["mass_matrix"], nwork["inverse_dynamics"])
    nwork["forward_dynamics_derivatives"] = max(fdw, inner + nwork["inverse_dynamics_derivatives"],
                                                inner + n * SOLVE_BLOCK)
    nwork["forward_dynamics_vjp"] = max(fdw, inner + nwork["inverse_dynamics_vjp"])
    nwork["forward_dynamics_parameter_derivatives"] = n + max(
        fdw, nn + nwork["inverse_dynamics_parameter_derivatives"], nn + n * SOLVE_BLOCK)
    chunks += [f'''
def ltdl_solve_block(H, X, stride, scale):
    """Overwrite SOLVE_BLOCK columns of X (element k of column j at X[k*stride + j]) with
    scale M^-1 X, column by column, H from ltdl_factor. The CPU runs the vector variant of
    ltdl_solve instead: the same operations on every column, all columns at once."""
    for j in range({SOLVE_BLOCK}):
        x = X[j:j + {n - 1}*stride + 1:stride]
        ltdl_solve(H, x)
        for k in range({n}):
            x[k] = scale*x[k]
    return


def solve_columns(H, X, ncol, T, scale):
    """X <- scale M^-1 X for X flat (NQ, ncol) row-major, in place by blocks of SOLVE_BLOCK columns;
    the last ncol % SOLVE_BLOCK columns through a zero-padded block in T (NQ*SOLVE_BLOCK scratch),
    H from ltdl_factor."""
    full = ncol - ncol % {SOLVE_BLOCK}
    for c in range(0, full, {SOLVE_BLOCK}):
        ltdl_solve_block(H, X[c:], ncol, scale)
    rem = ncol - full
    if rem > 0:
        for i in range({n}):
            for j in range({SOLVE_BLOCK}):
                T[i*{SOLVE_BLOCK} + j] = X[i*ncol + full + j] if j < rem else 0.0
        ltdl_solve_block(H, T, {SOLVE_BLOCK}, scale)
        for i in range({n}):
            for j in range(rem):
                X[i*ncol + full + j] = T[i*{SOLVE_BLOCK} + j]
    return


def forward_dynamics(q, qd, tau, w, p, qdd, work):
    """qdd = M^-1 (tau + sum_c J_c^T w_c - h). Leaves the factorized M in work[:NQ*NQ]."""
    H = work[0:{nn}]
    zero = work[{nn}:{nn + n}]
    b = work[{nn + n}:{inner}]
    sub = work[{inner}:]
    mass_matrix(q, p, H, sub)
    for i in range({n}):
        zero[i] = 0.0
    inverse_dynamics(q, qd, zero, w, p, b, sub)
    for i in range({n}):
        qdd[i] = tau[i] - b[i]
    ltdl_factor(H)
    ltdl_solve(H, qdd)
    return


def forward_dynamics_derivatives(q, qd, tau, w, p, qdd, dq, dqd, dtau, dw, work):
    """qdd and its Jacobians: d qdd/d q = -M^-1 dID/dq at qdd, d qd likewise, d tau = M^-1,
    d w = -M^-1 dID/dw = M^-1 J^T (row-major, qdd rows)."""
    forward_dynamics(q, qd, tau, w, p, qdd, work)
    inverse_dynamics_derivatives(q, qd, qdd, w, p, work[{nn}:{nn + n}], dq, dqd, dw, work[{inner}:])
    forward_dynamics_derivatives_solves(dq, dqd, dtau, dw, work)
    return


def forward_dynamics_derivatives_solves(dq, dqd, dtau, dw, work):
    """The last step of forward_dynamics_derivatives: dq, dqd, dw (d ID/d q, d qd, d w) <- -M^-1 of
    them, dtau <- M^-1, with the factorized M in work[:NQ*NQ] as forward_dynamics leaves it."""
    H = work[0:{nn}]
    T = work[{inner}:]
    solve_columns(H, dq, {n}, T, -1.0)
    solve_columns(H, dqd, {n}, T, -1.0)
    solve_columns(H, dw, {6 * nc}, T, -1.0)
    for k in range({nn}):
        dtau[k] = 0.0
    for j in range({n}):
        dtau[j*{n} + j] = 1.0
    solve_columns(H, dtau, {n}, T, 1.0)
    return


def forward_dynamics_parameter_derivatives(q, qd, tau, w, p, dp, work):
    """d qdd/d p = -M^-1 dID/dp at qdd = FD(q, qd, tau, w, p) (row-major, qdd rows)."""
    qdd = work[0:{n}]
    forward_dynamics(q, qd, tau, w, p, qdd, work[{n}:])
    H = work[{n}:{nn + n}]
    inverse_dynamics_parameter_derivatives(q, qd, qdd, w, p, dp, work[{nn + n}:])
    solve_columns(H, dp, {npar}, work[{nn + n}:], -1.0)
    return


def forward_dynamics_vjp(q, qd, tau, w, p, g, qdd, gq, gqd, gtau, gw, gp, work):
    """Reverse-mode products g^T d qdd / d (q, qd, tau, w, p) without forming Jacobians:
    with v = M^-1 g: gtau = v, and g^T d qdd/d x = -v^T d ID/d x at qdd."""
    H = work[0:{nn}]
    forward_dynamics(q, qd, tau, w, p, qdd, work)
    for i in range({n}):
        gtau[i] = g[i]
    ltdl_solve(H, gtau)
    t = work[{nn}:{nn + n}]
    for i in range({n}):
        t[i] = -gtau[i]
    s = work[{nn + n}:{inner}]
    inverse_dynamics_vjp(q, qd, qdd, w, p, t, gq, gqd, s, gw, gp, work[{inner}:])
    return
''']
    ops["forward_dynamics"] = fd = ops["mass_matrix"] + ops["inverse_dynamics"] + ops["ltdl_factor"] + ops["ltdl_solve"]
    ops["forward_dynamics_vjp"] = fd + ops["inverse_dynamics_vjp"] + ops["ltdl_solve"]
    ops["forward_dynamics_derivatives"] = fd + ops["inverse_dynamics_derivatives"] + ops["ltdl_solve"] * (3 * n + 6 * nc)
    ops["forward_dynamics_parameter_derivatives"] = (fd + ops["inverse_dynamics_parameter_derivatives"]
                                                      + ops["ltdl_solve"] * npar)
    return "\n".join(chunks).rstrip() + "\n", ops, nwork
