"""The forward layer's integrators on the configuration space of a model with quaternion joints (a
free-flyer root, spherical joints): the state is x = [q (nq), v (nv)], q moves by q ⊕ δ
(:mod:`symgait.runtime.manifold`, Pinocchio's ``integrate``) instead of q + δ, and the sensitivities
and adjoints live in the tangent space (2 nv rows: δq, δv), carried through ``integrate`` by its
Jacobians (Pinocchio's ``dIntegrate``).

* ``"semi_implicit_euler"``: v+ = v + h a(q, v), q+ = q ⊕ h v+.
* ``"rk4"``: the Runge-Kutta-Munthe-Kaas method of order 4 (Munthe-Kaas, "High order Runge-Kutta
  methods on manifolds", Appl. Numer. Math. 1999): classical RK4 in the chart q ⊕ δ around the
  step's start, δ' = dexp⁻¹_δ v with dexp⁻¹ truncated after the second-order term
  (dexp⁻¹_δ v = v + ½ [δ, v] + 1/12 [δ, [δ, v]], enough for order 4):
  δ_1 = 0, V_1 = v; δ_s = c_s h u_{s-1}, V_s = v + c_s h a_{s-1} (c = ½, ½, 1);
  a_s = FD(q ⊕ δ_s, V_s), u_s = dexp⁻¹_{δ_s} V_s; q+ = q ⊕ h/6 (u_1 + 2u_2 + 2u_3 + u_4),
  v+ = v + h/6 (a_1 + 2a_2 + 2a_3 + a_4). For one-coordinate joints both are the classical schemes.

Gradients are exact derivatives of these discrete maps. Outputs are configurations (q with unit
quaternions): a gradient with respect to an output q is taken to the tangent space by Jᵀ (J = dq/dδ,
:meth:`~symgait.runtime.manifold.ConfigurationSpace.tangent_map`), and the gradient with respect to
x0's q is returned as the gradient of q's entries with no component off the manifold (J (JᵀJ)⁻¹ λ):
its product with any change of q0 along the manifold (a parametrization q0 = q ⊕ δ, e.g. through
:func:`symgait.layers.integrate`) is exact.

The algebra runs in numpy on the CPU (the GPU path of the forward layer takes one-coordinate models).
"""
from __future__ import annotations

import numpy as np

from ..runtime.manifold import ConfigurationSpace

RK4_C = (0.5, 0.5, 1.0)   # stage s + 1 starts at c_s h along stage s's slopes
RK4_W = (1.0, 2.0, 2.0, 1.0)


def _mv(A, x):
    """Batched matrix (B, n, m) times vectors (B, m)."""
    return (A @ x[..., None])[..., 0]


def _tmv(A, x):
    """Batched transposed matrix times vectors: Aᵀ x."""
    return (np.swapaxes(A, -1, -2) @ x[..., None])[..., 0]


class ManifoldSteps:
    """Integration steps and their derivative sweeps on a configuration space, written over the forward
    layer's engine (:class:`symgait.layers.forward._Engine`: ``k``, ``h``, ``n`` = nv, ``integrator``,
    ``act``, ``_kernel``, the base ``run`` and backward loops), which it overrides where q is involved."""

    def setup_manifold(self):
        self.space = ConfigurationSpace.of(self.model)
        self.nq = self.space.nq
        self.nx = self.nq + self.n
        # what one step keeps for the adjoint: x, then (rk4) delta_2..4, V_2..4 and delta_+, (euler) v_+
        self.n_stages = 1
        self.rec_width = self.nx + (7 * self.n if self.integrator == "rk4" else self.n)

    # --- pieces ---------------------------------------------------------------------------------
    def _split(self, x):
        return x[:, :self.nq], x[:, self.nq:]

    def _accel(self, q, v, tau, w, p, frame):
        return self._kernel("forward_dynamics", q, v, tau, w, p, frame=frame)

    def _accel_sens(self, q, v, DQ, DV, tau, w, p, cols, frame):
        """a = FD(q, v) and its sensitivity Da = A_q DQ + A_v DV + d a/d inputs (columns ``cols``)."""
        r = self._kernel("forward_dynamics_derivatives", q, v, tau, w, p, "p" in cols, frame=frame)
        Da = r["dqdd_dq"] @ DQ + r["dqdd_dqd"] @ DV
        if "tau" in cols:
            Da[:, :, cols["tau"]] += r["dqdd_dtau"][:, :, self.act]
        if "w" in cols:
            Da[:, :, cols["w"]] += r["dqdd_dw"].reshape(q.shape[0], self.n, 6 * self.nc)
        if "p" in cols:
            Da[:, :, cols["p"]] += r["dqdd_dp"]
        return r["qdd"], Da

    def _dexpinv(self, delta, V):
        """(u, U_delta, U_V): u = V + ½ ad_δ V + 1/12 ad_δ² V and its Jacobians."""
        A, AV = self.space.ad(delta), self.space.ad(V)
        Av = _mv(A, V)
        u = V + 0.5 * Av + _mv(A, Av) / 12
        U_V = np.eye(self.n) + 0.5 * A + (A @ A) / 12
        U_d = -0.5 * AV - (self.space.ad(Av) + A @ AV) / 12
        return u, U_d, U_V

    def _rk4_stages(self, q, v, tau, w, p, frame):
        """The stages of one RKMK4 step: (deltas, Vs, accelerations, us) of stages 1..4."""
        deltas, Vs, accs, us = [np.zeros_like(v)], [v], [], []
        for s in range(4):
            if s:
                c = RK4_C[s - 1] * self.h
                deltas.append(c * us[-1])
                Vs.append(v + c * accs[-1])
            Q = q if s == 0 else self.space.integrate(q, deltas[s])
            accs.append(self._accel(Q, Vs[s], tau, w, p, frame))
            us.append(Vs[s] if s == 0 else self._dexpinv(deltas[s], Vs[s])[0])
        return deltas, Vs, accs, us

    # --- one step ---------------------------------------------------------------------------------
    def step(self, x, tau, w, p, record=None, frame=None):
        q, v = self._split(x)
        h = self.h
        if self.integrator == "rk4":
            deltas, Vs, accs, us = self._rk4_stages(q, v, tau, w, p, frame)
            dplus = (h / 6) * sum(c * u for c, u in zip(RK4_W, us))
            out = np.concatenate([self.space.integrate(q, dplus), v + (h / 6) * sum(c * a for c, a in zip(RK4_W, accs))], 1)
            if record is not None:
                record[0] = np.concatenate([x, *deltas[1:], *Vs[1:], dplus], 1)
            return out
        v1 = v + h * self._accel(q, v, tau, w, p, frame)
        if record is not None:
            record[0] = np.concatenate([x, v1], 1)
        return np.concatenate([self.space.integrate(q, v1, h), v1], 1)

    def step_sensitivity(self, x, D, tau, w, p, cols, frame=None):
        q, v = self._split(x)
        n, h = self.n, self.h
        Dq, Dv = D[:, :n], D[:, n:]
        if self.integrator != "rk4":
            a, Da = self._accel_sens(q, v, Dq, Dv, tau, w, p, cols, frame)
            v1, Dv1 = v + h * a, Dv + h * Da
            Jq, Jv = self.space.integrate_jacobians(q, v1, h)
            return (np.concatenate([self.space.integrate(q, v1, h), v1], 1),
                    np.concatenate([Jq @ Dq + Jv @ Dv1, Dv1], 1))
        u, Du = v, Dv
        a, Da = self._accel_sens(q, v, Dq, Dv, tau, w, p, cols, frame)
        su, sDu, sa, sDa = u.copy(), Du.copy(), a.copy(), Da.copy()  # weighted sums over the stages
        for s in range(1, 4):
            c = RK4_C[s - 1] * h
            delta, Dd = c * u, c * Du
            V, DV = v + c * a, Dv + c * Da
            Jq, Jv = self.space.integrate_jacobians(q, delta)
            a, Da = self._accel_sens(self.space.integrate(q, delta), V, Jq @ Dq + Jv @ Dd, DV, tau, w, p, cols, frame)
            u, U_d, U_V = self._dexpinv(delta, V)
            Du = U_d @ Dd + U_V @ DV
            su += RK4_W[s] * u
            sDu += RK4_W[s] * Du
            sa += RK4_W[s] * a
            sDa += RK4_W[s] * Da
        dplus, Ddplus = (h / 6) * su, (h / 6) * sDu
        Jq, Jv = self.space.integrate_jacobians(q, dplus)
        return (np.concatenate([self.space.integrate(q, dplus), v + (h / 6) * sa], 1),
                np.concatenate([Jq @ Dq + Jv @ Ddplus, Dv + (h / 6) * sDa], 1))

    def _vjp_at(self, Q, V, g, tau, w, p, acc):
        """gᵀ d a / d (Q (tangent), V) at a = FD(Q, V); the inputs' parts accumulate into ``acc``."""
        r = self.k.forward_dynamics_vjp(Q, V, tau, w, p, np.ascontiguousarray(g))
        acc["tau"] += r["grad_tau"]
        acc["w"] += r["grad_w"]
        acc["p"] += r["grad_p"]
        return r["grad_q"], r["grad_qd"]

    def step_adjoint(self, lam, rec, tau, w, p, acc):
        """Adjoint of one step: lam (tangent at x_+) -> (tangent at x); inputs accumulate into ``acc``."""
        n, nx, h = self.n, self.nx, self.h
        rec = rec[0]
        q, v = self._split(rec[:, :nx])
        lq, lv = lam[:, :n], lam[:, n:]
        if self.integrator != "rk4":
            v1 = rec[:, nx:]
            Jq, Jv = self.space.integrate_jacobians(q, v1, h)
            lv1 = lv + _tmv(Jv, lq)
            gq, gv = self._vjp_at(q, v, h * lv1, tau, w, p, acc)
            return np.concatenate([_tmv(Jq, lq) + gq, lv1 + gv], 1)
        blk = [rec[:, nx + i * n: nx + (i + 1) * n] for i in range(7)]
        deltas, Vs, dplus = [None] + blk[0:3], [v] + blk[3:6], blk[6]
        Jq, Jv = self.space.integrate_jacobians(q, dplus)
        lq_x, ld_plus = _tmv(Jq, lq), _tmv(Jv, lq)
        lv_x = lv.copy()
        la = [(h / 6) * c * lv for c in RK4_W]
        lu = [(h / 6) * c * ld_plus for c in RK4_W]
        for s in (3, 2, 1):
            _, U_d, U_V = self._dexpinv(deltas[s], Vs[s])
            ld, lV = _tmv(U_d, lu[s]), _tmv(U_V, lu[s])
            Jq, Jv = self.space.integrate_jacobians(q, deltas[s])
            gQ, gV = self._vjp_at(self.space.integrate(q, deltas[s]), Vs[s], la[s], tau, w, p, acc)
            lV += gV
            lq_x += _tmv(Jq, gQ)
            ld += _tmv(Jv, gQ)
            c = RK4_C[s - 1] * h
            lu[s - 1] += c * ld
            la[s - 1] += c * lV
            lv_x += lV
        gQ, gV = self._vjp_at(q, v, la[0], tau, w, p, acc)
        return np.concatenate([lq_x + gQ, lv_x + lu[0] + gV], 1)

    # --- whole trajectory ----------------------------------------------------------------------
    def run(self, x0, tau, w, p, mode, needs):
        self.space.check(x0[:, :self.nq], "x0's q")
        xs, saved = super().run(x0, tau, w, p, mode, needs)
        return xs, (saved + (xs.copy(),) if mode is not None else saved)

    def _tangent_gradients(self, g, xs):
        """Gradients with respect to the states (B, T+1, nq + nv) -> the tangent spaces (B, T+1, 2 nv)."""
        gq = self.space.gradient_to_tangent(xs[..., :self.nq], g[..., :self.nq])
        return np.concatenate([gq, g[..., self.nq:]], -1)

    def _ambient_x0(self, lam, x0):
        return np.concatenate([self.space.gradient_from_tangent(x0[:, :self.nq], lam[:, :self.n]), lam[:, self.n:]], 1)

    def backward_sensitivity(self, g, sens, needs, xs):
        lam, gtau, gw, gp = super().backward_sensitivity(self._tangent_gradients(g, xs), sens, needs)
        return self._ambient_x0(lam, xs[:, 0]), gtau, gw, gp

    def backward_adjoint(self, g, stages, tau, w, p, xs):
        lam, gtau, gw, gp = super().backward_adjoint(self._tangent_gradients(g, xs), stages, tau, w, p)
        return self._ambient_x0(lam, xs[:, 0]), gtau, gw, gp
