"""3-vector and rotation helpers on the assignment graph (lists of SymPy expressions)."""
from __future__ import annotations

import numpy as np
import sympy as sp

from .graph import NEG_ONE, Graph, add as _add, mul as _mul


def num(x: float) -> sp.Expr:
    """A numeric constant: integers stay exact so that SymPy folds 0 and 1 away."""
    x = float(x)
    if abs(x) < 1e-15:
        return sp.Integer(0)
    if x == round(x) and abs(x) < 1e6:
        return sp.Integer(int(round(x)))
    return sp.Float(x)


def _diff(a, b):
    """a - b (as SymPy's ``-`` builds it: a + (-1)*b)."""
    return _add([a, _mul(NEG_ONE, b)])


def cross(g: Graph, a, b):
    return g.letv([_diff(_mul(a[1], b[2]), _mul(a[2], b[1])), _diff(_mul(a[2], b[0]), _mul(a[0], b[2])),
                   _diff(_mul(a[0], b[1]), _mul(a[1], b[0]))])


def add(g: Graph, *vs):
    return g.letv([_add([v[i] for v in vs]) for i in range(3)])


def scale(g: Graph, k, v):
    return g.letv([_mul(k, x) for x in v])


def dot(g: Graph, a, b):
    return g.let(_add([_mul(a[i], b[i]) for i in range(3)]))


def matvec(g: Graph, m, v):
    return g.letv([_add([_mul(m[i][k], v[k]) for k in range(3)]) for i in range(3)])


def matTvec(g: Graph, m, v):
    return g.letv([_add([_mul(m[k][i], v[k]) for k in range(3)]) for i in range(3)])


def matmul(g: Graph, a, b):
    return [[g.let(_add([_mul(a[i][k], b[k][j]) for k in range(3)])) for j in range(3)] for i in range(3)]


def numeric_matrix(r: np.ndarray):
    return [[num(r[i, j]) for j in range(3)] for i in range(3)]


def is_identity(r: np.ndarray) -> bool:
    return bool(np.allclose(r, np.eye(3), atol=1e-15, rtol=0))


def axis_rotation(axis: np.ndarray, c, s):
    """Rotation matrix about a unit ``axis`` (numeric) with cos/sin symbols ``c``, ``s``.

    Principal axes give the exact sparse pattern; other axes use Rodrigues' formula.
    """
    k = [num(a) for a in axis]
    nz = [i for i in range(3) if k[i] != 0]
    if len(nz) == 1:
        i = nz[0]
        sign = k[i]
        j, l = (i + 1) % 3, (i + 2) % 3
        r = [[sp.Integer(0)] * 3 for _ in range(3)]
        r[i][i] = sp.Integer(1)
        r[j][j] = c
        r[l][l] = c
        r[l][j] = sign * s
        r[j][l] = -sign * s
        return r
    kx = [[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]]
    one_c = 1 - c
    return [[(c if i == j else 0) + s * kx[i][j] + one_c * k[i] * k[j] for j in range(3)] for i in range(3)]


def body_inertials(g: Graph, body):
    """A body's mass, centre of mass (its frame) and rotational inertia about the centre of mass
    (3x3, its frame), each bound to one graph symbol: ``(m, c, Ic)``."""
    m = g.let(body.mass)
    c = g.letv(body.com)
    ixx, iyy, izz, ixy, ixz, iyz = g.letv(body.inertia)
    return m, c, [[ixx, ixy, ixz], [ixy, iyy, iyz], [ixz, iyz, izz]]
