"""The configuration space of a model with quaternion joints, in numpy, batched: ``neutral``,
``integrate`` (q ⊕ v dt), ``difference`` (q1 ⊖ q0), their Jacobians in the tangent space, the
check of the quaternions' norms, and random configurations.

A model's q has ``nq`` entries and its velocity v ``nv`` (:attr:`symgait.Model.quaternion_joints`
lists the joints where they differ). The conventions are Pinocchio's (Carpentier et al., "The
Pinocchio C++ library", 2019):

* a one-coordinate joint: q ⊕ v = q + v; q1 ⊖ q0 = q1 - q0;
* a spherical joint, q = (qx, qy, qz, qw), v = ω (child-frame angular velocity): q ⊕ ω = q ⊗ exp(ω / 2)
  (R -> R exp([ω]×)), q1 ⊖ q0 = log(R0ᵀ R1) (the shorter way round);
* a free flyer, q = (x, y, z, qx, qy, qz, qw), v = (v, ω) in the body frame: M ⊕ v = M exp6(v) (SE(3):
  the position moves by R V(ω) v, V the left Jacobian of SO(3)), q1 ⊖ q0 = log6(M0⁻¹ M1).

The Jacobians of ``integrate`` with respect to q (in the tangent space) and v are Pinocchio's
``dIntegrate``: for SO(3) exp(ω)ᵀ and the right Jacobian J_r(ω); for SE(3) Ad(exp6(v)⁻¹) and the
right Jacobian of SE(3) (Barfoot, "State Estimation for Robotics", 2017, sec. 7.1.5: J_r(ξ) = J_l(-ξ)).

Every function takes arrays with a leading batch axis (or one vector) and returns the same shape.
Quaternion norms are checked against 1 within :data:`QUATERNION_TOLERANCE`; a q that is off raises
:class:`symgait.InputError` naming the joint and the fix.
"""
from __future__ import annotations

import numpy as np

from ..errors import InputError

QUATERNION_TOLERANCE = 1e-6  # | |quat| - 1 | allowed in a configuration
_SMALL = 1e-3  # angles below this use the Taylor series of the SO(3) coefficients (error ~ angle^6)
SPHERICAL, FREE_FLYER = "spherical", "free_flyer"


# --- SO(3) and quaternions (x, y, z, w), (..., 4) -------------------------------------------------
def hat(w):
    """(..., 3) -> the cross-product matrices (..., 3, 3)."""
    z = np.zeros(w.shape[:-1])
    return np.stack([np.stack([z, -w[..., 2], w[..., 1]], -1), np.stack([w[..., 2], z, -w[..., 0]], -1),
                     np.stack([-w[..., 1], w[..., 0], z], -1)], -2)


def _coefficients(t):
    """sin t / t, (1 - cos t) / t^2, (t - sin t) / t^3 for angles t (...), by series where t is small."""
    small = t < _SMALL
    s = np.where(small, 1.0, t)
    t2 = t * t
    a = np.where(small, 1 - t2 / 6 + t2 * t2 / 120, np.sin(s) / s)
    b = np.where(small, 0.5 - t2 / 24 + t2 * t2 / 720, (1 - np.cos(s)) / (s * s))
    c = np.where(small, 1 / 6 - t2 / 120 + t2 * t2 / 5040, (s - np.sin(s)) / (s * s * s))
    return a, b, c


def quat_multiply(a, b):
    """Hamilton product a ⊗ b of quaternions (x, y, z, w)."""
    av, aw, bv, bw = a[..., :3], a[..., 3:], b[..., :3], b[..., 3:]
    return np.concatenate([aw * bv + bw * av + np.cross(av, bv), aw * bw - np.sum(av * bv, -1, keepdims=True)], -1)


def quat_exp(w):
    """Rotation vector (..., 3) -> unit quaternion (..., 4): (sin(t/2) w/t, cos(t/2)), t = |w|."""
    t = np.linalg.norm(w, axis=-1)
    h = t / 2
    small = h < _SMALL
    hs = np.where(small, 1.0, h)
    s = np.where(small, 0.5 * (1 - h * h / 6 + h ** 4 / 120), np.sin(hs) / np.where(small, 1.0, t))
    return np.concatenate([s[..., None] * w, np.cos(h)[..., None]], -1)


def quat_log(q):
    """Unit quaternion (..., 4) -> rotation vector (..., 3) of angle in [0, pi] (q and -q alike)."""
    v, w = q[..., :3], q[..., 3]
    sign = np.where(w < 0, -1.0, 1.0)
    v, w = v * sign[..., None], w * sign
    n = np.linalg.norm(v, axis=-1)
    small = n < 1e-6  # 2 atan(n / w) / n = (2 / w) (1 - n^2 / (3 w^2) + ...), w close to 1 there
    ws = np.where(small, w, 1.0)
    k = np.where(small, 2 / ws * (1 - n * n / (3 * ws * ws)), 2 * np.arctan2(n, w) / np.where(small, 1.0, n))
    return k[..., None] * v


def quat_matrix(q):
    """Rotation matrices (..., 3, 3) of unit quaternions (x, y, z, w)."""
    x, y, z, w = (q[..., i] for i in range(4))
    return np.stack([np.stack([1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)], -1),
                     np.stack([2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)], -1),
                     np.stack([2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)], -1)], -2)


def so3_exp(w):
    """Rotation vector (..., 3) -> rotation matrix (..., 3, 3) (Rodrigues)."""
    a, b, _ = _coefficients(np.linalg.norm(w, axis=-1))
    W = hat(w)
    return np.eye(3) + a[..., None, None] * W + b[..., None, None] * (W @ W)


def so3_right_jacobian(w):
    """J_r(w) = I - (1 - cos t)/t^2 [w] + (t - sin t)/t^3 [w]^2: exp(w + d) = exp(w) exp(J_r d) to first order."""
    _, b, c = _coefficients(np.linalg.norm(w, axis=-1))
    W = hat(w)
    return np.eye(3) - b[..., None, None] * W + c[..., None, None] * (W @ W)


def so3_left_jacobian(w):
    """J_l(w) = J_r(-w); also the V of SE(3)'s exponential (its translation is J_l(ω) v)."""
    return so3_right_jacobian(-w)


def so3_left_jacobian_inverse(w):
    """J_l(w)^-1 = I - [w]/2 + (1 - t sin t / (2 (1 - cos t)))/t^2 [w]^2."""
    t = np.linalg.norm(w, axis=-1)
    small = t < _SMALL
    s = np.where(small, 1.0, t)
    t2 = t * t
    d = np.where(small, 1 / 12 + t2 / 720 + t2 * t2 / 30240, (1 - s * np.sin(s) / (2 * (1 - np.cos(s)))) / (s * s))
    W = hat(w)
    return np.eye(3) - 0.5 * W + d[..., None, None] * (W @ W)


def se3_right_jacobian(v, w):
    """The right Jacobian of SE(3)'s exponential at the twist (v, w) (linear first), 6 x 6:
    [[J_r(w), Q_r], [0, J_r(w)]], Q_r(v, w) = Q_l(-v, -w) of Barfoot (2017, eq. 7.86)."""
    v, w = -v, -w
    t = np.linalg.norm(w, axis=-1)
    small = t < _SMALL
    s = np.where(small, 1.0, t)
    t2 = t * t
    _, _, c1 = _coefficients(t)
    c2 = np.where(small, 1 / 24 - t2 / 720 + t2 * t2 / 40320, (s * s + 2 * np.cos(s) - 2) / (2 * s ** 4))
    c3 = np.where(small, 1 / 120 - t2 / 2520 + t2 * t2 / 120960,
                  (2 * s - 3 * np.sin(s) + s * np.cos(s)) / (2 * s ** 5))
    P, W = hat(v), hat(w)
    WP, PW, WW = W @ P, P @ W, W @ W
    WPW = WP @ W
    e = lambda k: k[..., None, None]  # noqa: E731
    Q = 0.5 * P + e(c1) * (WP + PW + WPW) + e(c2) * (W @ WP + PW @ W - 3 * WPW) + e(c3) * (WPW @ W + W @ WPW)
    J = so3_left_jacobian(w)  # = J_r(-w) evaluated at the negated twist: J_r of the original
    out = np.zeros(v.shape[:-1] + (6, 6))
    out[..., :3, :3] = J
    out[..., 3:, 3:] = J
    out[..., :3, 3:] = Q
    return out


class ConfigurationSpace:
    """The layout of a model's q (``nq``) and v (``nv``): which entries are one-coordinate joints and
    which form quaternion joints (``joints``: [name, type, q index, v index])."""

    def __init__(self, nq: int, nv: int, joints=()):
        self.nq, self.nv = int(nq), int(nv)
        self.joints = [(str(n), str(t), int(qi), int(vi)) for n, t, qi, vi in joints]
        qs, vs = np.ones(self.nq, bool), np.ones(self.nv, bool)
        for _, t, qi, vi in self.joints:
            qs[qi: qi + (7 if t == FREE_FLYER else 4)] = False
            vs[vi: vi + (6 if t == FREE_FLYER else 3)] = False
        self.scalar_q, self.scalar_v = np.flatnonzero(qs), np.flatnonzero(vs)
        assert len(self.scalar_q) == len(self.scalar_v)

    @classmethod
    def of(cls, model) -> "ConfigurationSpace":
        """The space of a :class:`symgait.Model`, a generated model or kernels (``nq``, ``nv`` and
        ``quaternion_joints``)."""
        m = getattr(model, "data", model)  # Kernels -> their GeneratedModel
        return cls(m.nq, getattr(m, "nv", m.nq), getattr(m, "quaternion_joints", ()))

    def _quat(self, t, qi):
        """(first q index of the quaternion, first v index of ω)."""
        return (qi + 3, 3) if t == FREE_FLYER else (qi, 0)

    # --- checks ------------------------------------------------------------------------------
    def _arrays(self, **named):
        out = []
        for name, (x, n) in named.items():
            a = np.asarray(x, dtype=np.float64)
            if a.shape[-1:] != (n,):
                raise InputError(f"{name} has shape {a.shape}; expected (..., {n})")
            out.append(a)
        return out

    def check(self, q, name: str = "q") -> None:
        """Raise :class:`InputError` if a quaternion of ``q`` (shape (..., nq)) has a norm off 1 by more
        than :data:`QUATERNION_TOLERANCE`, naming the joint, the sample and the fix."""
        q = np.asarray(q)
        for jn, t, qi, _ in self.joints:
            a = qi + (3 if t == FREE_FLYER else 0)
            norm = np.linalg.norm(q[..., a: a + 4], axis=-1)
            bad = np.argwhere(~(np.abs(norm - 1) <= QUATERNION_TOLERANCE))
            if len(bad):
                at = tuple(int(i) for i in bad[0])
                where = f" at sample {at[0] if len(at) == 1 else at}" if at else ""
                raise InputError(f"{name}: the quaternion of joint {jn!r} ({name}[..., {a}:{a + 4}] = (qx, qy, qz, qw)) "
                                 f"has norm {float(norm[at]):.9g}{where}, not 1 (within {QUATERNION_TOLERANCE:g}); "
                                 f"normalize it (symgait.runtime.manifold.normalize), or build q with neutral() "
                                 f"and integrate()")

    # --- operations --------------------------------------------------------------------------
    def neutral(self) -> np.ndarray:
        """The configuration of every joint at rest (zeros, unit quaternions (0, 0, 0, 1)), (nq,)."""
        q = np.zeros(self.nq)
        for _, t, qi, _ in self.joints:
            q[self._quat(t, qi)[0] + 3] = 1.0
        return q

    def normalize(self, q) -> np.ndarray:
        """q with every quaternion scaled to norm 1."""
        q = np.array(q, dtype=np.float64)
        for _, t, qi, _ in self.joints:
            a = self._quat(t, qi)[0]
            q[..., a: a + 4] /= np.linalg.norm(q[..., a: a + 4], axis=-1, keepdims=True)
        return q

    def integrate(self, q, v, dt: float = 1.0) -> np.ndarray:
        """q ⊕ v dt (shapes (..., nq), (..., nv) -> (..., nq)); Pinocchio's ``integrate``."""
        q, v = self._arrays(q=(q, self.nq), v=(v, self.nv))
        self.check(q)
        shape = np.broadcast_shapes(q.shape[:-1], v.shape[:-1])
        q = np.broadcast_to(q, shape + (self.nq,))
        v = np.broadcast_to(v * dt, shape + (self.nv,))
        out = np.array(q)
        out[..., self.scalar_q] = q[..., self.scalar_q] + v[..., self.scalar_v]
        for _, t, qi, vi in self.joints:
            a, o = self._quat(t, qi)
            quat, w = q[..., a: a + 4], v[..., vi + o: vi + o + 3]
            new = quat_multiply(quat, quat_exp(w))
            new /= np.linalg.norm(new, axis=-1, keepdims=True)
            if t == FREE_FLYER:  # Pinocchio's SE(3) keeps the result in the input's hemisphere (q and -q alike)
                new *= np.where(np.sum(new * quat, -1, keepdims=True) < 0, -1.0, 1.0)
            out[..., a: a + 4] = new
            if t == FREE_FLYER:
                step = (so3_left_jacobian(w) @ v[..., vi: vi + 3, None])[..., 0]
                out[..., qi: qi + 3] = q[..., qi: qi + 3] + (quat_matrix(quat) @ step[..., None])[..., 0]
        return out

    def difference(self, q0, q1) -> np.ndarray:
        """v with q0 ⊕ v = q1 ((..., nq) twice -> (..., nv)); Pinocchio's ``difference``."""
        q0, q1 = self._arrays(q0=(q0, self.nq), q1=(q1, self.nq))
        self.check(q0, "q0")
        self.check(q1, "q1")
        q0, q1 = np.broadcast_arrays(q0, q1)
        out = np.zeros(q0.shape[:-1] + (self.nv,))
        out[..., self.scalar_v] = q1[..., self.scalar_q] - q0[..., self.scalar_q]
        for _, t, qi, vi in self.joints:
            a, o = self._quat(t, qi)
            c0 = q0[..., a: a + 4] * np.array([-1.0, -1.0, -1.0, 1.0])  # conjugate = inverse
            w = quat_log(quat_multiply(c0, q1[..., a: a + 4]))
            out[..., vi + o: vi + o + 3] = w
            if t == FREE_FLYER:
                dp = q1[..., qi: qi + 3] - q0[..., qi: qi + 3]
                local = (np.swapaxes(quat_matrix(q0[..., a: a + 4]), -1, -2) @ dp[..., None])
                out[..., vi: vi + 3] = (so3_left_jacobian_inverse(w) @ local)[..., 0]
        return out

    def integrate_jacobians(self, q, v, dt: float = 1.0):
        """(d(q ⊕ v dt)/dq, d(q ⊕ v dt)/dv), each (..., nv, nv), in the tangent spaces at q and at the
        result (Pinocchio's ``dIntegrate`` with ARG0 and ARG1; the second includes the factor dt)."""
        q, v = self._arrays(q=(q, self.nq), v=(v, self.nv))
        v = v * dt
        shape = np.broadcast_shapes(q.shape[:-1], v.shape[:-1])
        q = np.broadcast_to(q, shape + (self.nq,))
        v = np.broadcast_to(v, shape + (self.nv,))
        Jq = np.zeros(shape + (self.nv, self.nv))
        Jv = np.zeros(shape + (self.nv, self.nv))
        s = self.scalar_v
        Jq[..., s, s] = 1.0
        Jv[..., s, s] = dt
        for _, t, qi, vi in self.joints:
            o = 3 if t == FREE_FLYER else 0
            w = v[..., vi + o: vi + o + 3]
            Rt = np.swapaxes(so3_exp(w), -1, -2)
            if t == SPHERICAL:
                Jq[..., vi: vi + 3, vi: vi + 3] = Rt
                Jv[..., vi: vi + 3, vi: vi + 3] = dt * so3_right_jacobian(w)
                continue
            lin = v[..., vi: vi + 3]
            trans = (so3_left_jacobian(w) @ lin[..., None])[..., 0]  # exp6(v) = (R, trans)
            Jq[..., vi: vi + 3, vi: vi + 3] = Rt
            Jq[..., vi + 3: vi + 6, vi + 3: vi + 6] = Rt
            Jq[..., vi: vi + 3, vi + 3: vi + 6] = -Rt @ hat(trans)  # Ad(exp6(v)^-1)
            Jv[..., vi: vi + 6, vi: vi + 6] = dt * se3_right_jacobian(lin, w)
        return Jq, Jv

    def tangent_map(self, q) -> np.ndarray:
        """d(q ⊕ δ)/dδ at δ = 0, (..., nq, nv): 1 for a one-coordinate entry; for a quaternion (v, w)
        the columns ((w e_k + v x e_k)/2, -v_k/2); for a free flyer's position the columns of R."""
        q = np.asarray(q, dtype=np.float64)
        J = np.zeros(q.shape[:-1] + (self.nq, self.nv))
        J[..., self.scalar_q, self.scalar_v] = 1.0
        for _, t, qi, vi in self.joints:
            a, o = self._quat(t, qi)
            x, y, z, w = (q[..., a + i] for i in range(4))
            cols = [(w, z, -y, -x), (-z, w, x, -y), (y, -x, w, -z)]
            for k, col in enumerate(cols):
                for i, c in enumerate(col):
                    J[..., a + i, vi + o + k] = 0.5 * c
            if t == FREE_FLYER:
                J[..., qi: qi + 3, vi: vi + 3] = quat_matrix(q[..., a: a + 4])
        return J

    def gradient_to_tangent(self, q, g) -> np.ndarray:
        """A gradient with respect to q's entries (..., nq) -> with respect to the tangent directions at
        q (..., nv): J(q)ᵀ g (:meth:`tangent_map`)."""
        return (np.swapaxes(self.tangent_map(q), -1, -2) @ np.asarray(g, dtype=np.float64)[..., None])[..., 0]

    def gradient_from_tangent(self, q, g) -> np.ndarray:
        """A gradient with respect to the tangent directions at q (..., nv) -> the gradient with respect
        to q's entries that has no component off the manifold (..., nq): J (JᵀJ)⁻¹ g. Its product with
        any change of q along the manifold is the tangent gradient's with the matching δ."""
        J = self.tangent_map(q)
        JtJ = np.swapaxes(J, -1, -2) @ J
        return (J @ np.linalg.solve(JtJ, np.asarray(g, dtype=np.float64)[..., None]))[..., 0]

    def ad(self, x) -> np.ndarray:
        """The adjoint (Lie bracket) matrices ad_x (..., nv, nv) of tangent vectors x (..., nv): [ω]× of a
        spherical joint's ω, [[ω]×, [v]×], [0, [ω]×]] of a free flyer's twist (v, ω), zero for
        one-coordinate entries (ad_x y = [x, y])."""
        x = np.asarray(x, dtype=np.float64)
        out = np.zeros(x.shape[:-1] + (self.nv, self.nv))
        for _, t, _, vi in self.joints:
            o = 3 if t == FREE_FLYER else 0
            W = hat(x[..., vi + o: vi + o + 3])
            out[..., vi + o: vi + o + 3, vi + o: vi + o + 3] = W
            if t == FREE_FLYER:
                out[..., vi: vi + 3, vi: vi + 3] = W
                out[..., vi: vi + 3, vi + 3: vi + 6] = hat(x[..., vi: vi + 3])
        return out

    def random(self, batch: int, rng=None, scale: float = 0.6) -> np.ndarray:
        """Random configurations (batch, nq): one-coordinate entries and free-flyer positions uniform in
        [-scale, scale], quaternions uniform on the sphere of rotations."""
        rng = np.random.default_rng(rng)
        q = rng.uniform(-scale, scale, (batch, self.nq))
        for _, t, qi, _ in self.joints:
            a = self._quat(t, qi)[0]
            quat = rng.normal(size=(batch, 4))
            q[:, a: a + 4] = quat / np.linalg.norm(quat, axis=-1, keepdims=True)
        return q


def space(model) -> ConfigurationSpace:
    """The :class:`ConfigurationSpace` of ``model`` (a Model, a generated model or kernels)."""
    return ConfigurationSpace.of(model)


def neutral(model) -> np.ndarray:
    """``model``'s configuration at rest (nq,): zeros and unit quaternions."""
    return space(model).neutral()


def normalize(model, q) -> np.ndarray:
    """``q`` with each quaternion of ``model`` scaled to norm 1."""
    return space(model).normalize(q)


def integrate(model, q, v, dt: float = 1.0) -> np.ndarray:
    """q ⊕ v dt on ``model``'s configuration space (Pinocchio's ``integrate``)."""
    return space(model).integrate(q, v, dt)


def difference(model, q0, q1) -> np.ndarray:
    """q1 ⊖ q0: the v with q0 ⊕ v = q1 (Pinocchio's ``difference``)."""
    return space(model).difference(q0, q1)


def check_configuration(model, q, name: str = "q") -> None:
    """Raise :class:`InputError` if a quaternion of ``q`` is not of norm 1 (within 1e-6)."""
    space(model).check(q, name)
