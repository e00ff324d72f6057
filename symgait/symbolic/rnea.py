"""Recursive Newton-Euler over the elementary-frame tree, on an assignment graph.

All vectors of frame i are in frame i's coordinates. ``E_i`` maps frame-i coordinates to the
parent frame's; ``rho_i`` is frame i's origin in the parent frame. Gravity enters as the ground's
acceleration ``-g``. Contact wrenches (world force, world moment about the contact body's origin)
are rotated into the body frame. Outputs: generalized forces, the root wrench, frame rotations and
positions in the world (for points and contacts), and the tangent map of q (``q_tangent``):
how each configuration entry moves along each velocity direction (1 for a scalar coordinate; for a
quaternion joint the first-order terms of q ⊕ δ, Pinocchio's ``integrate``), which seeds the
derivatives with respect to q so that they are taken in the tangent space.

Forward pass (a revolute frame, axis s, coordinate q; see symgait.model.motions):
    w_i = E_i^T w_p + s qd
    alpha_i = E_i^T alpha_p + s qdd + (E_i^T w_p) x s qd
    a_i = E_i^T (a_p + alpha_p x rho_i + w_p x (w_p x rho_i))           (origin acceleration)
(prismatic: w_i = E_i^T w_p, alpha_i = E_i^T alpha_p, a_i += s qdd + 2 w_i x s qd)
A quaternion joint (Pinocchio's JointModelSpherical, JointModelFreeFlyer) is one frame: E_i = E0 R(quat)
(E0 the fixed rotation), its angular velocity w_j and acceleration dw_j (frame coordinates) enter as
s qd, s qdd above; a free flyer's origin also moves (rho_i = offset + E0 p) with velocity v_j and
acceleration a_j in frame coordinates: a_i += a_j + w_j x v_j + 2 (E_i^T w_p) x v_j.
Backward pass:
    F_i = m (a_i + alpha_i x c + w_i x (w_i x c)) - f_ext,   N_i = I_c alpha_i + w_i x I_c w_i + c x F_i' - m_ext
    f_p += E_i f_i,  n_p += E_i n_i + rho_i x (E_i f_i),    tau = s.n_i (revolute) or s.f_i (prismatic)
"""
from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp

from ..model.spec import ModelSpec
from .graph import Graph
from .spatial import add, axis_rotation, body_inertials, cross, is_identity, matmul, matTvec, matvec, num, numeric_matrix, scale

ZERO3 = (sp.Integer(0),) * 3


@dataclass
class Inputs:
    q: list
    qd: list
    qdd: list
    w: list  # flat, n_contacts*6
    p: list

    @classmethod
    def make(cls, spec: ModelSpec):
        n, nc = spec.nv, len(spec.contacts)
        sym = lambda name, k: [sp.Symbol(f"{name}[{i}]") for i in range(k)]  # noqa: E731
        return cls(q=sym("q", spec.nq), qd=sym("qd", n), qdd=sym("qdd", n), w=sym("w", 6 * nc),
                   p=list(spec.parameter_symbols))


@dataclass
class Dynamics:
    spec: ModelSpec
    graph: Graph
    x: Inputs
    tau: list                       # ID(q, qd, qdd, w, p), one per velocity entry
    root_wrench: list               # 6: world force, world moment about the root body's origin
    rotation: dict = field(default_factory=dict)   # frame -> 3x3 world rotation
    position: dict = field(default_factory=dict)   # frame -> world origin position
    joint_rotation: list = field(default_factory=list)  # frame -> 3x3 rotation, frame -> parent coordinates
    joint_offset: list = field(default_factory=list)    # frame -> origin in the parent's coordinates
    point_positions: list = field(default_factory=list)    # per point: 3 exprs
    contact_positions: list = field(default_factory=list)  # per contact: 3 exprs
    q_tangent: list = field(default_factory=list)  # per velocity entry k: [(q symbol, d q / d delta_k)]


def quaternion_matrix(g: Graph, quat):
    """R(quat) for quat = (x, y, z, w), unit: the polynomial of Eigen's Quaternion::toRotationMatrix (which
    Pinocchio uses)."""
    x, y, z, w = quat
    tx, ty, tz = g.let(2 * x), g.let(2 * y), g.let(2 * z)
    twx, twy, twz = g.let(tx * w), g.let(ty * w), g.let(tz * w)
    txx, txy, txz = g.let(tx * x), g.let(ty * x), g.let(tz * x)
    tyy, tyz, tzz = g.let(ty * y), g.let(tz * y), g.let(tz * z)
    R = [[1 - (tyy + tzz), txy - twz, txz + twy],
         [txy + twz, 1 - (txx + tzz), tyz - twx],
         [txz - twy, tyz + twx, 1 - (txx + tyy)]]
    return [g.letv(row) for row in R]


def quaternion_tangents(g: Graph, quat) -> list:
    """d quat / d delta_k (k = 0, 1, 2) of quat ⊗ exp(delta / 2) at delta = 0: the vector part
    (w e_k + v x e_k) / 2, the scalar part -v_k / 2, for quat = (v, w)."""
    x, y, z, w = quat
    half = sp.Rational(1, 2)
    rows = [(w, z, -y, -x), (-z, w, x, -y), (y, -x, w, -z)]
    return [[g.let(half * t) for t in row] for row in rows]

def _mul_vec(g: Graph, k, v):
    return scale(g, k, v)


def build(spec: ModelSpec, graph: Graph | None = None) -> Dynamics:
    g = graph or Graph()
    x = Inputs.make(spec)
    frames = spec.frames
    nf = len(frames)

    # joint rotations and offsets; the tangent map of q
    E, rho = [None] * nf, [None] * nf
    q_tangent = [None] * spec.nv
    for f in frames:
        offset = [g.let(o) for o in f.offset]
        if f.motion.rotates or f.motion.translates:
            q_tangent[f.velocity] = [(x.q[f.coordinate], sp.Integer(1))]
        if f.motion.quaternion:
            c, d, npos = f.coordinate, f.velocity, f.motion.position_entries
            quat = x.q[c + npos: c + npos + 4]
            rot = quaternion_matrix(g, quat)
            E[f.index] = rot if is_identity(f.rotation) else [g.letv(r) for r in
                                                               matmul(g, numeric_matrix(f.rotation), rot)]
            dquat = quaternion_tangents(g, quat)
            for k in range(3):
                q_tangent[d + npos + k] = [(qs, t) for qs, t in zip(quat, dquat[k]) if t != 0]
            rho[f.index] = offset
            if npos:  # the origin moves by p (parent coordinates after the fixed rotation) along R delta_v
                pos_q = x.q[c: c + 3]
                moved = matvec(g, numeric_matrix(f.rotation), pos_q)
                rho[f.index] = g.letv([offset[k] + moved[k] for k in range(3)])
                for k in range(3):
                    q_tangent[d + k] = [(pos_q[m], rot[m][k]) for m in range(3) if rot[m][k] != 0]
        elif f.motion.rotates:
            q = x.q[f.coordinate]
            c, s = g.let(sp.cos(q)), g.let(sp.sin(q))
            rot = axis_rotation(f.axis, c, s)
            E[f.index] = rot if is_identity(f.rotation) else matmul(g, numeric_matrix(f.rotation), rot)
            E[f.index] = [g.letv(row) for row in E[f.index]]
            rho[f.index] = offset
        else:
            E[f.index] = numeric_matrix(f.rotation)
            if f.motion.translates:
                ax = f.rotation @ f.axis
                rho[f.index] = g.letv([offset[i] + num(ax[i]) * x.q[f.coordinate] for i in range(3)])
            else:
                rho[f.index] = offset

    # forward pass
    minus_g = [num(-v) for v in spec.gravity]
    om, al, ac = [None] * nf, [None] * nf, [None] * nf
    for f in frames:
        i, pidx = f.index, f.parent
        if pidx < 0:
            om_p, al_p, ac_p = ZERO3, ZERO3, minus_g
        else:
            om_p, al_p, ac_p = om[pidx], al[pidx], ac[pidx]
        s = [num(v) for v in f.axis]
        a_lin = add(g, ac_p, cross(g, al_p, rho[i]), cross(g, om_p, cross(g, om_p, rho[i])))
        a_i = matTvec(g, E[i], a_lin)
        om_rot = matTvec(g, E[i], om_p)
        al_rot = matTvec(g, E[i], al_p)
        if f.motion.rotates:
            qd, qdd = x.qd[f.velocity], x.qdd[f.velocity]
            om[i] = g.letv([om_rot[k] + s[k] * qd for k in range(3)])
            sqd = [s[k] * qd for k in range(3)]
            al[i] = add(g, al_rot, [s[k] * qdd for k in range(3)], cross(g, om_rot, sqd))
            ac[i] = a_i
        elif f.motion.translates:
            qd, qdd = x.qd[f.velocity], x.qdd[f.velocity]
            om[i], al[i] = om_rot, al_rot
            sqd = [s[k] * qd for k in range(3)]
            cor = cross(g, om_rot, sqd)
            ac[i] = g.letv([a_i[k] + s[k] * qdd + 2 * cor[k] for k in range(3)])
        elif f.motion.quaternion:
            d, npos = f.velocity, f.motion.position_entries
            wj, dwj = x.qd[d + npos: d + npos + 3], x.qdd[d + npos: d + npos + 3]
            om[i] = add(g, om_rot, wj)
            al[i] = add(g, al_rot, dwj, cross(g, om_rot, wj))
            ac[i] = a_i
            if npos:
                vj, aj = x.qd[d: d + 3], x.qdd[d: d + 3]
                cor = cross(g, om_rot, vj)
                ac[i] = add(g, a_i, aj, cross(g, wj, vj), cor, cor)
        else:
            om[i], al[i], ac[i] = om_rot, al_rot, a_i

    # world rotations and positions (used by contacts and points; dead code is removed later)
    R, pos = {}, {}
    for f in frames:
        i, pidx = f.index, f.parent
        if pidx < 0:
            R[i] = [row[:] for row in E[i]]
            pos[i] = list(rho[i])
        else:
            R[i] = matmul(g, R[pidx], E[i])
            pos[i] = add(g, pos[pidx], matvec(g, R[pidx], rho[i]))

    # body forces
    fo = [[sp.Integer(0)] * 3 for _ in range(nf)]
    no = [[sp.Integer(0)] * 3 for _ in range(nf)]
    for b in spec.bodies:
        i = b.frame
        m, c, Ic = body_inertials(g, b)
        a_com = add(g, ac[i], cross(g, al[i], c), cross(g, om[i], cross(g, om[i], c)))
        F = scale(g, m, a_com)
        N = add(g, matvec(g, Ic, al[i]), cross(g, om[i], matvec(g, Ic, om[i])), cross(g, c, F))
        fo[i], no[i] = F, N
    for k, ct in enumerate(spec.contacts):
        i = ct.frame
        fw, mw = x.w[6 * k: 6 * k + 3], x.w[6 * k + 3: 6 * k + 6]
        fb, mb = matTvec(g, R[i], fw), matTvec(g, R[i], mw)
        fo[i] = g.letv([fo[i][j] - fb[j] for j in range(3)])
        no[i] = g.letv([no[i][j] - mb[j] for j in range(3)])

    # backward pass
    tau = [None] * spec.nv
    for f in reversed(frames):
        i, pidx = f.index, f.parent
        s = [num(v) for v in f.axis]
        if f.motion.quaternion:
            for k, (axis, rotates) in enumerate(f.motion.dofs(f.axis)):
                sk = [num(v) for v in axis]
                tau[f.velocity + k] = g.let(sp.Add(*(sk[m] * (no if rotates else fo)[i][m] for m in range(3))))
        elif f.motion.rotates:
            tau[f.velocity] = g.let(sp.Add(*(s[k] * no[i][k] for k in range(3))))
        elif f.motion.translates:
            tau[f.velocity] = g.let(sp.Add(*(s[k] * fo[i][k] for k in range(3))))
        if pidx >= 0:
            fp = matvec(g, E[i], fo[i])
            npar = add(g, matvec(g, E[i], no[i]), cross(g, rho[i], fp))
            fo[pidx] = add(g, fo[pidx], fp)
            no[pidx] = add(g, no[pidx], npar)

    root = spec.bodies[0].frame
    root_wrench = matvec(g, R[root], fo[root]) + matvec(g, R[root], no[root])

    dyn = Dynamics(spec=spec, graph=g, x=x, tau=tau, root_wrench=root_wrench, rotation=R, position=pos,
                   joint_rotation=E, joint_offset=rho, q_tangent=q_tangent)
    for pt in spec.points:
        off = g.letv(pt.position)
        dyn.point_positions.append(add(g, pos[pt.frame], matvec(g, R[pt.frame], off)))
    for ct in spec.contacts:
        dyn.contact_positions.append(list(pos[ct.frame]))
    return dyn
