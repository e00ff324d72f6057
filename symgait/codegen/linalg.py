"""Generated sparse LTDL factorization and solves of the joint-space inertia matrix.

Featherstone's LTDL (Rigid Body Dynamics Algorithms, sec. 6.5): M = L^T D L with L unit lower
triangular and L[i, j] != 0 only where j is an ancestor of i (``parent`` = the coordinate parent
array, parents before children). The factorization causes no fill-in; the loops over ancestors
are unrolled at generation time, so the code touches only the tree's non-zeros.
"""
from __future__ import annotations


def _ancestors(parent, i):
    j = parent[i]
    while j != -1:
        yield j
        j = parent[j]


def factor_source(parent: list[int]) -> tuple[list[str], int]:
    """Statements that factor H (flat n*n, lower triangle of M) in place."""
    n = len(parent)
    out, ops = [], 0
    for k in reversed(range(n)):
        for i in _ancestors(parent, k):
            out.append(f"a = H[{k * n + i}]/H[{k * n + k}]")
            ops += 1
            for j in [i] + list(_ancestors(parent, i)):
                out.append(f"H[{i * n + j}] -= a*H[{k * n + j}]")
                ops += 2
            out.append(f"H[{k * n + i}] = a")
    return out, ops


def solve_source(parent: list[int]) -> tuple[list[str], int]:
    """Statements that overwrite column ``col`` of X (flat, ``ncol`` columns) with M^-1 X[:, col]."""
    n = len(parent)
    out, ops = [], 0
    for i in reversed(range(n)):
        for j in _ancestors(parent, i):
            out.append(f"X[{j}*ncol + col] -= H[{i * n + j}]*X[{i}*ncol + col]")
            ops += 2
    for i in range(n):
        out.append(f"X[{i}*ncol + col] /= H[{i * n + i}]")
        ops += 1
    for i in range(n):
        for j in _ancestors(parent, i):
            out.append(f"X[{i}*ncol + col] -= H[{i * n + j}]*X[{j}*ncol + col]")
            ops += 2
    return out, ops
