"""Markers fixed in a body's frame, as affine combinations of the model's named points.

A model's generated kernels give the world positions ``P(q)`` and Jacobians of its named points
only.  A point ``c`` fixed in body ``B`` (any offset in B's frame) is still exactly an affine
combination of the points rigidly attached to B (its *anchors*: B's own points, the origin of
every child joined to B without translation, which is a joint centre): with the anchors'
body-frame coordinates ``X`` (K, 3), weights ``a`` with ``Σ a_k X_k = c`` and ``Σ a_k = 1`` give
``x(q) = Σ a_k P_k(q)`` for every ``q``, because rigid motions preserve affine combinations.
So a body-fixed marker is one more row of the ``A`` matrix of :mod:`symgait.markers.markersets`, and
the IK uses the generated point Jacobians unchanged.  Bodies with fewer than four non-coplanar
anchors (gait3d's talus and toes) hand their markers to the parent body, through the joint at
``q = 0``.

Offsets scale with the subject: tables store them divided by the body's *reference length*
(:func:`reference_lengths`, from joint centres: hip-centre distance for the pelvis, hip → knee
for the femur, knee → ankle for the tibia, subtalar → mtp for the foot bodies, femur + tibia for
the torso, shoulder → elbow for the humerus and for the forearm and hand bodies too: OpenSim's
ulna, radius and hand joints lie too close together to give a forearm length, and the built-in
``fullbody`` lumps them into one body), measured the same way on an OpenSim model and on ours.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Mapping, Optional, Tuple

import numpy as np

__all__ = ["BodyAnchors", "model_tree", "point_locals", "body_anchors", "reference_lengths", "affine_row",
           "body_poses", "side_template", "ARM_BODIES", "is_arm"]

# distal joint that defines a body's reference length (first present), by name without side
_DISTAL = {"femur": ("tibia",), "tibia": ("talus", "calcn"), "calcn": ("toes",), "humerus": ("ulna",)}
_SAME_AS = {"talus": "calcn", "toes": "calcn", "ulna": "humerus", "radius": "humerus", "hand": "humerus",
            "patella": "femur"}


ARM_BODIES = ("humerus", "ulna", "radius", "hand")   # OpenSim's arm bodies, by name without side


def is_arm(body: Optional[str]) -> bool:
    """Whether ``body`` is an arm body (:data:`ARM_BODIES`, either side)."""
    return body is not None and side_template(body)[0] in ARM_BODIES


def side_template(name: str) -> Tuple[str, str]:
    """``"femur_r"`` → ``("femur", "_r")``; ``"pelvis"`` → ``("pelvis", "")``."""
    if len(name) > 2 and name[-2:] in ("_r", "_l"):
        return name[:-2], name[-2:]
    return name, ""


def reference_lengths(children: Mapping[str, Mapping[str, np.ndarray]],
                      parents: Mapping[str, str]) -> Dict[str, float]:
    """Reference length (m) of every body of a tree given as ``children[body][child]`` = the
    child's origin in ``body``'s frame and ``parents[body]`` (see the module docstring).  Bodies
    without a rule take their parent's."""
    bodies = list(dict.fromkeys([*children, *parents]))
    out: Dict[str, float] = {}

    def distal(b):
        base, s = side_template(b)
        for d in _DISTAL.get(base, ()):
            if d + s in children.get(b, {}):
                return float(np.linalg.norm(children[b][d + s]))
        return None

    for b in bodies:
        v = distal(b)
        if b == "pelvis" and {"femur_r", "femur_l"} <= set(children.get(b, {})):
            v = float(np.linalg.norm(children[b]["femur_r"] - children[b]["femur_l"]))
        if v is not None and v > 0:
            out[b] = v
    for b in bodies:
        base, s = side_template(b)
        if b in out:
            continue
        if base in _SAME_AS and _SAME_AS[base] + s in out:
            out[b] = out[_SAME_AS[base] + s]
        elif base == "torso" and "femur_r" in out and "tibia_r" in out:
            out[b] = out["femur_r"] + out["tibia_r"]
    for b in bodies:   # the rest: the nearest ancestor's
        a = b
        while b not in out and a in parents:
            a = parents[a]
            if a in out:
                out[b] = out[a]
    return out


def model_tree(model, p) -> Tuple[Dict[str, Dict[str, np.ndarray]], Dict[str, str],
                                   Dict[str, np.ndarray], Dict[str, bool]]:
    """``(children, parents, rotations, rigid)`` of ``model`` at parameters ``p``: child origins
    in the parent's frame (m), parent names, joint rotations (parent ← child at ``q = 0``) and
    whether the joint has no translation."""
    import sympy as sp
    spec = model.spec
    f = _lambdified(model, "offsets", lambda: sp.lambdify([spec.parameter_symbols],
                                                         [list(b.joint_offset) for b in spec.bodies]))
    off = np.asarray(f(np.asarray(p, float)), float)
    children: Dict[str, Dict[str, np.ndarray]] = {b.name: {} for b in spec.bodies}
    parents, rots, rigid = {}, {}, {}
    names = {b.name for b in spec.bodies}
    for b, o in zip(spec.bodies, off):
        rots[b.name] = np.eye(3) if b.joint_rotation is None else np.asarray(b.joint_rotation, float)
        rigid[b.name] = not any(spec.frames[i].motion.translates for i in b.joint_frames)
        if b.parent in names:
            parents[b.name] = b.parent
            children[b.parent][b.name] = o
    return children, parents, rots, rigid


_CACHE: Dict[Tuple[str, str], object] = {}


def _lambdified(model, key, make):
    k = (model.source_hash, key)   # the model file's text decides its expressions
    if k not in _CACHE:
        _CACHE[k] = make()
    return _CACHE[k]


@dataclass
class BodyAnchors:
    """Points rigidly attached to ``body``: model point indices and body-frame coordinates (m)."""
    body: str
    points: List[int]
    local: np.ndarray

    @property
    def usable(self) -> bool:
        """Four or more anchors spanning 3-D (1 cm or more out of their best plane)."""
        if len(self.points) < 4:
            return False
        X = self.local - self.local.mean(0)
        return bool(np.linalg.svd(X, compute_uv=False)[-1] / np.sqrt(len(self.points)) > 0.005)


def point_locals(model, p) -> np.ndarray:
    """(n_points, 3) every model point's position in its own body's frame at ``p`` (m)."""
    import sympy as sp
    spec = model.spec
    f = _lambdified(model, "points", lambda: sp.lambdify([spec.parameter_symbols],
                                                        [list(q.position) for q in spec.points]))
    return np.asarray(f(np.asarray(p, float)), float).reshape(len(spec.points), 3)


def body_anchors(model, p) -> Dict[str, BodyAnchors]:
    """:class:`BodyAnchors` of every body of ``model`` at ``p``."""
    spec = model.spec
    loc = point_locals(model, p)
    children, parents, _, rigid = model_tree(model, p)
    out = {b.name: ([], []) for b in spec.bodies}
    for i, pt in enumerate(spec.points):
        out[pt.body][0].append(i)
        out[pt.body][1].append(loc[i])
        # a point at a child's origin (a joint centre) is fixed in the parent too
        par = parents.get(pt.body)
        if par is not None and rigid[pt.body] and np.allclose(loc[i], 0.0):
            out[par][0].append(i)
            out[par][1].append(children[par][pt.body])
    return {b: BodyAnchors(b, idx, np.array(xs, float).reshape(-1, 3)) for b, (idx, xs) in out.items()}


def affine_row(model, p, body: str, offset, anchors: Optional[Dict[str, BodyAnchors]] = None
               ) -> Tuple[np.ndarray, str, np.ndarray]:
    """Row over ``model.points`` whose product with ``P(q)`` is the point ``offset`` (m, in
    ``body``'s frame).  Bodies without usable anchors hand the point to their parent (at
    ``q = 0``).  Returns ``(row, body used, offset in that body)``."""
    anchors = body_anchors(model, p) if anchors is None else anchors
    if body not in anchors:
        raise KeyError(f"model {model.name!r} has no body {body!r}")
    c = np.asarray(offset, float)
    children, parents, rots, _ = model_tree(model, p)
    b = body
    while not anchors[b].usable:
        if b not in parents:
            raise ValueError(f"body {body!r} of model {model.name!r}: no body with 4 non-coplanar "
                             "model points to carry the marker")
        c = children[parents[b]][b] + rots[b] @ c
        b = parents[b]
    an = anchors[b]
    M = np.vstack([an.local.T, np.ones(len(an.points))])           # (4, K)
    a = np.linalg.lstsq(M, np.r_[c, 1.0], rcond=None)[0]
    row = np.zeros(len(model.points))
    np.add.at(row, an.points, a)
    return row, b, c


def body_poses(anchors: BodyAnchors, P: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """World rotations (T, 3, 3) and origins (T, 3) of a body from its anchors' world positions
    ``P`` (T, n_points, 3) (least-squares rigid fit, Kabsch): ``x = R c + o``."""
    X = anchors.local
    Y = P[:, anchors.points]                                        # (T, K, 3)
    xm = X.mean(0)
    ym = Y.mean(1)
    H = np.einsum("ki,tkj->tij", X - xm, Y - ym[:, None])
    U, _, Vt = np.linalg.svd(H)
    d = np.sign(np.linalg.det(np.matmul(np.swapaxes(Vt, 1, 2), np.swapaxes(U, 1, 2))))
    D = np.zeros_like(H)
    D[:, 0, 0] = 1
    D[:, 1, 1] = 1
    D[:, 2, 2] = d
    R = np.matmul(np.swapaxes(Vt, 1, 2), np.matmul(D, np.swapaxes(U, 1, 2)))
    o = ym - np.einsum("tij,j->ti", R, xm)
    return R, o
