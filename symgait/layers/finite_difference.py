"""Velocities and accelerations from sampled coordinates, consistent with the forward layer."""
from __future__ import annotations

from ..errors import InputError

SCHEMES = ("semi_implicit_euler", "central")


def finite_difference_velocities(q, dt: float, scheme: str = "semi_implicit_euler"):
    """q̇ and q̈ from coordinates sampled every ``dt`` seconds.

    ``q``: (..., K, n) with K >= 3 samples along the second-to-last axis (numpy array or torch
    tensor; differentiable under autograd). Returns ``(q_mid, qd, qdd)``, each (..., K-2, n), at
    the interior samples k = 1 .. K-2 (endpoints have no second difference).

    ``scheme="semi_implicit_euler"`` (default), the exact inverse of the forward layer's
    ``integrator="semi_implicit_euler"`` with ``substeps=1``::

        qd_k  = (q_k - q_{k-1}) / dt
        qdd_k = (q_{k+1} - 2 q_k + q_{k-1}) / dt**2   ( = (qd_{k+1} - qd_k) / dt )

    *Consistent* means: if ``x = ForwardDynamics(model, dt, integrator="semi_implicit_euler")(x0,
    tau, w, p)`` and ``q = x[..., :n]``, then ``qd_k`` equals the layer's velocity ``x[:, k, n:]``
    and ``qdd_k`` equals the acceleration the layer applied in frame k,
    ``FD(q_k, qd_k, tau_k, w_k, p)`` (both up to rounding), because the layer steps
    ``qd_{k+1} = qd_k + dt qdd_k`` and then ``q_{k+1} = q_k + dt qd_{k+1}``. Hence
    ``InverseDynamics`` at (q_mid, qd, qdd) with the frames' wrenches returns a zero residual and
    the applied torques. (With ``substeps > 1`` or ``"rk4"`` the layer's motion is smooth and
    these differences are O(dt) / O(dt^2) approximations of the true velocity/acceleration.)

    ``scheme="central"``: ``qd_k = (q_{k+1} - q_{k-1}) / (2 dt)`` (second-order accurate, for
    measured motion) with the same ``qdd_k``.
    """
    if scheme not in SCHEMES:
        raise InputError(f"scheme must be one of {SCHEMES}, got {scheme!r}")
    try:
        dt = float(dt)
    except (TypeError, ValueError):
        raise InputError(f"dt must be a positive number of seconds, got {dt!r}") from None
    if not dt > 0:
        raise InputError(f"dt must be positive, got {dt}")
    shape = getattr(q, "shape", None)
    if shape is None or len(shape) < 2:
        raise InputError(f"q must be an array (..., K, n) of samples, got {type(q).__name__} {shape}")
    if shape[-2] < 3:
        raise InputError(f"q has {shape[-2]} samples along axis -2; need at least 3 for a second difference")
    prev, mid, nxt = q[..., :-2, :], q[..., 1:-1, :], q[..., 2:, :]
    if scheme == "semi_implicit_euler":
        qd = (mid - prev) / dt
    else:
        qd = (nxt - prev) / (2 * dt)
    qdd = (nxt - 2 * mid + prev) / (dt * dt)
    return mid, qd, qdd
