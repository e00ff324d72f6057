"""Augmentation: mirroring at the sagittal plane, joint-angle noise, contact-label noise.

Mirroring (:class:`Mirror`)
---------------------------
The world is reflected by ``S = diag(1, 1, -1)`` (OpenSim axes: Z → -Z; gravity, along Y, is
unchanged, so a reflected motion is as physical as the original).  The map is derived from the
model, not from a table:

* partners: bodies, coordinates, contacts, points and parameters are paired by exchanging the
  side token of their names (``_r``/``_l`` anywhere as a separate token, ``R.``/``L.``):
  ``hip_flexion_r`` ↔ ``hip_flexion_l``, ``R.ASIS`` ↔ ``L.ASIS``; names without a side token
  are their own partners;
* signs: for a rotation about axis ``a``, ``S R(a, θ) S = R(S a, -θ)``, so the partner
  coordinate is ``θ' = -sign(a'·S a) θ``; for a translation along ``a``, ``d' = sign(a'·S a) d``
  (``a'`` = the partner's axis, both in their joint frames).  With OpenSim's conventions this
  keeps flexion/adduction/rotation signs per side, flips pelvis list/rotation, lumbar
  bending/rotation and ``pelvis_tz``;
* the map is checked: partner joint offsets must be ``S``-images, fixed joint rotations
  ``S R S``, and ``|a'·S a| = 1`` — otherwise :class:`ValueError` (the model is not symmetric);
* wrenches: force ``F' = S F``, moment ``M' = -S M`` (a moment is a pseudo-vector; the contact
  origin maps to the partner's origin, so the moment point is consistent); generalized forces
  ``τ'_{i'} = σ_i τ_i`` (work-conjugate to ``q'``); contact labels are exchanged.

Mirroring twice is the identity, and mirrored motion + mirrored wrenches satisfy the equations
of motion: ``ID(mirror(q, q̇, q̈, w), p') = mirror(ID(q, q̇, q̈, w, p))`` (tests/data).

Noise
-----
:func:`angle_noise`: Gaussian noise of σ degrees on the rotational joint coordinates (root
rotations only if asked).  :func:`label_noise`: a fraction (10 %) of the contact labels chosen
at random, each flipped with probability 50 %.
"""
from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Dict, List

import numpy as np
import sympy as sp

__all__ = ["swap_side", "Mirror", "mirror_map", "angle_noise", "label_noise", "S"]

S = np.diag([1.0, 1.0, -1.0])

_SIDE = re.compile(r"(?<![A-Za-z0-9])([rRlL])(?![A-Za-z0-9])")


def swap_side(name: str) -> str:
    """Exchange the side token: ``hip_r_center`` → ``hip_l_center``, ``R.ASIS`` → ``L.ASIS``."""
    return _SIDE.sub(lambda m: {"r": "l", "l": "r", "R": "L", "L": "R"}[m.group(1)], name)


@dataclass
class Mirror:
    """Sagittal mirror map of a model (see the module docstring).

    ``perm`` (nq,) partner coordinate index, ``sign`` (nq,) ±1: ``q'[perm[i]] = sign[i] q[i]``;
    ``contact_perm`` (nc,); ``param_perm`` (n_p,); ``point_perm`` (n_points,).
    """
    model: object
    perm: np.ndarray
    sign: np.ndarray
    contact_perm: np.ndarray
    param_perm: np.ndarray
    point_perm: np.ndarray

    def coordinates(self, q) -> np.ndarray:
        """Mirror (..., nq) coordinates, velocities, accelerations or generalized forces."""
        q = np.asarray(q, dtype=np.float64)
        out = np.empty_like(q)
        out[..., self.perm] = q * self.sign
        return out

    generalized_forces = coordinates

    def actuated(self, jt, indices) -> np.ndarray:
        """Mirror (..., n_act) joint torques of the coordinates ``indices`` (a set closed under
        mirroring, e.g. :attr:`symgait.trials.sequence.Sequence.actuated_indices`)."""
        jt = np.asarray(jt, dtype=np.float64)
        full = np.zeros(jt.shape[:-1] + (len(self.perm),))
        full[..., list(indices)] = jt
        return self.coordinates(full)[..., list(indices)]

    def wrenches(self, w) -> np.ndarray:
        """Mirror (..., nc, 6) contact wrenches: exchange contacts, ``F' = S F``, ``M' = -S M``."""
        w = np.asarray(w, dtype=np.float64)
        f = w[..., :3] @ S
        m = -(w[..., 3:] @ S)
        out = np.empty_like(w)
        out[..., self.contact_perm, :] = np.concatenate([f, m], axis=-1)
        return out

    def labels(self, c) -> np.ndarray:
        """Exchange contact label columns (..., nc)."""
        c = np.asarray(c)
        out = np.empty_like(c)
        out[..., self.contact_perm] = c
        return out

    def parameters(self, p) -> np.ndarray:
        p = np.asarray(p, dtype=np.float64)
        out = np.empty_like(p)
        out[..., self.param_perm] = p
        return out

    def points(self, x) -> np.ndarray:
        """Mirror (..., n_points, 3) world points: exchange partners, ``x' = S x``."""
        x = np.asarray(x, dtype=np.float64) @ S
        out = np.empty_like(x)
        out[..., self.point_perm, :] = x
        return out

    def sample(self, d: Dict[str, np.ndarray]) -> Dict[str, np.ndarray]:
        """Mirror a dict with any of ``q, qd, qdd, tau, w, contact, p`` (other keys copied)."""
        out = dict(d)
        for k in ("q", "qd", "qdd", "tau"):
            if k in d and d[k] is not None:
                out[k] = self.coordinates(d[k])
        if d.get("w") is not None:
            out["w"] = self.wrenches(d["w"])
        if d.get("contact") is not None:
            out["contact"] = self.labels(d["contact"])
        if d.get("p") is not None:
            out["p"] = self.parameters(d["p"])
        return out

    def sequence(self, seq):
        """A :class:`symgait.trials.sequence.Sequence`'s mirror image: motion, generalized forces,
        wrenches, contact labels and parameters mirrored; name, times, subject and labels kind kept."""
        d = self.sample({k: getattr(seq, k) for k in ("q", "qd", "qdd", "tau", "w", "contact", "p")})
        return dataclasses.replace(seq, **d)


def _perm(names: List[str], what: str) -> np.ndarray:
    idx = {n: i for i, n in enumerate(names)}
    out = np.empty(len(names), int)
    for i, n in enumerate(names):
        pn = swap_side(n)
        if pn not in idx:
            raise ValueError(f"{what} {n!r} has no mirror partner {pn!r}")
        out[i] = idx[pn]
    return out


def _num(v):
    return np.array([float(sp.sympify(x)) if not isinstance(x, (int, float)) else float(x)
                     for x in v])


def mirror_map(model, p=None, tol: float = 1e-9) -> Mirror:
    """Derive the mirror map of ``model`` (checks symmetry at parameters ``p``, default the
    model defaults, with the side parameters exchanged)."""
    spec = model.spec
    coords = model.coordinates
    perm = _perm(coords, "coordinate")
    bodies = {b.name: b for b in spec.bodies}
    fr = spec.coordinate_frames()
    sign = np.zeros(model.nq)
    p = model.parameters() if p is None else np.asarray(p, float)
    psyms = spec.parameter_symbols
    subs = dict(zip(psyms, p))

    def ev(expr_vec):
        return np.array([float(sp.sympify(e).subs(subs)) for e in expr_vec])

    for b in spec.bodies:
        pb = swap_side(b.name)
        if pb not in bodies:
            raise ValueError(f"body {b.name!r} has no mirror partner {pb!r}")
        b2 = bodies[pb]
        o1, o2 = ev(b.joint_offset), ev(b2.joint_offset)
        if not np.allclose(S @ o1, o2, atol=1e-9 + 1e-6 * np.abs(o1).max()):
            raise ValueError(f"joint offsets of {b.name} and {pb} are not mirror images: {o1} vs {o2}")
        R1 = b.joint_rotation if b.joint_rotation is not None else np.eye(3)
        R2 = b2.joint_rotation if b2.joint_rotation is not None else np.eye(3)
        if not np.allclose(S @ R1 @ S, R2, atol=1e-9):
            raise ValueError(f"joint orientations of {b.name} and {pb} are not mirror images")
        if len(b.coordinates) != len(b2.coordinates):
            raise ValueError(f"{b.name} and {pb} have different joints")
    for i, c in enumerate(coords):
        f = spec.frames[fr[i]]
        f2 = spec.frames[fr[perm[i]]]
        d = float(np.dot(f2.axis, S @ f.axis))
        if abs(abs(d) - 1.0) > 1e-6:
            raise ValueError(f"axes of {c} and {coords[perm[i]]} are not mirror images "
                             f"({f.axis} vs {f2.axis})")
        sign[i] = f.motion.mirror_sign(d)
    cperm = _perm(model.contacts, "contact")
    pperm = _perm(model.parameter_names, "parameter")
    ptperm = _perm(model.points, "point")
    return Mirror(model=model, perm=perm, sign=sign, contact_perm=cperm, param_perm=pperm,
                  point_perm=ptperm)


def angle_noise(model, q, sigma_deg: float, rng=None, *, include_root: bool = False) -> np.ndarray:
    """``q`` (..., nq) plus N(0, σ²) (σ in degrees, converted to rad) on the rotational
    coordinates (the root's rotations only with ``include_root``)."""
    rng = np.random.default_rng(rng)
    q = np.array(q, dtype=np.float64, copy=True)
    fr = model.spec.coordinate_frames()
    root = set(model.spec.bodies[0].coordinates)
    cols = [i for i, c in enumerate(model.coordinates)
            if model.spec.frames[fr[i]].motion.rotates and (include_root or c not in root)]
    q[..., cols] += rng.normal(0.0, np.radians(sigma_deg), q[..., cols].shape)
    return q


def label_noise(labels, rng=None, *, fraction: float = 0.1, flip_prob: float = 0.5) -> np.ndarray:
    """Contact-label noise: ``fraction`` of the labels (over all frames and contacts) chosen at
    random without replacement, each flipped with probability ``flip_prob``."""
    rng = np.random.default_rng(rng)
    L = np.array(labels, dtype=bool, copy=True)
    flat = L.reshape(-1)
    n = int(round(fraction * flat.size))
    pick = rng.choice(flat.size, size=n, replace=False)
    flip = pick[rng.random(n) < flip_prob]
    flat[flip] = ~flat[flip]
    return flat.reshape(L.shape)
