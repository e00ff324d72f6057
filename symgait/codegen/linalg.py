"""Sparse LTDL factorization and solve of the joint-space inertia matrix (generated device code).

Featherstone's LTDL (Rigid Body Dynamics Algorithms, sec. 6.5): M = L^T D L with L unit lower
triangular and L[i, j] != 0 only where j is an ancestor of i (``PARENT`` = the coordinate parent
array, parents before children). The factorization causes no fill-in, and the cost is
O(sum of depths^2) rather than O(n^3). Both are written out for the model's tree (straight-line
code: the ancestor walks are unrolled at generation time), so that they compile to native code
like the kernels and run without index arithmetic. The solve works on one contiguous vector; the
forward-dynamics functions solve many right-hand sides by calling it on the rows of a transposed
copy.
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


def _chain(parent, i):
    """i's proper ancestors, nearest first."""
    out, j = [], parent[i]
    while j != -1:
        out.append(j)
        j = parent[j]
    return out


def linalg_source(parent: list[int]) -> tuple[str, dict]:
    n = len(parent)
    fac, fac_ops = [], 0
    for k in range(n - 1, -1, -1):
        for i in _chain(parent, k):
            fac.append(f"    a = H[{k * n + i}]/H[{k * n + k}]")
            for j in [i] + _chain(parent, i):
                fac.append(f"    H[{i * n + j}] = H[{i * n + j}] - a*H[{k * n + j}]")
            fac.append(f"    H[{k * n + i}] = a")
            fac_ops += 1 + 2 * (1 + len(_chain(parent, i)))
    sol, sol_ops = [], 0
    for i in range(n - 1, -1, -1):  # x <- L^-T x
        for j in _chain(parent, i):
            sol.append(f"    x[{j}] = x[{j}] - H[{i * n + j}]*x[{i}]")
            sol_ops += 2
    for i in range(n):  # x <- D^-1 x
        sol.append(f"    x[{i}] = x[{i}]/H[{i * n + i}]")
        sol_ops += 1
    for i in range(n):  # x <- L^-1 x
        for j in _chain(parent, i):
            sol.append(f"    x[{i}] = x[{i}] - H[{i * n + j}]*x[{j}]")
            sol_ops += 2
    src = "\n".join([
        "",
        "def ltdl_factor(H):",
        '    """In-place sparse L^T D L factorization of the mass matrix H (flat NQ*NQ, lower triangle)."""',
        *fac,
        "    return",
        "",
        "",
        "def ltdl_solve(H, x):",
        '    """Overwrite the vector x with M^-1 x, H from ltdl_factor."""',
        *sol,
        "    return",
        ""])
    return src, {"ltdl_factor": fac_ops, "ltdl_solve": sol_ops}
