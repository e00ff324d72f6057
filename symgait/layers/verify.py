"""``symgait verify MODEL``: every generated derivative and both layers against central differences.

Usable on one's own models::

    from symgait.layers.verify import verify
    report = verify("my_model.yaml", generated="generated/my_model", samples=4)
    assert report.ok

What is checked (random states, ``samples`` per check; central differences of the function that the
derivative claims to differentiate -- fourth-order stencil, steps ``1e-3 * max(1, |x|)`` for the
kernels and ``1e-5 * max(1, |x|)`` for the layers' trajectories, always
evaluated in float64; with ``dtype="float32"`` the derivatives under test are computed in float32 at
the same, float32-representable, inputs, so the check measures the float32 kernels' own error):

* ``inverse_dynamics_derivatives`` (d/dq, qd, qdd, w, p) vs differences of ``inverse_dynamics``;
* ``forward_dynamics_derivatives`` (d/dq, qd, tau, w, p) vs differences of ``forward_dynamics``;
* ``inverse_dynamics_vjp``, ``forward_dynamics_vjp``, ``root_residual_vjp``: ``v^T J`` against
  ``v^T`` (differenced Jacobian) for a random ``v``, and ``forward_dynamics_vjp``'s ``qdd`` output;
* ``point_jacobians`` vs differences of ``points``; the linear rows of ``contact_jacobians`` vs
  differences of ``contact_points``; all of ``contact_jacobians`` (linear and angular) vs
  ``-(dID/dw)^T`` differenced (virtual work: ID contains ``-sum_c J_c^T w_c``);
* ``ForwardDynamics`` (rk4 and semi-implicit Euler, 2 substeps, T=2) in both gradient modes: the
  gradient of ``<G, x>`` w.r.t. x0, tau, w, p vs differences of the layer's forward pass, and the
  sensitivity / adjoint agreement;
* ``InverseDynamics`` (residual and joint torques): gradients w.r.t. q, qd, qdd, w, p.

Errors per quantity: ``abs = max |analytic - differenced|``, ``rel = abs / max(1, max |differenced|)``;
a row passes when ``rel <= tol`` (default 1e-6 in float64, 1e-4 in float32).

A model with quaternion joints is checked on its configuration space: random q with unit
quaternions, and every derivative with respect to q (kernels, x0's q, the inverse layer's q) against
differences along the tangent directions, q ⊕ ±h e_k (:mod:`symgait.runtime.manifold`), the layers'
gradients of q taken to the tangent space (Jᵀ g).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import torch

from ..errors import InputError
from ..runtime.manifold import ConfigurationSpace
from ._common import resolve_kernels
from .forward import ForwardDynamics
from .inverse import InverseDynamics

DEFAULT_TOL = {"float64": 1e-6, "float32": 1e-4}
EPS = 1e-3  # relative step of the fourth-order central differences of the kernels (float64)
EPS_LAYERS = 1e-5  # ... of the layers (a trajectory is far more nonlinear in its inputs than one kernel call)


@dataclass
class Row:
    quantity: str
    abs_err: float
    rel_err: float
    tol: float

    @property
    def ok(self) -> bool:
        return bool(np.isfinite(self.rel_err) and self.rel_err <= self.tol)


@dataclass
class Report:
    model: str
    dtype: str
    rows: list = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.rows)

    @property
    def exit_code(self) -> int:
        return 0 if self.ok else 1

    def table(self) -> str:
        w = max([len(r.quantity) for r in self.rows] + [8])
        lines = [f"{'quantity':{w}s}  {'max abs err':>12s}  {'max rel err':>12s}  {'tol':>8s}  result",
                 "-" * (w + 50)]
        for r in self.rows:
            lines.append(f"{r.quantity:{w}s}  {r.abs_err:12.3e}  {r.rel_err:12.3e}  {r.tol:8.1e}  "
                         f"{'pass' if r.ok else 'FAIL'}")
        nfail = sum(not r.ok for r in self.rows)
        lines.append(f"model {self.model} ({self.dtype}): {len(self.rows) - nfail}/{len(self.rows)} checks pass")
        return "\n".join(lines)


def _compare(name, analytic, reference, tol) -> Row:
    a = np.asarray(analytic, dtype=np.float64)
    b = np.asarray(reference, dtype=np.float64)
    if a.shape != b.shape:
        raise AssertionError(f"{name}: shapes differ, {a.shape} vs {b.shape}")
    if a.size == 0:
        return Row(name, 0.0, 0.0, tol)
    err = float(np.abs(a - b).max())
    return Row(name, err, err / max(1.0, float(np.abs(b).max())), tol)


def _fd_jacobian(f, args: dict, name: str, eps: float, floor: float = 1.0):
    """Central-difference Jacobian of f(**args) -> (B, *out) w.r.t. args[name] (B, *in), per sample
    (samples are independent: every sample's entry j is perturbed at once). Fourth-order central
    stencil [f(x-2h) - 8 f(x-h) + 8 f(x+h) - f(x+2h)] / 12h with h = eps * max(floor, |x_j|): truncation
    O(h^4), so that h can be large enough to keep rounding (amplified by ill-conditioned mass
    matrices, e.g. light toes) far below the tolerance. Returns (B, out, in)."""
    x = args[name]
    B = x.shape[0]
    flat = x.reshape(B, -1)
    cols = []
    for j in range(flat.shape[1]):
        step = eps * np.maximum(floor, np.abs(flat[:, j]))
        vals = []
        for c in (-2, -1, 1, 2):
            xc = flat.copy()
            xc[:, j] = flat[:, j] + c * step
            vals.append(np.asarray(f(**{**args, name: xc.reshape(x.shape)}), dtype=np.float64).reshape(B, -1))
        d = (vals[0] - 8 * vals[1] + 8 * vals[2] - vals[3]) / (12 * step[:, None])
        cols.append(d)
    if not cols:  # an empty input (no contacts, nothing actuated)
        return np.zeros((B, np.asarray(f(**args)).reshape(B, -1).shape[1], 0))
    return np.stack(cols, 2)


def _states(model, B, rng, dtype):
    """Random states and per-sample parameters, float64 arrays holding ``dtype``-representable values
    (unit quaternions: to the precision of ``dtype``)."""
    n, nc = model.nv, model.n_contacts
    p0 = model.parameters()
    # per-sample parameters: the defaults scaled by up to +-10 % (kept physical)
    p = p0[None] * rng.uniform(0.9, 1.1, (B, 1))
    s = dict(q=ConfigurationSpace.of(model).normalize(rng.uniform(-0.5, 0.5, (B, model.nq))),
             qd=rng.uniform(-1.0, 1.0, (B, n)), qdd=rng.uniform(-2.0, 2.0, (B, n)),
             tau=rng.uniform(-20.0, 20.0, (B, n)), w=rng.normal(0.0, 30.0, (B, nc, 6)), p=p)
    return {k: v.astype(dtype).astype(np.float64) for k, v in s.items()}


def _on_tangent(f, args: dict, name: str, space, width: int):
    """(f', args') with args[name]'s configurations (the first nq entries of its last axis, of ``width``)
    replaced by tangent offsets at them (zeros, nv entries for q's nq): f' moves them by ``integrate``
    (the rest of the last axis, a velocity, by addition). For differences along the tangent space."""
    base = args[name]
    nq, nv = space.nq, space.nv

    def moved(d):
        q = space.integrate(base[..., :nq].reshape(-1, nq), d[..., :nv].reshape(-1, nv)).reshape(base.shape[:-1] + (nq,))
        return np.concatenate([q, base[..., nq:] + d[..., nv:]], -1)
    zeros = np.zeros(base.shape[:-1] + (width - nq + nv,))
    return (lambda **a: f(**{**a, name: moved(a[name])})), {**args, name: zeros}


def _to_tangent(g, x, space):
    """A gradient with respect to x (..., nq [+ nv]) -> the tangent space at x's configurations."""
    nq = space.nq
    gq = space.gradient_to_tangent(x[..., :nq].reshape(-1, nq), g[..., :nq].reshape(-1, nq))
    return np.concatenate([gq.reshape(g.shape[:-1] + (space.nv,)), g[..., nq:]], -1)


def _cast(d: dict, dtype) -> dict:
    return {k: v.astype(dtype) for k, v in d.items()}


def check_kernels(model, k, dtype="float64", samples=4, seed=0, tol=None, eps=EPS) -> list:
    """Rows for every generated derivative kernel of ``k`` (a Kernels object)."""
    tol = DEFAULT_TOL[dtype] if tol is None else tol
    rng = np.random.default_rng(seed)
    s = _states(model, samples, rng, np.dtype(dtype))  # float64; the kernels under test get _cast(., dtype)
    B, n = samples, model.nv
    space = ConfigurationSpace.of(model)
    rows = []

    def jac(f, args, names):
        out = {}
        for a in names:
            if a == "q" and space.joints:  # along the tangent directions
                out[a] = _fd_jacobian(*_on_tangent(f, args, "q", space, space.nq), "q", eps)
            else:
                out[a] = _fd_jacobian(f, args, a, eps)
        return out

    def rnd(*shape):
        return rng.normal(size=shape).astype(dtype)

    def cast(args):
        return _cast(args, dtype)

    # inverse dynamics
    id_args = {a: s[a] for a in ("q", "qd", "qdd", "w", "p")}
    J_id = jac(lambda **a: k.inverse_dynamics(**a), id_args, id_args)
    d = k.inverse_dynamics_derivatives(**cast(id_args))
    for a in id_args:
        rows.append(_compare(f"inverse_dynamics_derivatives d/d{a}", d[f"dtau_d{a}"].reshape(B, n, -1), J_id[a], tol))
    mu = rnd(B, n)
    v = k.inverse_dynamics_vjp(**cast(id_args), mu=mu)
    for a in id_args:
        rows.append(_compare(f"inverse_dynamics_vjp {a}", v[f"grad_{a}"].reshape(B, -1),
                             np.einsum("bi,bij->bj", mu.astype(np.float64), J_id[a]), tol))
    # root residual
    J_rr = jac(lambda **a: k.root_residual(**a), id_args, id_args)
    nu = rnd(B, 6)
    v = k.root_residual_vjp(**cast(id_args), nu=nu)
    for a in id_args:
        rows.append(_compare(f"root_residual_vjp {a}", v[f"grad_{a}"].reshape(B, -1),
                             np.einsum("bi,bij->bj", nu.astype(np.float64), J_rr[a]), tol))
    # forward dynamics
    fd_args = {a: s[a] for a in ("q", "qd", "tau", "w", "p")}
    J_fd = jac(lambda **a: k.forward_dynamics(**a), fd_args, fd_args)
    d = k.forward_dynamics_derivatives(**cast(fd_args))
    qdd = k.forward_dynamics(**fd_args)
    rows.append(_compare("forward_dynamics_derivatives qdd", d["qdd"], qdd, tol))
    for a in fd_args:
        rows.append(_compare(f"forward_dynamics_derivatives d/d{a}", d[f"dqdd_d{a}"].reshape(B, n, -1), J_fd[a], tol))
    g = rnd(B, n)
    v = k.forward_dynamics_vjp(**cast(fd_args), g=g)
    rows.append(_compare("forward_dynamics_vjp qdd", v["qdd"], qdd, tol))
    for a in fd_args:
        rows.append(_compare(f"forward_dynamics_vjp {a}", v[f"grad_{a}"].reshape(B, -1),
                             np.einsum("bi,bij->bj", g.astype(np.float64), J_fd[a]), tol))
    # points and contacts
    qp = {"q": s["q"], "p": s["p"]}
    if model.points:
        Jp = jac(lambda **a: k.points(**a), qp, ["q"])["q"]
        rows.append(_compare("point_jacobians", k.point_jacobians(**cast(qp)).reshape(B, -1, n), Jp, tol))
    if model.n_contacts:
        nc = model.n_contacts
        Jc = k.contact_jacobians(**cast(qp))  # (B, nc, 6, n)
        Jcp = jac(lambda **a: k.contact_points(**a), qp, ["q"])["q"]
        rows.append(_compare("contact_jacobians (linear) vs contact_points", Jc[:, :, :3].reshape(B, -1, n), Jcp, tol))
        # virtual work: d ID / d w_c = -J_c^T  ->  J_c = -(d ID / d w_c)^T
        Jw = -J_id["w"].reshape(B, n, nc, 6).transpose(0, 2, 3, 1)
        rows.append(_compare("contact_jacobians vs -(dID/dw)^T", Jc, Jw, tol))
    return rows


def check_layers(model, k, dtype="float64", samples=2, seed=1, tol=None, eps=EPS_LAYERS, T=2, substeps=2,
                 dt=0.01) -> list:
    """Rows for both layers (forward: both integrators, both gradient modes); gradients in ``dtype``,
    central differences of the layers' forward passes in float64."""
    tol = DEFAULT_TOL[dtype] if tol is None else tol
    rng = np.random.default_rng(seed)
    s = _states(model, samples, rng, np.dtype(dtype))
    B, n, na, nc = samples, model.nv, model.n_actuated, model.n_contacts
    space = ConfigurationSpace.of(model)
    rows = []
    x0 = np.concatenate([s["q"], s["qd"]], 1)
    tau = rng.uniform(-20, 20, (B, T, na))
    w = rng.normal(0, 30, (B, T, nc, 6))
    inputs = _cast(_cast({"x0": x0, "tau": tau, "w": w, "p": s["p"]}, dtype), np.float64)
    G = rng.normal(size=(B, T + 1, model.nq + n)).astype(dtype).astype(np.float64)

    def fd_of(f, args, a, floor=1.0, width=None):
        """Differences of f w.r.t. args[a]; a configuration (x0, q) of a quaternion model along the tangent
        space (its analytic gradient then goes through :func:`_to_tangent`)."""
        if width is not None and space.joints:
            return _fd_jacobian(*_on_tangent(f, args, a, space, width), a, eps, floor)
        return _fd_jacobian(f, args, a, eps, floor)

    def grad_of(g, x, configuration):
        return _to_tangent(g, x, space) if configuration and space.joints else g
    for integ in ("rk4", "semi_implicit_euler"):
        grads = {}
        for mode in ("sensitivity", "adjoint"):
            layer = ForwardDynamics(k, dt, substeps=substeps, integrator=integ, gradient=mode)
            ts = {a: torch.from_numpy(v.astype(dtype)).requires_grad_() for a, v in inputs.items()}
            (layer(**ts) * torch.from_numpy(G.astype(dtype))).sum().backward()
            grads[mode] = {a: t.grad.numpy().astype(np.float64) for a, t in ts.items()}
        Gt = torch.from_numpy(G)

        def loss(**a):
            with torch.no_grad():
                x = layer(**{kk: torch.from_numpy(np.ascontiguousarray(v)) for kk, v in a.items()})
                return (x * Gt).sum((1, 2)).numpy()[:, None]
        for a in inputs:
            # parameters: a step relative to the value (small inertias: an absolute 1e-5 on a toe's
            # 1e-4 kg m^2 is a 10 % change, and a 2-step trajectory is far from linear over it)
            fd = fd_of(loss, inputs, a, floor=1e-3 if a == "p" else 1.0,
                       width=x0.shape[1] if a == "x0" else None)[:, 0]
            for mode in ("sensitivity", "adjoint"):
                g = grad_of(grads[mode][a], inputs["x0"], a == "x0")
                rows.append(_compare(f"ForwardDynamics {integ} {mode} d/d{a}", g.reshape(B, -1), fd, tol))
        agree = max(_compare("", grads["sensitivity"][a], grads["adjoint"][a], tol).rel_err for a in inputs)
        rows.append(Row(f"ForwardDynamics {integ} sensitivity vs adjoint", agree, agree,
                        1e-10 if dtype == "float64" else tol))
    # inverse layer
    layer = InverseDynamics(k)
    Tn = T + 1
    iargs = {"q": space.normalize(rng.uniform(-0.5, 0.5, (B, Tn, model.nq))), "qd": rng.uniform(-1, 1, (B, Tn, n)),
             "qdd": rng.uniform(-2, 2, (B, Tn, n)), "w": rng.normal(0, 30, (B, Tn, nc, 6)), "p": s["p"]}
    iargs = _cast(_cast(iargs, dtype), np.float64)
    for what, fn, width in (("residual", layer.forward, 6), ("joint_torques", layer.joint_torques, na)):
        Gi = rng.normal(size=(B, Tn, width)).astype(dtype).astype(np.float64)
        ts = {a: torch.from_numpy(v.astype(dtype)).requires_grad_() for a, v in iargs.items()}
        (fn(**ts) * torch.from_numpy(Gi.astype(dtype))).sum().backward()

        def iloss(**a):
            with torch.no_grad():
                out = fn(**{kk: torch.from_numpy(np.ascontiguousarray(v)) for kk, v in a.items()})
                return (out * torch.from_numpy(Gi)).sum((1, 2)).numpy()[:, None]
        for a in iargs:
            fd = fd_of(iloss, iargs, a, width=model.nq if a == "q" else None)[:, 0]
            g = grad_of(ts[a].grad.numpy().astype(np.float64), iargs["q"], a == "q")
            rows.append(_compare(f"InverseDynamics {what} d/d{a}", g.reshape(B, -1), fd, tol))
    return rows


def verify(model, dtype: str = "float64", samples: int = 4, generated=None, tol: float | None = None,
           layers: bool = True, seed: int = 0, log=print) -> Report:
    """Check a model's generated derivatives (and the layers) against central differences.

    ``model``: a Model, a built-in name, a YAML path or a Kernels object; ``generated``: directory
    of its generated code if not ``generated/<name>/``. Prints the table with ``log`` (None: quiet)
    and returns a :class:`Report` (``.ok``, ``.rows``, ``.exit_code``, ``.table()``).
    """
    if dtype not in DEFAULT_TOL:
        raise InputError(f"dtype must be 'float64' or 'float32', got {dtype!r}")
    if int(samples) < 1:
        raise InputError(f"samples must be >= 1, got {samples}")
    t0 = time.perf_counter()
    m, k = resolve_kernels(model, generated)
    report = Report(m.name, dtype)
    report.rows += check_kernels(m, k, dtype, int(samples), seed, tol)
    if layers:
        report.rows += check_layers(m, k, dtype, min(int(samples), 2), seed + 1, tol)
    if log is not None:
        log(report.table())
        log(f"({time.perf_counter() - t0:.1f} s, {samples} samples, including kernel compilation)")
    return report


