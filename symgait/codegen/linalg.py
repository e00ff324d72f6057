"""Sparse LTDL factorization and solves of the joint-space inertia matrix (generated device code).

Featherstone's LTDL (Rigid Body Dynamics Algorithms, sec. 6.5): M = L^T D L with L unit lower
triangular and L[i, j] != 0 only where j is an ancestor of i (``PARENT`` = the coordinate parent
array, parents before children). The factorization causes no fill-in, and the loops walk only the
ancestor chains, so the cost is O(sum of depths^2) rather than O(n^3). The loops are kept as
loops (not unrolled): compile time of Numba grows with every statement, and the ancestor walk is
cheap at run time.
"""
from __future__ import annotations


def ancestor_pairs(parent: list[int]) -> int:
    n = 0
    for i in range(len(parent)):
        j = parent[i]
        while j != -1:
            n += 1
            j = parent[j]
    return n


def linalg_source(parent: list[int]) -> tuple[str, dict]:
    n = len(parent)
    npair = ancestor_pairs(parent)
    fac_ops = 0
    for k in range(n):
        i = parent[k]
        while i != -1:
            d = 1
            j = parent[i]
            while j != -1:
                d += 1
                j = parent[j]
            fac_ops += 1 + 2 * d
            i = parent[i]
    src = f'''
def ltdl_factor(H):
    """In-place sparse L^T D L factorization of the mass matrix H (flat NQ*NQ, lower triangle)."""
    for k in range({n - 1}, -1, -1):
        i = PARENT[k]
        while i != -1:
            a = H[k*{n} + i]/H[k*{n} + k]
            j = i
            while j != -1:
                H[i*{n} + j] -= a*H[k*{n} + j]
                j = PARENT[j]
            H[k*{n} + i] = a
            i = PARENT[i]
    return


def ltdl_solve(H, X, col, ncol):
    """Overwrite column col of X (flat, ncol columns) with M^-1 X[:, col], H from ltdl_factor."""
    for i in range({n - 1}, -1, -1):
        xi = X[i*ncol + col]
        j = PARENT[i]
        while j != -1:
            X[j*ncol + col] -= H[i*{n} + j]*xi
            j = PARENT[j]
    for i in range({n}):
        X[i*ncol + col] /= H[i*{n} + i]
    for i in range({n}):
        j = PARENT[i]
        s = X[i*ncol + col]
        while j != -1:
            s -= H[i*{n} + j]*X[j*ncol + col]
            j = PARENT[j]
        X[i*ncol + col] = s
    return
'''
    return src, {"ltdl_factor": fac_ops, "ltdl_solve": 4 * npair + n}
