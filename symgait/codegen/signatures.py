"""The batched kernels every generated model provides: per-sample argument lists and sizes.

This table is the one place that names a kernel's inputs and outputs; the generator writes it
into each model's manifest and the launchers, and the runtime reads it from the manifest.
"""
from __future__ import annotations


def kernel_signatures(n: int, nc: int, npar: int, npts: int) -> dict:
    """name -> {"inputs": [[arg, size]], "outputs": [[arg, size]], "work": size}"""
    ID_IN = [["q", n], ["qd", n], ["qdd", n], ["w", 6 * nc], ["p", npar]]
    FD_IN = [["q", n], ["qd", n], ["tau", n], ["w", 6 * nc], ["p", npar]]
    QP = [["q", n], ["p", npar]]
    nwork = n * n + 2 * n
    return {
        "inverse_dynamics": {"inputs": ID_IN, "outputs": [["tau", n]], "work": 0},
        "root_residual": {"inputs": ID_IN, "outputs": [["res", 6]], "work": 0},
        "mass_matrix": {"inputs": QP, "outputs": [["M", n * n]], "work": 0},
        "inverse_dynamics_derivatives": {
            "inputs": ID_IN, "work": 0,
            "outputs": [["tau", n], ["dq", n * n], ["dqd", n * n], ["dw", n * 6 * nc], ["dp", n * npar]]},
        "inverse_dynamics_vjp": {
            "inputs": ID_IN + [["mu", n]], "work": 0,
            "outputs": [["gq", n], ["gqd", n], ["gqdd", n], ["gw", 6 * nc], ["gp", npar]]},
        "points": {"inputs": QP, "outputs": [["out", 3 * npts]], "work": 0},
        "point_jacobians": {"inputs": QP, "outputs": [["out", 3 * npts * n]], "work": 0},
        "contact_points": {"inputs": QP, "outputs": [["out", 3 * nc]], "work": 0},
        "contact_jacobians": {"inputs": QP, "outputs": [["out", 6 * nc * n]], "work": 0},
        "forward_dynamics": {"inputs": FD_IN, "outputs": [["qdd", n]], "work": nwork},
        "forward_dynamics_derivatives": {
            "inputs": FD_IN, "work": nwork,
            "outputs": [["qdd", n], ["dq", n * n], ["dqd", n * n], ["dtau", n * n], ["dw", n * 6 * nc],
                        ["dp", n * npar]]},
        "forward_dynamics_vjp": {
            "inputs": FD_IN + [["g", n]], "work": nwork,
            "outputs": [["qdd", n], ["gq", n], ["gqd", n], ["gtau", n], ["gw", 6 * nc], ["gp", npar]]},
    }
