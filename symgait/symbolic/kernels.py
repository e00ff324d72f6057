"""Assemble the per-sample device functions of a model from its RNEA graph.

Each :class:`KernelDef` is straight-line code: ``args`` name the per-sample arrays (inputs first,
then outputs) and ``outputs`` lists ``(array, flat index, expression)``. Matrices are row-major:
``dq[i*nv + j] = d ID_i / d q_j``. Derivatives with respect to q are taken in the tangent space
(q ⊕ δ: one column per velocity entry; for one-coordinate joints the plain partial derivatives).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp

from ..model.spec import ModelSpec
from .crba import mass_matrix as crba_mass_matrix
from .graph import Graph, add, mul
from .kernel_table import KERNELS, arguments, dimensions
from .rnea import Dynamics, build
from .spatial import matvec, num


@dataclass
class KernelDef:
    name: str
    doc: str
    inputs: list          # [(name, length)]
    outputs: list         # [(name, length)]
    assigns: list = field(default_factory=list)   # [(array, index, expr)]


def _jacobian_outputs(g: Graph, exprs, tan, directions, array, ncols, transpose=False):
    out = []
    for i, e in enumerate(exprs):
        for j, d in enumerate(directions):
            out.append((array, (j * len(exprs) + i) if transpose else (i * ncols + j), g.tangent_of(e, tan, d)))
    return out


def _seeds(dyn: Dynamics, directions) -> dict:
    """Forward-mode seeds of ``directions`` [(input kind, index)]: 1 on the input's symbol, except along a
    direction of q, which seeds every configuration entry that moves along it with its tangent
    (``dyn.q_tangent``: derivatives with respect to q in the tangent space)."""
    seeds = {}
    for kind, k in directions:
        if kind == "q":
            for sym, t in dyn.q_tangent[k]:
                seeds.setdefault(sym, {})[(kind, k)] = t
        else:
            seeds.setdefault(getattr(dyn.x, kind)[k], {})[(kind, k)] = sp.Integer(1)
    return seeds


def _tangent_adjoints(g: Graph, dyn: Dynamics, adj_q: dict) -> list:
    """Adjoints with respect to q (by q symbol) -> with respect to the tangent directions (nv): the
    transposed tangent map."""
    out = []
    for pairs in dyn.q_tangent:
        if len(pairs) == 1 and pairs[0][1] == 1:
            out.append(adj_q[pairs[0][0]])
        else:
            out.append(g.let(add([mul(adj_q[sym], t) for sym, t in pairs])))
    return out


def _vjp_assigns(g: Graph, dyn: Dynamics, cotangents, npar: int) -> list:
    """Outputs of a reverse-mode kernel: sum_i mu_i d out_i / d (q (tangent), qd, qdd, w, p)."""
    x = dyn.x
    wrt = x.q + x.qd + x.qdd + x.w + x.p
    adj = g.reverse(cotangents, wrt)
    nq = len(x.q)
    gq = _tangent_adjoints(g, dyn, dict(zip(x.q, adj[:nq])))
    assigns = [("gq", i, e) for i, e in enumerate(gq)]
    k = nq
    for arr, size in (("gqd", len(x.qd)), ("gqdd", len(x.qdd)), ("gw", len(x.w)), ("gp", npar)):
        assigns += [(arr, i, adj[k + i]) for i in range(size)]
        k += size
    return assigns


def derive(spec: ModelSpec) -> tuple[Dynamics, list[KernelDef]]:
    dyn = build(spec)
    g, x = dyn.graph, dyn.x
    n, nc, npar = spec.nv, len(spec.contacts), len(spec.parameter_symbols)
    dims = dimensions(n, nc, npar, len(spec.points), spec.nq)
    kernels = []

    def kernel(name, assigns):
        """A KernelDef with the arguments and doc of the kernel table."""
        ins, outs = arguments(name, dims)
        return KernelDef(name, KERNELS[name].doc, ins, outs, assigns)

    kernels.append(kernel("inverse_dynamics", [("tau", i, e) for i, e in enumerate(dyn.tau)]))
    kernels.append(kernel("root_residual", [("res", i, e) for i, e in enumerate(dyn.root_wrench)]))

    # mass matrix by the composite-rigid-body algorithm (lower triangle evaluated, mirrored)
    M = crba_mass_matrix(g, spec, dyn.joint_rotation, dyn.joint_offset)
    massign = []
    for i in range(n):
        for j in range(i + 1):
            massign.append(("M", i * n + j, M[i][j]))
            if i != j:
                massign.append(("M", j * n + i, M[i][j]))
    kernels.append(kernel("mass_matrix", massign))

    # forward-mode Jacobians of ID; d/dp in a kernel of its own (compiled only where it is called)
    dirs = [("q", j) for j in range(n)] + [("qd", j) for j in range(n)] + [("w", k) for k in range(6 * nc)]
    tan = g.forward(_seeds(dyn, dirs), dyn.tau)
    assigns = [("tau", i, e) for i, e in enumerate(dyn.tau)]
    for kind, size, arr in (("q", n, "dq"), ("qd", n, "dqd"), ("w", 6 * nc, "dw")):
        assigns += _jacobian_outputs(g, dyn.tau, tan, [(kind, k) for k in range(size)], arr, size)
    kernels.append(kernel("inverse_dynamics_derivatives", assigns))
    pdirs = [("p", k) for k in range(npar)]
    tanp = g.forward(_seeds(dyn, pdirs), dyn.tau)
    kernels.append(kernel("inverse_dynamics_parameter_derivatives",
                          _jacobian_outputs(g, dyn.tau, tanp, pdirs, "dp", npar)))

    # reverse mode: mu^T d ID / d (q, qd, qdd, w, p)
    mu = [sp.Symbol(f"mu[{i}]") for i in range(n)]
    kernels.append(kernel("inverse_dynamics_vjp", _vjp_assigns(g, dyn, list(zip(dyn.tau, mu)), npar)))

    # reverse mode of the root residual: nu^T d res / d (q, qd, qdd, w, p)
    nu = [sp.Symbol(f"nu[{i}]") for i in range(6)]
    kernels.append(kernel("root_residual_vjp", _vjp_assigns(g, dyn, list(zip(dyn.root_wrench, nu)), npar)))

    # points and their Jacobians
    pts = [e for v in dyn.point_positions for e in v]
    kernels.append(kernel("points", [("out", i, e) for i, e in enumerate(pts)]))
    dq_dirs = [("q", j) for j in range(n)]
    tanq = g.forward(_seeds(dyn, dq_dirs), pts)
    kernels.append(kernel("point_jacobians", _jacobian_outputs(g, pts, tanq, dq_dirs, "out", n)))
    # contacts: origins and 6 x nq Jacobians (linear rows, then angular rows), world frame
    cpos = [e for v in dyn.contact_positions for e in v]
    kernels.append(kernel("contact_points", [("out", i, e) for i, e in enumerate(cpos)]))
    # world angular velocity of a contact body; its qd-Jacobian is the angular Jacobian
    omega_world = _omega_world(dyn)
    cj = []
    for c, ct in enumerate(spec.contacts):
        cj += dyn.contact_positions[c] + omega_world[ct.frame]
    qd_dirs = [("qd", j) for j in range(n)]
    tanc = g.forward(_seeds(dyn, dq_dirs + qd_dirs), cj)
    cassign = []
    for c in range(nc):
        for r in range(6):
            e = cj[6 * c + r]
            d = dq_dirs if r < 3 else qd_dirs
            for j in range(n):
                cassign.append(("out", (6 * c + r) * n + j, g.tangent_of(e, tanc, d[j])))
    kernels.append(kernel("contact_jacobians", cassign))
    return dyn, kernels


def _omega_world(dyn: Dynamics) -> dict:
    """World angular velocity of every contact frame, as graph expressions of q and qd."""
    g, spec = dyn.graph, dyn.spec
    out = {}
    for ct in spec.contacts:
        # angular velocity in world coordinates: sum over moving ancestors of R_j s_j qd_j
        terms = [[], [], []]
        j = ct.frame
        while j >= 0:
            f = spec.frames[j]
            if f.motion.rotates:
                ax = matvec(g, dyn.rotation[j], [num(a) for a in f.axis])
                for k in range(3):
                    terms[k].append(ax[k] * dyn.x.qd[f.velocity])
            elif f.motion.quaternion:
                for m, (axis, rotates) in enumerate(f.motion.dofs(f.axis)):
                    if rotates:
                        ax = matvec(g, dyn.rotation[j], [num(a) for a in axis])
                        for k in range(3):
                            terms[k].append(ax[k] * dyn.x.qd[f.velocity + m])
            j = f.parent
        out[ct.frame] = [g.let(sp.Add(*t)) for t in terms]
    return out
