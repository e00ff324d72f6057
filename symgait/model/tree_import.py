"""A tree of links and elementary joints, as robot and animation formats describe it (URDF, MJCF),
into a :class:`ModelSpec`.

The format readers (:mod:`.urdf_import`, :mod:`.mjcf_import`) describe every link by its placement
and its chain of elementary one-coordinate joints relative to its parent link; this module builds
the frames, merges every rigidly attached link into the body of the frame that carries it (masses
added, centres of mass averaged, inertias moved to the common centre of mass by the parallel-axis
theorem and added: exact), and makes a named point of every link origin (and of any point the file
names). Numbers stay numbers: an imported model has no parameters and no subject inputs, so ``p``
is the empty vector.
"""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

import numpy as np
import sympy as sp

from ..errors import ModelError
from .motions import Motion
from .spec import Body, Frame, ModelSpec, Point


@dataclass
class Inertial:
    """Mass (kg), centre of mass (link frame) and inertia (3x3 about the centre of mass, link axes)."""
    mass: float
    com: np.ndarray
    inertia: np.ndarray


@dataclass
class Elementary:
    """One elementary joint: its frame sits at ``offset`` with ``rotation`` (previous frame <- this one)
    in the previous frame of the link's chain (the parent link's frame for the first), then rotates
    about or translates along ``axis`` (unit, this frame's coordinates) by the coordinate ``name``; a
    quaternion joint (``motion`` spherical or free flyer) turns (and moves) freely, its entries
    named ``<name>_qx``, ... (``axis`` unused)."""
    name: str
    motion: Motion
    axis: np.ndarray
    offset: np.ndarray
    rotation: np.ndarray
    limits: tuple | None = None
    actuated: bool = True
    kind: str = "hinge"  # the body's joint type recorded in the spec (hinge, slider, floating, spherical, ...)


@dataclass
class Link:
    """A link of the tree. Without ``joints`` it is rigidly attached: its frame sits at
    (``rotation``, ``offset``) in the parent link's frame. With ``joints`` its frame sits at
    (``rotation``, ``offset``) in the last joint's frame. ``parent`` None: attached to the world.
    ``points``: (name, position in the link frame) besides the link origin."""
    name: str
    parent: str | None
    joints: list = field(default_factory=list)
    offset: np.ndarray = field(default_factory=lambda: np.zeros(3))
    rotation: np.ndarray = field(default_factory=lambda: np.eye(3))
    inertial: Inertial | None = None
    points: list = field(default_factory=list)


def _num(x: float) -> sp.Expr:
    x = float(x)
    return sp.Integer(0) if x == 0.0 else sp.Float(x)


def _vec(v) -> tuple:
    return tuple(_num(x) for x in v)


def safe_name(name: str, default: str) -> str:
    """A model name usable as a directory and module name."""
    s = re.sub(r"[^A-Za-z0-9_]", "_", str(name or "").strip())
    return s or default


def combine_inertials(parts) -> Inertial | None:
    """One inertial of several (mass, com, inertia about com) in one frame; None when massless."""
    parts = [p for p in parts if p.mass > 0]
    if not parts:
        return None
    m = sum(p.mass for p in parts)
    c = sum(p.mass * p.com for p in parts) / m
    inertia = np.zeros((3, 3))
    for p in parts:
        d = p.com - c
        inertia += p.inertia + p.mass * (d @ d * np.eye(3) - np.outer(d, d))
    return Inertial(m, c, 0.5 * (inertia + inertia.T))


def check_inertial(inertial: Inertial, where: str) -> None:
    """Refuse a non-physical inertia (not positive definite, or against the triangle inequality)."""
    ev = np.linalg.eigvalsh(inertial.inertia)
    if not np.all(np.isfinite(inertial.inertia)) or ev[0] <= 0 or ev[0] + ev[1] < ev[2] * (1 - 1e-9):
        raise ModelError(f"{where}: non-physical inertia (principal moments {ev.tolist()} kg m^2: they must be "
                         f"> 0 and satisfy the triangle inequality); give it a positive-definite inertia")


FLOATING_ROOTS = ("quaternion", "euler")  # how a floating (URDF) or free (MJCF) root is imported


def check_floating_root(floating_root, where: str) -> bool:
    """True for ``floating_root="euler"`` (a floating root as six coordinates: three translations, three
    Euler angles), False for the default quaternion free flyer (None or ``"quaternion"``)."""
    if floating_root is not None and floating_root not in FLOATING_ROOTS:
        raise ModelError(f"{where}: floating_root={floating_root!r}: use 'quaternion' (a free flyer, the default) "
                         f"or 'euler' (three translations and three Euler angles)")
    return floating_root == "euler"


def build_spec(links: list[Link], *, name: str, path: str, source: str, gravity, description: str = "",
               where: str, floating_root: str | None = None) -> ModelSpec:
    """The :class:`ModelSpec` of a tree of links (each parent before its children or not: the tree is
    sorted depth-first, children in the given order). ``where`` prefixes error messages (the file);
    ``floating_root="euler"`` is recorded in the spec's import options (the model's identity)."""
    by_name = {}
    for ln in links:
        if ln.name in by_name:
            raise ModelError(f"{where}: link/body name {ln.name!r} is used twice; names must be unique")
        by_name[ln.name] = ln
    children = {None: []}
    for ln in links:
        children.setdefault(ln.name, [])
    for ln in links:
        if ln.parent is not None and ln.parent not in by_name:
            raise ModelError(f"{where}: {ln.name!r} has parent {ln.parent!r}, which is not in the file")
        children[ln.parent].append(ln.name)
    order, stack = [], list(reversed(children[None]))
    while stack:
        n = stack.pop()
        order.append(n)
        stack.extend(reversed(children[n]))
    if len(order) != len(links):
        missing = sorted(set(by_name) - set(order))
        raise ModelError(f"{where}: links {missing} are not connected to the root (a cycle?); a model must be a tree")

    frames, coords, velocities, actuated, limits, kinds = [], [], [], [], {}, {}
    carrier = {}    # link -> (frame index or -1 for the world, R frame<-link, p in the frame)
    owner = {}      # frame index -> link that created it (the moving link)
    for n in order:
        ln = by_name[n]
        pf, pR, pp = (-1, np.eye(3), np.zeros(3)) if ln.parent is None else carrier[ln.parent]
        if not ln.joints:
            carrier[n] = (pf, pR @ ln.rotation, pp + pR @ ln.offset)
            continue
        parent = pf
        for k, j in enumerate(ln.joints):
            qnames, vnames = j.motion.names(j.name)
            if any(x in coords or x in velocities for x in qnames + vnames):
                raise ModelError(f"{where}: joint/coordinate name {j.name!r} is used twice; names must be unique")
            R, off = (pR @ j.rotation, pp + pR @ j.offset) if k == 0 else (j.rotation, j.offset)
            R = np.where(np.abs(R) < 1e-16, 0.0, R)
            ci, vi = len(coords), len(velocities)
            coords += qnames
            velocities += vnames
            actuated += [bool(j.actuated)] * len(vnames)
            if j.limits is not None:
                limits[j.name] = (float(j.limits[0]), float(j.limits[1]))
            f = Frame(index=len(frames), name=j.name, parent=parent, motion=j.motion,
                      axis=np.asarray(j.axis, float) / np.linalg.norm(j.axis), offset=_vec(off), rotation=R,
                      coordinate=ci, velocity=vi)
            frames.append(f)
            parent = f.index
        owner[parent] = n
        kinds[parent] = ln.joints[0].kind if len({j.kind for j in ln.joints}) == 1 else "custom"
        carrier[n] = (parent, ln.rotation, np.asarray(ln.offset, float))
    if not frames:
        raise ModelError(f"{where}: no moving joint: every link is rigidly attached to the world")

    # inertials of every link, in the frame that carries it
    parts = {}
    for n in order:
        ln = by_name[n]
        fi, R, p = carrier[n]
        if ln.inertial is None or ln.inertial.mass <= 0 or fi < 0:
            continue
        I = ln.inertial
        parts.setdefault(fi, []).append((n, Inertial(I.mass, p + R @ I.com, R @ I.inertia @ R.T)))
    bodies = []
    body_of_frame = {}
    for fi in sorted(parts):
        combined = combine_inertials([x for _, x in parts[fi]])
        if combined is None:
            continue
        merged = [n for n, _ in parts[fi]]
        check_inertial(combined, f"{where}: body {owner[fi]!r} (links {merged})")
        f = frames[fi]
        jf = []
        k = fi
        while k >= 0 and (k == fi or k not in owner):
            jf.append(k)
            k = frames[k].parent
        anc = k
        while anc >= 0 and anc not in body_of_frame:
            anc = frames[anc].parent
        Ic = combined.inertia
        body = Body(name=owner[fi], parent=bodies[body_of_frame[anc]].name if anc >= 0 else "ground",
                    joint_type=kinds[fi], coordinates=[frames[i].name for i in reversed(jf)],
                    actuated=all(actuated[frames[i].velocity] for i in jf), mass=_num(combined.mass),
                    com=_vec(combined.com),
                    inertia=tuple(_num(x) for x in (Ic[0, 0], Ic[1, 1], Ic[2, 2], Ic[0, 1], Ic[0, 2], Ic[1, 2])),
                    frame=fi, joint_frames=list(reversed(jf)), joint_offset=frames[jf[-1]].offset,
                    joint_rotation=frames[jf[-1]].rotation, joint_axes=[frames[i].axis for i in reversed(jf)])
        f.body = len(bodies)
        body_of_frame[fi] = len(bodies)
        bodies.append(body)
    if not bodies:
        raise ModelError(f"{where}: no moving link has mass; give the links <inertial> elements")
    carries = [False] * len(frames)  # a body at or below the frame
    for f in reversed(frames):
        carries[f.index] = carries[f.index] or f.body is not None
        if f.parent >= 0:
            carries[f.parent] = carries[f.parent] or carries[f.index]
    idle = [f.name for f in frames if not carries[f.index]]
    if idle:
        raise ModelError(f"{where}: joints {idle} move no mass (their links and every link below them are "
                         f"massless), which leaves the mass matrix singular; give those links inertials or "
                         f"make the joints fixed")

    points, seen = [], set()
    for n in order:
        ln = by_name[n]
        fi, R, p = carrier[n]
        if fi < 0:  # rigidly attached to the world: never moves
            continue
        b = frames[fi].body
        bname = bodies[b].name if b is not None else owner[fi]
        for pname, pos in [(n, np.zeros(3))] + list(ln.points):
            if pname in seen:
                raise ModelError(f"{where}: point name {pname!r} is used twice (link and site names share "
                                 f"one namespace); rename one")
            seen.add(pname)
            points.append(Point(name=pname, body=bname, frame=fi, position=_vec(p + R @ np.asarray(pos, float))))

    g = np.asarray(gravity, dtype=float)
    spec = ModelSpec(name=name, description=description, source=source, path=path, gravity=g, subject={},
                     parameter_names=[], parameter_defaults=[], parameter_symbols=[], bodies=bodies,
                     frames=frames, coordinates=coords, actuated=actuated, contacts=[], points=points,
                     limits=limits, velocities=velocities,
                     import_options={"floating_root": "euler"} if floating_root == "euler" else {})
    return spec


def xml_root(where: str, text: str, tag: str, kind: str):
    """The root element of a model file's XML ``text``, which must be ``<tag>``; else a ModelError
    naming the file (``where``) and what a ``kind`` file is."""
    try:
        root = ET.fromstring(text)
    except ET.ParseError as e:
        raise ModelError(f"{where}: not valid XML: {e}") from None
    if root.tag != tag:
        raise ModelError(f"{where}: the root element is <{root.tag}>, expected <{tag}> ({kind})")
    return root
