"""The 3-D double pendulum (tests/models/double_pendulum3d.yaml) against an independent derivation
with sympy.physics.mechanics (Kane's method): mass matrix and forward dynamics with gravity and a
contact wrench on the second link."""
from __future__ import annotations

import numpy as np
import sympy as sp
import sympy.physics.mechanics as me

from symgait_testing import model_and_kernels, random_state, rel_err


def kane_model(p):
    l1, l2, m1, m2 = (float(v) for v in p)
    q = me.dynamicsymbols("a1 b1 c1 k2")
    u = me.dynamicsymbols("ua1 ub1 uc1 uk2")
    F = sp.symbols("fx fy fz mx my mz")
    N = me.ReferenceFrame("N")
    A1 = N.orientnew("A1", "Axis", [q[0], N.z])
    A2 = A1.orientnew("A2", "Axis", [q[1], A1.x])
    L1 = A2.orientnew("L1", "Axis", [q[2], A2.y])
    J0 = L1.orientnew("J0", "Body", [sp.rad(10), 0, sp.rad(20)], "XYZ")
    k = (J0.x + J0.z) / sp.sqrt(2)
    L2 = J0.orientnew("L2", "Axis", [q[3], k])
    O = me.Point("O")
    O.set_vel(N, 0)
    P1 = O.locatenew("P1", 1.0 * N.y)  # joint 1 at (0, 1, 0)
    P1.set_vel(N, 0)
    C1 = P1.locatenew("C1", -0.5 * l1 * L1.y + 0.01 * L1.z)
    P2 = P1.locatenew("P2", -l1 * L1.y)
    C2 = P2.locatenew("C2", 0.02 * L2.x - 0.5 * l2 * L2.y)
    kd = [q[i].diff() - u[i] for i in range(4)]
    A1.set_ang_vel(N, u[0] * N.z)
    A2.set_ang_vel(A1, u[1] * A1.x)
    L1.set_ang_vel(A2, u[2] * A2.y)
    L2.set_ang_vel(J0, u[3] * k)
    P2.v2pt_theory(P1, N, L1)
    C1.v2pt_theory(P1, N, L1)
    C2.v2pt_theory(P2, N, L2)
    I1 = me.inertia(L1, m1 * l1 ** 2 / 12, m1 * 0.01, m1 * l1 ** 2 / 12 + 0.001, 0.0005, 0.0002, 0)
    I2 = me.inertia(L2, m2 * l2 ** 2 / 12, m2 * 0.01, m2 * l2 ** 2 / 12)
    B1 = me.RigidBody("B1", C1, L1, m1, (I1, C1))
    B2 = me.RigidBody("B2", C2, L2, m2, (I2, C2))
    g = 9.81
    loads = [(C1, -m1 * g * N.y), (C2, -m2 * g * N.y), (P2, F[0] * N.x + F[1] * N.y + F[2] * N.z),
             (L2, F[3] * N.x + F[4] * N.y + F[5] * N.z)]
    km = me.KanesMethod(N, q_ind=q, u_ind=u, kd_eqs=kd)
    km.kanes_equations([B1, B2], loads)
    M = km.mass_matrix
    f = km.forcing
    args = list(q) + list(u) + list(F)
    return sp.lambdify(args, M, "numpy"), sp.lambdify(args, f, "numpy")


def test_double_pendulum_against_kanes_method(gen_root):
    m, k = model_and_kernels("double_pendulum3d", gen_root)
    p = m.parameters()
    Mf, ff = kane_model(p)
    q, qd, _, tau, w = random_state(m, 20, seed=21)
    M = k.mass_matrix(q, p)
    qdd = k.forward_dynamics(q, qd, np.zeros_like(q), w, p)
    for b in range(20):
        args = list(q[b]) + list(qd[b]) + list(w[b, 0])
        Mk = np.array(Mf(*args), dtype=float)
        fk = np.array(ff(*args), dtype=float).ravel()
        assert rel_err(M[b], Mk) < 1e-12
        assert rel_err(qdd[b], np.linalg.solve(Mk, fk)) < 1e-10
