"""A quick physical and numerical self-check of a model's generated kernels (``symgait check``)."""
from __future__ import annotations

import time

import numpy as np

from ..model import load_model
from .kernels import kernels
from .manifold import ConfigurationSpace


def random_state(model, batch: int, seed: int = 0, scale: float = 0.5):
    rng = np.random.default_rng(seed)
    n, nc = model.nv, model.n_contacts
    q = ConfigurationSpace.of(model).normalize(rng.uniform(-scale, scale, (batch, model.nq)))
    qd = rng.uniform(-1.0, 1.0, (batch, n))
    qdd = rng.uniform(-2.0, 2.0, (batch, n))
    w = rng.normal(0.0, 50.0, (batch, nc, 6))
    return q, qd, qdd, w


def selfcheck(name_or_path, log=print, batch: int = 8, generated=None) -> int:
    """Returns 0 if every check passes, 1 otherwise; prints a table."""
    t0 = time.perf_counter()
    m = load_model(name_or_path)
    k = kernels(m, generated=generated)
    p = m.parameters()
    q, qd, qdd, w = random_state(m, batch)
    tau = k.inverse_dynamics(q, qd, qdd, w, p)
    t1 = time.perf_counter()
    rows = []
    M = k.mass_matrix(q, p)
    rows.append(("M symmetric", np.abs(M - M.transpose(0, 2, 1)).max(), 1e-9))
    rows.append(("M positive definite (-min eig)", -min(np.linalg.eigvalsh(M).min(), 0.0), 0.0))
    rows.append(("FD(ID(qdd)) = qdd", np.abs(k.forward_dynamics(q, qd, tau, w, p) - qdd).max(), 1e-8))
    J = k.contact_jacobians(q, p)
    dID = k.inverse_dynamics_derivatives(q, qd, qdd, w, p)
    n = m.nv
    rows.append(("dID/dw = -J^T", np.abs(dID["dtau_dw"].reshape(batch, n, -1)
                                         + J.reshape(batch, -1, n).transpose(0, 2, 1)).max(), 1e-9))
    eps = 1e-6
    j = n - 1
    dq = np.zeros(n)
    dq[j] = eps  # along the tangent direction j (q + dq for one-coordinate joints)
    fd = (k.inverse_dynamics(k.integrate(q, dq), qd, qdd, w, p)
          - k.inverse_dynamics(k.integrate(q, -dq), qd, qdd, w, p)) / (2 * eps)
    rows.append((f"dID/dq[:, {j}] vs central differences", np.abs(fd - dID["dtau_dq"][:, :, j]).max()
                 / max(1.0, np.abs(fd).max()), 1e-6))
    ok = True
    log(f"{'check':40s} {'error':>12s} {'tolerance':>10s}  result")
    for name, err, tol in rows:
        good = err <= tol
        ok &= good
        log(f"{name:40s} {err:12.3e} {tol:10.1e}  {'pass' if good else 'FAIL'}")
    log(f"model {m.name}: {m.nv} DOF; load+compile {t1 - t0:.1f} s, checks {time.perf_counter() - t1:.1f} s")
    return 0 if ok else 1
