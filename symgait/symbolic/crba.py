"""Joint-space inertia matrix by the composite-rigid-body algorithm, on the assignment graph.

Featherstone (Rigid Body Dynamics Algorithms, sec. 6.2): the spatial inertia of the subtree below
each frame is accumulated from the leaves to the root; column i of M is the wrench that the
composite inertia of frame i exerts for a unit motion of coordinate i, projected on the motion axes
of frame i and of its moving ancestors. A spatial inertia is kept as (m, h = m c, I_o): mass, first
moment and rotational inertia about the frame's origin, in the frame's coordinates. Transforming a
child's (m, h, I_o) to its parent (E child -> parent, rho the child's origin in the parent):
    h' = E h + m rho,   I_o' = E I_o E^T - m S(rho)^2 - S(rho) S(E h) - S(E h) S(rho).
For a motion (w, v) about the origin the momentum is (I_o w + h x v, m v + w x h).
"""
from __future__ import annotations

import sympy as sp

from .graph import Graph
from .spatial import add, body_inertials, cross, matmul, matvec, num

ZERO = sp.Integer(0)


def _outer_sym(a, b):
    """a b^T + b a^T."""
    return [[a[i] * b[j] + b[i] * a[j] for j in range(3)] for i in range(3)]


def _transform_inertia(g: Graph, E, rho, m, h, I):
    """(h', I_o') of a spatial inertia moved from a child frame to its parent."""
    eh = matvec(g, E, h)
    EI = matmul(g, E, I)
    EIE = [[g.let(sp.Add(*(EI[i][k] * E[j][k] for k in range(3)))) if j <= i else None for j in range(3)]
           for i in range(3)]
    er = _outer_sym(eh, rho)
    rho2 = g.let(sp.Add(*(r * r for r in rho)))
    rdot = g.let(sp.Add(*(rho[k] * eh[k] for k in range(3))))
    Ip = [[None] * 3 for _ in range(3)]
    for i in range(3):
        for j in range(i + 1):
            diag = (m * rho2 + 2 * rdot) if i == j else ZERO
            Ip[i][j] = Ip[j][i] = g.let(EIE[i][j] - m * rho[i] * rho[j] - er[i][j] + diag)
    hp = g.letv([eh[k] + m * rho[k] for k in range(3)])
    return hp, Ip


def mass_matrix(g: Graph, spec, E, rho) -> list[list]:
    """M (nv x nv, symmetric, graph expressions of q and p; a joint of several velocity entries, one
    column per entry of its motion subspace). E, rho: per-frame joint rotation
    (frame -> parent) and origin in the parent, as built by :func:`symgait.symbolic.rnea.build`."""
    frames = spec.frames
    nf = len(frames)
    mass = [ZERO] * nf
    h = [[ZERO] * 3 for _ in range(nf)]
    I = [[[ZERO] * 3 for _ in range(3)] for _ in range(nf)]
    for b in spec.bodies:
        i = b.frame
        m, c, Ic = body_inertials(g, b)
        c2 = g.let(sp.Add(*(x * x for x in c)))
        mass[i] = g.let(mass[i] + m)
        h[i] = g.letv([h[i][k] + m * c[k] for k in range(3)])
        I[i] = [[g.let(I[i][r][s] + Ic[r][s] + m * ((c2 if r == s else 0) - c[r] * c[s])) for s in range(3)]
                for r in range(3)]
    for f in reversed(frames):
        i, pidx = f.index, f.parent
        if pidx < 0 or mass[i] == 0:
            continue
        hp, Ip = _transform_inertia(g, E[i], rho[i], mass[i], h[i], I[i])
        mass[pidx] = g.let(mass[pidx] + mass[i])
        h[pidx] = add(g, h[pidx], hp)
        I[pidx] = [[g.let(I[pidx][r][s] + Ip[r][s]) for s in range(3)] for r in range(3)]

    n = spec.nv
    M = [[ZERO] * n for _ in range(n)]
    for f in frames:
        i = f.index
        for k, (axis, rotates) in enumerate(f.motion.dofs(f.axis)):  # one column per velocity entry
            ci = f.velocity + k
            s = [num(v) for v in axis]
            if rotates:
                nn = matvec(g, I[i], s)
                ff = cross(g, s, h[i])
            else:
                nn = cross(g, h[i], s)
                ff = g.letv([mass[i] * s[k] for k in range(3)])
            j = i
            while True:
                fj = frames[j]
                for kj, (aj, rj) in enumerate(fj.motion.dofs(fj.axis)):
                    sj = [num(v) for v in aj]
                    v = nn if rj else ff
                    e = g.let(sp.Add(*(sj[k] * v[k] for k in range(3))))
                    M[ci][fj.velocity + kj] = M[fj.velocity + kj][ci] = e
                if fj.parent < 0:
                    break
                fp = matvec(g, E[j], ff)
                nn = add(g, matvec(g, E[j], nn), cross(g, rho[j], fp))
                ff = fp
                j = fj.parent
    return M
