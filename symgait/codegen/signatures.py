"""The batched kernels every generated model provides: per-sample argument lists and sizes.

This table is the one place that names a kernel's inputs and outputs; the generator writes it
into each model's manifest and the launchers, and the runtime reads it from the manifest.
"""
from __future__ import annotations


def kernel_signatures(n: int, nc: int, npar: int, npts: int, nwork: dict) -> dict:
    """name -> {"inputs": [[arg, size]], "outputs": [[arg, size]], "work": size}; every device function
    takes a trailing per-sample ``work`` array of size ``nwork[name]`` (from the code generator)."""
    ID_IN = [["q", n], ["qd", n], ["qdd", n], ["w", 6 * nc], ["p", npar]]
    FD_IN = [["q", n], ["qd", n], ["tau", n], ["w", 6 * nc], ["p", npar]]
    QP = [["q", n], ["p", npar]]
    sigs = {
        "inverse_dynamics": {"inputs": ID_IN, "outputs": [["tau", n]]},
        "root_residual": {"inputs": ID_IN, "outputs": [["res", 6]]},
        "mass_matrix": {"inputs": QP, "outputs": [["M", n * n]]},
        "inverse_dynamics_derivatives": {
            "inputs": ID_IN,
            "outputs": [["tau", n], ["dq", n * n], ["dqd", n * n], ["dw", n * 6 * nc]]},
        "inverse_dynamics_parameter_derivatives": {"inputs": ID_IN, "outputs": [["dp", n * npar]]},
        "inverse_dynamics_vjp": {
            "inputs": ID_IN + [["mu", n]],
            "outputs": [["gq", n], ["gqd", n], ["gqdd", n], ["gw", 6 * nc], ["gp", npar]]},
        "root_residual_vjp": {
            "inputs": ID_IN + [["nu", 6]],
            "outputs": [["gq", n], ["gqd", n], ["gqdd", n], ["gw", 6 * nc], ["gp", npar]]},
        "points": {"inputs": QP, "outputs": [["out", 3 * npts]]},
        "point_jacobians": {"inputs": QP, "outputs": [["out", 3 * npts * n]]},
        "contact_points": {"inputs": QP, "outputs": [["out", 3 * nc]]},
        "contact_jacobians": {"inputs": QP, "outputs": [["out", 6 * nc * n]]},
        "forward_dynamics": {"inputs": FD_IN, "outputs": [["qdd", n]]},
        "forward_dynamics_derivatives": {
            "inputs": FD_IN,
            "outputs": [["qdd", n], ["dq", n * n], ["dqd", n * n], ["dtau", n * n], ["dw", n * 6 * nc]]},
        "forward_dynamics_parameter_derivatives": {"inputs": FD_IN, "outputs": [["dp", n * npar]]},
        "forward_dynamics_vjp": {
            "inputs": FD_IN + [["g", n]],
            "outputs": [["qdd", n], ["gq", n], ["gqd", n], ["gtau", n], ["gw", 6 * nc], ["gp", npar]]},
    }
    for name, sig in sigs.items():
        sig["work"] = nwork[name]
    return sigs
