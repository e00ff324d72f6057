"""Forward-dynamics layer: integrate the equations of motion over frames, differentiably.

State ``x = [q, qd]`` (2n). Over frame k the inputs (actuated torques ``tau_k``, contact wrenches
``w_k``) and the parameters ``p`` are held constant; ``substeps`` integration steps of
``h = dt / substeps`` map ``x_k`` to ``x_{k+1}``. With ``f(x) = [qd, FD(q, qd, S tau_k, w_k, p)]``
(``S`` scatters the actuated torques into the n generalized forces, zero elsewhere):

* ``"rk4"`` (classical Runge-Kutta): ``X1 = x``, ``X2 = x + h/2 K1``, ``X3 = x + h/2 K2``,
  ``X4 = x + h K3`` with ``Ks = f(Xs)``, and ``x+ = x + h/6 (K1 + 2 K2 + 2 K3 + K4)``.
* ``"semi_implicit_euler"`` (symplectic Euler): ``qd+ = qd + h qdd(q, qd)``, ``q+ = q + h qd+``.

Gradients (``gradient=``):

* ``"sensitivity"``: the forward pass also integrates the variational equation with the same
  scheme (stage by stage, from the generated ``forward_dynamics_derivatives``), so that the stored
  ``Phi_k = dx_{k+1}/dx_k``, ``Gamma_k = dx_{k+1}/d(tau_k, w_k)`` and ``Pi_k = dx_{k+1}/dp`` are
  the exact derivatives of the discrete map; backward: ``lam_T = g_T``,
  ``grad_(tau,w)_k = Gamma_k^T lam_{k+1}``, ``grad_p = sum_k Pi_k^T lam_{k+1}``,
  ``lam_k = g_k + Phi_k^T lam_{k+1}``, ``grad_x0 = lam_0``. Memory O(T n (2n + n_act + 6 n_c + n_p)).
* ``"adjoint"``: the forward pass stores only the stage states; backward runs the discrete adjoint
  of the integrator with the generated reverse-mode products ``forward_dynamics_vjp`` (never an
  n x n Jacobian). Memory O(T n). Same gradients up to rounding.

Every integration stage is one batched kernel launch over the batch (no loop over samples).
"""
from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn
from torch.autograd.function import once_differentiable

from ..errors import InputError
from ._backend import NUMPY, TORCH, check_backend, cuda_kernels, resolve_backend
from ._common import check_all_finite, check_tensor, contact_wrenches, params_tensor, resolve_kernels
from ._manifold_steps import ManifoldSteps

INTEGRATORS = ("rk4", "semi_implicit_euler")
GRADIENTS = ("sensitivity", "adjoint")


class _Engine:
    """The integrator and its two derivative sweeps, written once against an array namespace ``xp``
    (:mod:`symgait.layers._backend`; no autograd inside):

    * CPU (``xp = NUMPY``, ``kernels``: the CPU :class:`Kernels`): numpy arrays. The algebra runs in
      numpy on purpose: its batched matmuls and element-wise updates are small and single-threaded
      there, whereas torch's intra-op thread pool, interleaved with the kernels' launches, costs a
      synchronisation per operation (measured on a busy 2-core machine: 13 ms per torch.bmm of
      (2,10,20)x(2,20,55) with 2 threads, 2 us in numpy).
    * CUDA (``xp = TORCH``, ``kernels``: :class:`~symgait.runtime.cuda.TorchCudaKernels`): torch tensors
      on the inputs' device, every operation queued on the current stream; no host copy per stage.
    """

    def __init__(self, model, kernels, dt: float, substeps: int, integrator: str, xp=NUMPY):
        self.model, self.k, self.xp = model, kernels, xp
        self.n, self.na, self.nc, self.npar = model.nv, model.n_actuated, model.n_contacts, model.n_parameters
        self.act = np.asarray(model.actuated_indices, dtype=np.intp)
        self.dt, self.substeps, self.integrator = dt, substeps, integrator
        self.h = dt / substeps
        self.n_stages = 4 if integrator == "rk4" else 1
        self.nx = self.rec_width = 2 * self.n  # the state's width, and of each stage's record (adjoint)

    # --- helpers -------------------------------------------------------------------------------
    def scatter(self, tau_act):
        out = self.xp.zeros((tau_act.shape[0], self.n), tau_act)
        out[:, self.xp.index(self.act, tau_act)] = tau_act
        return out

    def _kernel(self, name, *args, frame=None):
        try:
            return getattr(self.k, name)(*args)
        except InputError as e:
            where = f" in frame {frame}" if frame is not None else ""
            raise InputError(f"the integration diverged{where} (the state became NaN or inf): reduce dt, raise "
                             f"substeps or check the torques and wrenches [{e}]") from None

    def columns(self, needs) -> dict:
        """Column blocks of the sensitivity matrix D = dx/d[x_k, tau_k, w_k, p] (only those needed)."""
        cols, c = {"x": slice(0, 2 * self.n)}, 2 * self.n
        for name, size, need in (("tau", self.na, needs[1]), ("w", 6 * self.nc, needs[2]),
                                 ("p", self.npar, needs[3])):
            if need:
                cols[name] = slice(c, c + size)
                c += size
        cols["_m"] = c
        return cols

    # --- right-hand side and its derivatives -----------------------------------------------------
    def _f(self, X, tau, w, p, frame):
        n = self.n
        qdd = self._kernel("forward_dynamics", X[:, :n], X[:, n:], tau, w, p, frame=frame)
        return self.xp.cat([X[:, n:], qdd], 1)

    def _df(self, X, D, tau, w, p, cols, frame):
        """K = f(X) and dK = (df/dX) D + df/d(inputs), for a stage state X with sensitivity D."""
        n, B, xp = self.n, X.shape[0], self.xp
        r = self._kernel("forward_dynamics_derivatives", X[:, :n], X[:, n:], tau, w, p, "p" in cols, frame=frame)
        J = xp.cat([r["dqdd_dq"], r["dqdd_dqd"]], 2)  # (B, n, 2n): d qdd / d [q, qd]
        dK = xp.empty_like(D)
        dK[:, :n] = D[:, n:]
        dK[:, n:] = xp.matmul(J, D)
        if "tau" in cols:
            dK[:, n:, cols["tau"]] += r["dqdd_dtau"][:, :, xp.index(self.act, X)]
        if "w" in cols:
            dK[:, n:, cols["w"]] += r["dqdd_dw"].reshape(B, n, 6 * self.nc)
        if "p" in cols:
            dK[:, n:, cols["p"]] += r["dqdd_dp"]
        return xp.cat([X[:, n:], r["qdd"]], 1), dK

    def _vjp(self, X, kbar, tau, w, p, acc):
        """(df/dX)^T kbar; accumulates the input parts into ``acc``."""
        n = self.n
        r = self.k.forward_dynamics_vjp(X[:, :n], X[:, n:], tau, w, p, self.xp.contiguous(kbar[:, n:]))
        acc["tau"] += r["grad_tau"]
        acc["w"] += r["grad_w"]
        acc["p"] += r["grad_p"]
        return self.xp.cat([r["grad_q"], kbar[:, :n] + r["grad_qd"]], 1)

    # --- one integration step ----------------------------------------------------------------
    def step(self, x, tau, w, p, record=None, frame=None):
        h, n = self.h, self.n
        if self.integrator == "rk4":
            X1 = x
            K1 = self._f(X1, tau, w, p, frame)
            X2 = x + (h / 2) * K1
            K2 = self._f(X2, tau, w, p, frame)
            X3 = x + (h / 2) * K2
            K3 = self._f(X3, tau, w, p, frame)
            X4 = x + h * K3
            K4 = self._f(X4, tau, w, p, frame)
            if record is not None:
                record[0], record[1], record[2], record[3] = X1, X2, X3, X4
            return x + (h / 6) * (K1 + 2 * K2 + 2 * K3 + K4)
        if record is not None:
            record[0] = x
        qdd = self._kernel("forward_dynamics", x[:, :n], x[:, n:], tau, w, p, frame=frame)
        qd1 = x[:, n:] + h * qdd
        return self.xp.cat([x[:, :n] + h * qd1, qd1], 1)

    def step_sensitivity(self, x, D, tau, w, p, cols, frame=None):
        h, n = self.h, self.n
        if self.integrator == "rk4":
            K1, dK1 = self._df(x, D, tau, w, p, cols, frame)
            K2, dK2 = self._df(x + (h / 2) * K1, D + (h / 2) * dK1, tau, w, p, cols, frame)
            K3, dK3 = self._df(x + (h / 2) * K2, D + (h / 2) * dK2, tau, w, p, cols, frame)
            K4, dK4 = self._df(x + h * K3, D + h * dK3, tau, w, p, cols, frame)
            dK1 += dK4
            dK2 += dK3
            dK1 += 2 * dK2
            dK1 *= h / 6
            dK1 += D
            return x + (h / 6) * (K1 + 2 * K2 + 2 * K3 + K4), dK1
        K, dK = self._df(x, D, tau, w, p, cols, frame)
        qd1 = x[:, n:] + h * K[:, n:]
        Dqd1 = D[:, n:] + h * dK[:, n:]
        return self.xp.cat([x[:, :n] + h * qd1, qd1], 1), self.xp.cat([D[:, :n] + h * Dqd1, Dqd1], 1)

    def step_adjoint(self, lam, rec, tau, w, p, acc):
        """Adjoint of one step: lam = dL/dx_{+} -> dL/dx (inputs accumulate into ``acc``)."""
        h, n = self.h, self.n
        if self.integrator == "rk4":
            Xb4 = self._vjp(rec[3], (h / 6) * lam, tau, w, p, acc)
            Xb3 = self._vjp(rec[2], (h / 3) * lam + h * Xb4, tau, w, p, acc)
            Xb2 = self._vjp(rec[1], (h / 3) * lam + (h / 2) * Xb3, tau, w, p, acc)
            Xb1 = self._vjp(rec[0], (h / 6) * lam + (h / 2) * Xb2, tau, w, p, acc)
            return lam + Xb1 + Xb2 + Xb3 + Xb4
        lq, lqd = lam[:, :n], lam[:, n:]
        gqd = lqd + h * lq  # dL/d qd_{+}, total
        kbar = self.xp.cat([self.xp.zeros_like(gqd), h * gqd], 1)
        Xb = self._vjp(rec[0], kbar, tau, w, p, acc)
        return self.xp.cat([lq + Xb[:, :n], gqd + Xb[:, n:]], 1)

    # --- whole trajectory ----------------------------------------------------------------------
    def run(self, x0, tau, w, p, mode, needs):
        """Arrays of ``xp`` in -> (xs (B, T+1, 2n), saved arrays for the backward sweep of ``mode``)."""
        B, T = tau.shape[0], tau.shape[1]
        n2, S, xp = 2 * self.n, self.substeps, self.xp  # n2: the state's tangent space
        xs = xp.empty((B, T + 1, self.nx), x0)
        xs[:, 0] = x0
        x = x0
        if mode == "sensitivity":
            cols = self.columns(needs)
            m = cols["_m"]
            sens = xp.empty((T, B, n2, m), x0)
            D0 = xp.zeros((B, n2, m), x0)
            D0[:, :, :n2] = xp.eye(n2, x0)
        elif mode == "adjoint":
            stages = xp.empty((T, S, self.n_stages, B, self.rec_width), x0)
        for k in range(T):
            tk, wk = self.scatter(tau[:, k]), w[:, k]
            if mode == "sensitivity":
                D = D0
                for _ in range(S):
                    x, D = self.step_sensitivity(x, D, tk, wk, p, cols, frame=k)
                sens[k] = D
            else:
                for s in range(S):
                    x = self.step(x, tk, wk, p, record=stages[k, s] if mode == "adjoint" else None, frame=k)
            xs[:, k + 1] = x
        if not xp.all_finite(x):  # CPU: earlier frames are caught by the kernels' input checks
            bad = np.flatnonzero(xp.nonfinite_rows(xs[:, 1:]))  # CUDA: no checks per launch, found here
            raise InputError(f"the integration diverged in frame {int(bad[0]) if bad.size else T - 1} (the state "
                             f"became NaN or inf): reduce dt, raise substeps or check the torques and wrenches")
        if mode == "sensitivity":
            return xs, (sens,)
        if mode == "adjoint":
            return xs, (stages,)
        return xs, ()

    def backward_sensitivity(self, g, sens, needs):
        T, B, n2, m = sens.shape
        cols, xp = self.columns(needs), self.xp
        gtau = xp.zeros((B, T, self.na), g) if "tau" in cols else None
        gw = xp.zeros((B, T, self.nc, 6), g) if "w" in cols else None
        gp = xp.zeros((B, self.npar), g) if "p" in cols else None
        lam = g[:, T]
        for k in reversed(range(T)):
            v = xp.matmul(lam[:, None, :], sens[k])[:, 0]  # (B, m) = lam^T D_k
            if gtau is not None:
                gtau[:, k] = v[:, cols["tau"]]
            if gw is not None:
                gw[:, k] = v[:, cols["w"]].reshape(B, self.nc, 6)
            if gp is not None:
                gp += v[:, cols["p"]]
            lam = g[:, k] + v[:, :n2]
        return lam, gtau, gw, gp

    def backward_adjoint(self, g, stages, tau, w, p):
        T, S = stages.shape[0], stages.shape[1]
        B, xp = g.shape[0], self.xp
        gtau = xp.zeros((B, T, self.na), g)
        gw = xp.zeros((B, T, self.nc, 6), g)
        acc = {"tau": xp.zeros((B, self.n), g), "w": xp.zeros((B, self.nc, 6), g), "p": xp.zeros((B, self.npar), g)}
        act = xp.index(self.act, g)
        lam = g[:, T]
        for k in reversed(range(T)):
            tk, wk = self.scatter(tau[:, k]), w[:, k]
            acc["tau"][:] = 0
            acc["w"][:] = 0
            for s in reversed(range(S)):
                lam = self.step_adjoint(lam, stages[k, s], tk, wk, p, acc)
            gtau[:, k] = acc["tau"][:, act]
            gw[:, k] = acc["w"]
            lam = lam + g[:, k]
        return lam, gtau, gw, acc["p"]


class _ManifoldEngine(ManifoldSteps, _Engine):
    """The engine of a model with quaternion joints: x = [q (nq), v (nv)], q advanced by ``integrate``,
    sensitivities and adjoints in the tangent space (:mod:`symgait.layers._manifold_steps`; CPU)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.setup_manifold()


def _engine_class(model):
    return _ManifoldEngine if model.quaternion_joints else _Engine


class _ForwardDynamicsFn(torch.autograd.Function):
    """x0, tau, w, p -> xs; the backward of the chosen ``mode`` (see the module docstring)."""

    @staticmethod
    def forward(x0, tau, w, p, engine, mode, needs):
        xp = engine.xp
        xs, saved = engine.run(*(xp.from_torch(t) for t in (x0, tau, w, p)), mode, needs)
        return tuple(xp.to_torch(a) for a in (xs,) + tuple(saved))

    @staticmethod
    def setup_context(ctx, inputs, output):
        x0, tau, w, p, engine, mode, needs = inputs
        saved = output[1:]
        ctx.mark_non_differentiable(*saved)
        ctx.save_for_backward(tau, w, p, *saved)
        ctx.engine, ctx.mode, ctx.needs, ctx.p_shared = engine, mode, needs, p.dim() == 1

    @staticmethod
    @once_differentiable
    def backward(ctx, gxs, *_):
        tau, w, p, *saved = ctx.saved_tensors
        eng, needs = ctx.engine, ctx.needs
        xp = eng.xp
        if ctx.mode is None:  # pragma: no cover - no input needed a gradient
            return None, None, None, None, None, None, None
        g = xp.from_torch(gxs.detach().contiguous())
        extra = [xp.from_torch(t) for t in saved[1:]]  # the states, for an engine on a manifold
        if ctx.mode == "sensitivity":
            gx0, gtau, gw, gp = eng.backward_sensitivity(g, xp.from_torch(saved[0]), needs, *extra)
        else:
            gx0, gtau, gw, gp = eng.backward_adjoint(g, xp.from_torch(saved[0]),
                                                     *(xp.from_torch(t) for t in (tau, w, p)), *extra)
        if gp is not None and ctx.p_shared:
            gp = gp.sum(0)
        gx0, gtau, gw, gp = (None if a is None else xp.to_torch_contiguous(a) for a in (gx0, gtau, gw, gp))
        return (gx0 if needs[0] else None, gtau if needs[1] else None, gw if needs[2] else None,
                gp if needs[3] else None, None, None, None)


class ForwardDynamics(nn.Module):
    """Differentiable forward dynamics over frames (see the module docstring for the schemes).

    Args:
        model: a :class:`symgait.Model`, a built-in name / YAML path, or a :class:`Kernels` object.
        dt: frame duration (s); inputs are held constant over each frame.
        substeps: integration steps per frame (step ``h = dt / substeps``).
        integrator: ``"rk4"`` or ``"semi_implicit_euler"``.
        gradient: ``"sensitivity"`` (stored discrete sensitivities) or ``"adjoint"`` (discrete
            adjoint with reverse-mode kernel products; memory linear in T).
        generated: directory of the generated kernels when ``model`` is not a Kernels object and
            its code is not in ``generated/<model>/``.
        backend: ``"auto"`` (default: ``"cuda"`` for CUDA tensors, else ``"cpu"``), ``"cpu"`` or
            ``"cuda"`` (the generated CUDA kernels on the inputs' GPU, the algebra between launches
            in torch on the same device; in Numba's CUDA simulator it takes CPU tensors). See
            docs/layers.md.

    A model with quaternion joints (a free-flyer root, spherical joints) has x = [q (nq), v (nv)], q
    advanced on the configuration space (:mod:`symgait.layers._manifold_steps`; CPU backend).

    ``forward(x0, tau, w=None, p=None)``: x0 (B, 2n) = [q, qd] (B, nq + nv); tau (B, T, n_actuated) torques of
    ``model.actuated`` (the root and other unactuated coordinates get 0); w (B, T, n_contacts, 6)
    world force and world moment about each contact body's origin (None: zero); p (n_p,) or
    (B, n_p) (None or a numpy array: no gradient; None = the model's default subject) ->
    x (B, T+1, 2n) with x[:, 0] = x0. Gradients flow to x0, tau, w and p; float32 or float64
    tensors, all on one device (CPU, or one GPU); outputs and gradients on that device.
    """

    def __init__(self, model, dt: float, substeps: int = 1, integrator: str = "rk4",
                 gradient: str = "sensitivity", generated=None, *, backend: str = "auto"):
        super().__init__()
        self.backend = check_backend(backend)
        if integrator not in INTEGRATORS:
            raise InputError(f"integrator must be one of {INTEGRATORS}, got {integrator!r}")
        if gradient not in GRADIENTS:
            raise InputError(f"gradient must be one of {GRADIENTS}, got {gradient!r}")
        if isinstance(substeps, bool) or not isinstance(substeps, (int, np.integer)) or substeps < 1:
            raise InputError(f"substeps must be an integer >= 1, got {substeps!r}")
        try:
            dt = float(dt)
        except (TypeError, ValueError):
            raise InputError(f"dt must be a positive number of seconds, got {dt!r}") from None
        if not (math.isfinite(dt) and dt > 0):
            raise InputError(f"dt must be a positive finite number of seconds, got {dt!r}")
        self.model, self.kernels = resolve_kernels(model, generated)
        self.dt, self.substeps, self.integrator, self.gradient = dt, int(substeps), integrator, gradient
        self._engine = _engine_class(self.model)(self.model, self.kernels, dt, int(substeps), integrator)  # CPU
        self._cuda_engine = None
        self._p_cache = {}

    def extra_repr(self) -> str:
        return (f"model={self.model.name!r}, dt={self.dt}, substeps={self.substeps}, "
                f"integrator={self.integrator!r}, gradient={self.gradient!r}, backend={self.backend!r}")

    def _engine_for(self, x0) -> _Engine:
        if resolve_backend(self.backend, "x0", x0) == "cpu":
            return self._engine
        if self.model.quaternion_joints:
            raise InputError(f"model {self.model.name!r} has quaternion joints: the forward layer integrates them on "
                             f"the CPU only; build it with backend='cpu' and pass CPU tensors")
        if self._cuda_engine is None:  # the CUDA launchers are imported (and compiled) on first use
            self._cuda_engine = _Engine(self.model, cuda_kernels(self.kernels), self.dt,
                                        self.substeps, self.integrator, xp=TORCH)
        return self._cuda_engine

    def check_inputs(self, x0, tau, w=None, p=None):
        """Validate and normalise the inputs (raises :class:`symgait.InputError`); returns (x0, tau, w, p)."""
        m = self.model
        n, na = m.nv, m.n_actuated
        what = (f"initial state [q, qd] of the {n} coordinates" if m.nq == n else
                f"initial state [q (nq={m.nq}, unit quaternions), v (nv={n})]")
        check_tensor("x0", x0, ("B", m.nq + n), what)
        backend = resolve_backend(self.backend, "x0", x0)
        B = x0.shape[0]
        if isinstance(tau, torch.Tensor) and tau.dim() == 3 and tau.shape[0] == B and tau.shape[2] == n and n != na:
            raise InputError(f"tau has {n} columns (all coordinates); pass the torques of the {na} actuated "
                             f"coordinates only, tau[..., model.actuated_indices] ({m.actuated})")
        check_tensor("tau", tau, (B, "T", na), f"torques of the {na} actuated coordinates {m.actuated} "
                     f"for B={B} samples and T frames", ("x0", x0))
        T = tau.shape[1]
        if T == 0:
            raise InputError("tau has T = 0 frames; the forward layer needs at least one frame (T >= 1)")
        w = contact_wrenches(m, w, B, T, "x0", x0)
        p = params_tensor(m, p, "x0", x0, B, self._p_cache)
        check_all_finite((("x0", x0), ("tau", tau), ("w", w)), one_sync=backend == "cuda")
        return x0, tau, w, p

    def forward(self, x0, tau, w=None, p=None):
        x0, tau, w, p = self.check_inputs(x0, tau, w, p)
        grad = torch.is_grad_enabled()
        needs = tuple(bool(grad and t.requires_grad) for t in (x0, tau, w, p))
        mode = self.gradient if any(needs) else None
        out = _ForwardDynamicsFn.apply(x0, tau, w, p, self._engine_for(x0), mode, needs)
        return out[0]
