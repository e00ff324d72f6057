"""Read a MuJoCo MJCF file (``<mujoco>``) into a :class:`ModelSpec`.

* Joints: ``hinge`` (one rotation), ``slide`` (one translation), ``ball`` (a spherical joint about its
  ``pos`` anchor: q = ``<joint>_qx, _qy, _qz, _qw``, the rotation from the body's pose in the file,
  v = the body-frame angular velocity ``<joint>_wx, _wy, _wz``, as MuJoCo's qvel; MuJoCo writes the
  quaternion w first), ``free`` / ``<freejoint>`` (only on a child of ``<worldbody>``: a free flyer,
  q = ``<joint>_tx, _ty, _tz, _qx, _qy, _qz, _qw``, the body's position and orientation in the world
  as MuJoCo's qpos (its initial value the body's pose in the file), v = ``<joint>_vx, _vy, _vz,
  _wx, _wy, _wz``, both in the body frame (MuJoCo's linear qvel is in the world frame); with
  ``floating_root="euler"`` six coordinates ``<joint>_tx, _ty, _tz`` along the world axes, then
  ``<joint>_rz, _rx, _ry``, body-fixed, q = 0 at the body's pose in the file). Several joints of one
  body are a chain in the order listed, each about its ``pos`` anchor, exactly as MuJoCo composes
  them (``ref`` included).
* A body without joints is welded to its parent: merged into the parent's body (mass, centre of
  mass and inertia combined exactly); a body welded to the world does not move.
* Placement: body ``pos`` and one of ``quat``, ``axisangle``, ``euler`` (``<compiler eulerseq>``,
  lower case = rotating axes, upper case = fixed axes), ``xyaxes``, ``zaxis``; ``<compiler
  angle="degree">`` (MuJoCo's default) or ``"radian"`` for Euler angles, axis-angles, hinge ranges
  and refs.
* Inertia: ``<inertial pos quat mass diaginertia|fullinertia>``; a body without one gets the
  inertia of its geoms (``inertiafromgeom="auto"``, MuJoCo's default; ``"true"``: always) when they
  are spheres, capsules, cylinders, boxes or ellipsoids (``size`` or ``fromto``, ``mass`` or
  ``density``, default 1000 kg/m^3), as MuJoCo computes it; other geoms need an explicit
  ``<inertial>``.
* Defaults: ``<default>`` classes (nested, inheriting), ``class`` and ``childclass`` for joint, geom
  and site attributes.
* ``<option gravity>`` (default ``0 0 -9.81``); limits (``range`` of limited joints; ``limited="auto"``
  with ``<compiler autolimits="true">``, MuJoCo's default, means "where a range is given") are kept
  in ``model.limits``; every ``<site>`` is a named point. ``armature`` (rotor inertia, not a rigid
  body) is refused; joint damping, springs and friction loss (passive forces, not rigid-body
  dynamics) are ignored with a warning.
"""
from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from ..errors import ModelError
from .joints import axis_rotation
from .motions import FREE_FLYER, PRISMATIC, REVOLUTE, SPHERICAL
from .tree_import import (Elementary, Inertial, Link, build_spec, check_floating_root, combine_inertials, safe_name,
                          xml_root)

FREE_SUFFIXES = (("_tx", PRISMATIC, 0), ("_ty", PRISMATIC, 1), ("_tz", PRISMATIC, 2),
                 ("_rz", REVOLUTE, 2), ("_rx", REVOLUTE, 0), ("_ry", REVOLUTE, 1))
DEFAULT_CLASSED = ("joint", "geom", "site", "inertial")
UNSUPPORTED = {"include": "inline the included file", "frame": "move its children into the body with their "
               "poses composed", "replicate": "write the copies out", "attach": "write the attached model out"}
GEOM_TYPES = ("sphere", "capsule", "cylinder", "box", "ellipsoid")


class _Reader:
    def __init__(self, path: Path, root, euler_root: bool = False):
        self.path, self.where0 = path, str(path)
        self.euler_root = euler_root
        comp = {}
        for c in root.findall("compiler"):
            comp.update(c.attrib)
        self.compiler = comp
        angle = comp.get("angle", "degree")
        if angle not in ("degree", "radian"):
            raise ModelError(f"{self.where0}: <compiler angle={angle!r}>: use 'degree' or 'radian'")
        self.deg = angle == "degree"
        self.eulerseq = comp.get("eulerseq", "xyz")
        if len(self.eulerseq) != 3 or any(ch not in "xyzXYZ" for ch in self.eulerseq):
            raise ModelError(f"{self.where0}: <compiler eulerseq={self.eulerseq!r}>: three of x, y, z, X, Y, Z")
        self.fromgeom = comp.get("inertiafromgeom", "auto")
        if self.fromgeom not in ("auto", "true", "false"):
            raise ModelError(f"{self.where0}: <compiler inertiafromgeom={self.fromgeom!r}>: auto, true or false")
        self.autolimits = comp.get("autolimits", "true") == "true"
        if comp.get("coordinate", "local") != "local":
            raise ModelError(f"{self.where0}: <compiler coordinate={comp['coordinate']!r}>: only local coordinates "
                             f"(MuJoCo's only choice since 2.3) are read; convert the file with MuJoCo")
        for key in ("balanceinertia", "boundmass", "boundinertia", "settotalmass"):
            if key in comp and comp[key] not in ("false", "0", "-1"):
                raise ModelError(f"{self.where0}: <compiler {key}={comp[key]!r}> changes the inertias on loading; "
                                 f"remove it and give the inertias the model should have")
        self.defaults = {}
        for d in root.findall("default"):
            self._read_default(d, "main", {})
        self.passive = []

    # --- numbers ----------------------------------------------------------------------------
    def floats(self, attrs: dict, key: str, n, where: str, default=None) -> np.ndarray | None:
        raw = attrs.get(key)
        if raw is None:
            return None if default is None else np.asarray(default, dtype=float)
        try:
            v = np.array([float(x) for x in raw.split()], dtype=float)
        except ValueError:
            v = None
        ok = v is not None and np.all(np.isfinite(v)) and (len(v) in n if isinstance(n, tuple) else len(v) == n)
        if not ok:
            raise ModelError(f"{where}: {key}={raw!r} must be {n} finite numbers separated by spaces")
        return v

    def angle(self, a: float) -> float:
        return np.radians(a) if self.deg else a

    def orientation(self, attrs: dict, where: str) -> np.ndarray:
        """Rotation (parent <- element) of a pos/orientation element."""
        given = [k for k in ("quat", "axisangle", "euler", "xyaxes", "zaxis") if k in attrs]
        if len(given) > 1:
            raise ModelError(f"{where}: more than one orientation ({given}); give one")
        if not given:
            return np.eye(3)
        k = given[0]
        if k == "quat":
            qv = self.floats(attrs, k, 4, where)
            if np.linalg.norm(qv) < 1e-12:
                raise ModelError(f"{where}: quat={attrs[k]!r} is zero")
            return quat_matrix(qv / np.linalg.norm(qv))
        if k == "axisangle":
            v = self.floats(attrs, k, 4, where)
            if np.linalg.norm(v[:3]) < 1e-12:
                raise ModelError(f"{where}: axisangle={attrs[k]!r} has a zero axis")
            return axis_rotation(v[:3] / np.linalg.norm(v[:3]), self.angle(v[3]))
        if k == "euler":
            v = self.floats(attrs, k, 3, where)
            R = np.eye(3)
            for ch, a in zip(self.eulerseq, v):
                Ri = axis_rotation(np.eye(3)["xyz".index(ch.lower())], self.angle(a))
                R = R @ Ri if ch.islower() else Ri @ R
            return R
        if k == "xyaxes":
            v = self.floats(attrs, k, 6, where)
            x = v[:3] / np.linalg.norm(v[:3])
            y = v[3:] - (v[3:] @ x) * x
            if np.linalg.norm(y) < 1e-12:
                raise ModelError(f"{where}: xyaxes={attrs[k]!r}: the axes are parallel")
            y = y / np.linalg.norm(y)
            return np.column_stack([x, y, np.cross(x, y)])
        z = self.floats(attrs, k, 3, where)
        if np.linalg.norm(z) < 1e-12:
            raise ModelError(f"{where}: zaxis={attrs[k]!r} is zero")
        return z_rotation(z / np.linalg.norm(z))

    # --- defaults ---------------------------------------------------------------------------
    def _read_default(self, el, name: str, inherited: dict) -> None:
        cls = el.get("class", name)
        if cls in self.defaults:
            raise ModelError(f"{self.where0}: <default class={cls!r}> is defined twice")
        mine = {t: dict(a) for t, a in inherited.items()}
        for child in el:
            if child.tag in DEFAULT_CLASSED:
                mine.setdefault(child.tag, {}).update(child.attrib)
        self.defaults[cls] = mine
        for child in el.findall("default"):
            if "class" not in child.attrib:
                raise ModelError(f"{self.where0}: a nested <default> needs a class name")
            self._read_default(child, child.get("class"), mine)

    def attrs(self, el, childclass: str, where: str) -> dict:
        cls = el.get("class", childclass)
        if cls not in self.defaults and cls != "main":
            raise ModelError(f"{where}: class {cls!r} is not a <default class=...> of this file")
        out = dict(self.defaults.get(cls, {}).get(el.tag, {}))
        out.update(el.attrib)
        out.pop("class", None)
        return out

    # --- elements ---------------------------------------------------------------------------
    def inertial(self, body, cls: str, where: str) -> Inertial | None:
        el = body.find("inertial")
        if el is not None and self.fromgeom != "true":
            a = self.attrs(el, cls, f"{where} <inertial>")
            w = f"{where} <inertial>"
            pos = self.floats(a, "pos", 3, w)
            if pos is None:
                raise ModelError(f"{w}: pos is required (the centre of mass in the body frame)")
            if "mass" not in a:
                raise ModelError(f"{w}: mass is required (kg)")
            mass = float(self.floats(a, "mass", 1, w)[0])
            R = self.orientation(a, w)
            if "diaginertia" in a:
                Ii = np.diag(self.floats(a, "diaginertia", 3, w))
            elif "fullinertia" in a:
                xx, yy, zz, xy, xz, yz = self.floats(a, "fullinertia", 6, w)
                Ii = np.array([[xx, xy, xz], [xy, yy, yz], [xz, yz, zz]])
            else:
                raise ModelError(f"{w}: give diaginertia or fullinertia (kg m^2, about the centre of mass)")
            if mass < 0:
                raise ModelError(f"{w}: mass {mass} kg is negative")
            return Inertial(mass, pos, R @ Ii @ R.T)
        if self.fromgeom == "false":
            return None
        parts = [self.geom_inertial(g, cls, f"{where} geom {g.get('name', k)!r}")
                 for k, g in enumerate(body.findall("geom"))]
        return combine_inertials([p for p in parts if p is not None])

    def geom_inertial(self, el, cls: str, where: str) -> Inertial | None:
        a = self.attrs(el, cls, where)
        gt = a.get("type", "sphere")
        if gt not in GEOM_TYPES:
            raise ModelError(f"{where}: the inertia of a {gt!r} geom is not computed here; give the body an "
                             f"<inertial pos=... mass=... diaginertia=...> element")
        size = self.floats(a, "size", (1, 2, 3), where, (0.0, 0.0, 0.0))
        size = np.concatenate([size, np.zeros(3 - len(size))])
        fromto = self.floats(a, "fromto", 6, where)
        if fromto is not None:
            if gt == "sphere":
                raise ModelError(f"{where}: fromto is not allowed for spheres")
            d = fromto[3:] - fromto[:3]
            if np.linalg.norm(d) < 1e-12:
                raise ModelError(f"{where}: fromto has zero length")
            pos, R = 0.5 * (fromto[:3] + fromto[3:]), z_rotation(d / np.linalg.norm(d))
            half = 0.5 * np.linalg.norm(d)
            if gt in ("capsule", "cylinder"):
                size[1] = half
            else:
                size[1], size[2] = size[0], half
        else:
            pos, R = self.floats(a, "pos", 3, where, (0, 0, 0)), self.orientation(a, where)
        r = size[0]
        h = 2 * size[1]
        vol = {"sphere": 4 / 3 * np.pi * r ** 3,
               "capsule": np.pi * r * r * h + 4 / 3 * np.pi * r ** 3,
               "cylinder": np.pi * r * r * h,
               "box": 8 * size[0] * size[1] * size[2],
               "ellipsoid": 4 / 3 * np.pi * size[0] * size[1] * size[2]}[gt]
        if "mass" in a:
            mass = float(self.floats(a, "mass", 1, where)[0])
        else:
            mass = float(self.floats(a, "density", 1, where, (1000.0,))[0]) * vol
        if mass <= 0:
            return None
        if gt == "sphere":
            d = np.full(3, 2 / 5 * mass * r * r)
        elif gt == "capsule":
            ms = mass * 4 * r / (4 * r + 3 * h)
            mc = mass - ms
            ixx = mc * (3 * r * r + h * h) / 12 + ms * 2 * r * r / 5 + ms * h * (3 * r + 2 * h) / 8
            d = np.array([ixx, ixx, mc * r * r / 2 + ms * 2 * r * r / 5])
        elif gt == "cylinder":
            ixx = mass * (3 * r * r + h * h) / 12
            d = np.array([ixx, ixx, mass * r * r / 2])
        elif gt == "box":
            x, y, z = 2 * size[:3]
            d = mass / 12 * np.array([y * y + z * z, x * x + z * z, x * x + y * y])
        else:
            x, y, z = size[:3]
            d = mass / 5 * np.array([y * y + z * z, x * x + z * z, x * x + y * y])
        return Inertial(mass, pos, R @ np.diag(d) @ R.T)

    def joints(self, body, bname: str, cls: str, where: str, parent_is_world: bool, pos, R):
        """(elementary joints, link offset, link rotation) of a body's joints."""
        els = [e for e in body if e.tag in ("joint", "freejoint")]
        if not els:
            return [], pos, R
        out, prev_anchor = [], None
        for k, el in enumerate(els):
            a = {"type": "free"} | dict(el.attrib) if el.tag == "freejoint" else self.attrs(el, cls, where)
            jn = a.get("name") or f"{bname}_joint{k}"
            w = f"{where} joint {jn!r}"
            jt = a.get("type", "hinge")
            if jt == "free":
                if not parent_is_world or len(els) > 1:
                    raise ModelError(f"{w}: a free joint must be the only joint of a child of <worldbody>")
                if not self.euler_root:  # q is the body's pose in the world (MuJoCo's qpos)
                    return [Elementary(jn, FREE_FLYER, np.eye(3)[2], np.zeros(3), np.eye(3), None, False,
                                       FREE_FLYER.name)], np.zeros(3), np.eye(3)
                js = [Elementary(jn + suf, mo, np.eye(3)[ax], pos if i == 0 else np.zeros(3), np.eye(3), None,
                                 False, "floating") for i, (suf, mo, ax) in enumerate(FREE_SUFFIXES)]
                return js, np.zeros(3), R
            if jt not in ("hinge", "slide", "ball"):
                raise ModelError(f"{w}: unknown joint type {jt!r}; MJCF joint types are hinge, slide, ball, free")
            for key in ("armature",):
                if float(self.floats(a, key, 1, w, (0.0,))[0]) != 0:
                    raise ModelError(f"{w}: {key}={a[key]!r}: rotor inertia is not part of a rigid-body model; "
                                     f"set {key}=\"0\" (or add the rotor as a body)")
            for key in ("damping", "stiffness", "frictionloss"):
                if float(self.floats(a, key, 1, w, (0.0,))[0]) != 0:
                    self.passive.append(f"{jn}.{key}")
            anchor = self.floats(a, "pos", 3, w, (0, 0, 0))
            if jt == "ball":  # about its anchor, from the body's pose in the file (MuJoCo's qpos0 = (1, 0, 0, 0))
                off = anchor if prev_anchor is None else anchor - prev_anchor
                off, rot = (pos + R @ off, R) if prev_anchor is None else (off, np.eye(3))
                prev_anchor = anchor
                out.append(Elementary(jn, SPHERICAL, np.eye(3)[2], off, rot, None, True, SPHERICAL.name))
                continue
            axis = self.floats(a, "axis", 3, w, (0, 0, 1))
            if np.linalg.norm(axis) < 1e-12:
                raise ModelError(f"{w}: axis={a['axis']!r} is zero")
            axis = axis / np.linalg.norm(axis)
            hinge = jt == "hinge"
            ref = float(self.floats(a, "ref", 1, w, (0.0,))[0])
            ref = self.angle(ref) if hinge else ref
            off = anchor if prev_anchor is None else anchor - prev_anchor
            rot = np.eye(3)
            if hinge:
                rot = axis_rotation(axis, -ref)
            else:
                off = off - ref * axis
            if prev_anchor is None:
                off, rot = pos + R @ off, R @ rot
            prev_anchor = anchor
            limits = None
            rng = self.floats(a, "range", 2, w)
            limited = a.get("limited", "auto")
            if limited not in ("true", "false", "auto"):
                raise ModelError(f"{w}: limited={limited!r}: true, false or auto")
            if rng is not None and (limited == "true" or (limited == "auto" and self.autolimits)):
                limits = tuple(self.angle(x) for x in rng) if hinge else tuple(rng)
            out.append(Elementary(jn, REVOLUTE if hinge else PRISMATIC, axis, off, rot, limits, True,
                                  "hinge" if hinge else "slider"))
        return out, -prev_anchor, np.eye(3)


def quat_matrix(q) -> np.ndarray:
    """Unit quaternion (w, x, y, z) -> rotation matrix."""
    w, x, y, z = q
    return np.array([[1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
                     [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
                     [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)]])


def z_rotation(z: np.ndarray) -> np.ndarray:
    """The smallest rotation that takes the z axis to the unit vector ``z`` (MuJoCo's zaxis)."""
    ez = np.array([0.0, 0.0, 1.0])
    ax = np.cross(ez, z)
    s = np.linalg.norm(ax)
    if s < 1e-12:
        return np.eye(3) if z[2] > 0 else axis_rotation(np.array([1.0, 0, 0]), np.pi)
    return axis_rotation(ax / s, np.arctan2(s, z @ ez))


def read_mjcf(path: Path, text: str, floating_root: str | None = None):
    """The :class:`ModelSpec` of the MJCF file at ``path`` (its text ``text``); ``floating_root``: a free
    joint as a quaternion free flyer (None, ``"quaternion"``) or as Euler angles (``"euler"``)."""
    where0 = str(path)
    euler = check_floating_root(floating_root, where0)
    root = xml_root(where0, text, "mujoco", "an MJCF file; a URDF file needs the suffix .urdf")
    for el in root.iter():
        if el.tag in UNSUPPORTED:
            raise ModelError(f"{where0}: <{el.tag}> is not read here; {UNSUPPORTED[el.tag]}")
    rd = _Reader(path, root, euler)
    gravity = np.array([0.0, 0.0, -9.81])
    for o in root.findall("option"):
        g = rd.floats(o.attrib, "gravity", 3, f"{where0} <option>")
        if g is not None:
            gravity = g
    worlds = root.findall("worldbody")
    if not worlds:
        raise ModelError(f"{where0}: no <worldbody>")
    links, names = [], set()

    def visit(body, parent, cls, k):
        bname = body.get("name") or f"body{k}"
        w = f"{where0}: body {bname!r}"
        if bname in names:
            raise ModelError(f"{w}: the name is used twice")
        names.add(bname)
        cls = body.get("childclass", cls)
        pos = rd.floats(body.attrib, "pos", 3, w, (0, 0, 0))
        R = rd.orientation(body.attrib, w)
        js, off, rot = rd.joints(body, bname, cls, w, parent is None, pos, R)
        if not js:
            off, rot = pos, R
        sites = []
        for i, s in enumerate(body.findall("site")):
            a = rd.attrs(s, cls, f"{w} site {i}")
            if "name" in a:
                sites.append((a["name"], rd.floats(a, "pos", 3, f"{w} site {a['name']!r}", (0, 0, 0))))
        links.append(Link(bname, parent, js, off, rot, rd.inertial(body, cls, w), sites))
        for child in body.findall("body"):
            visit(child, bname, cls, len(links) + 1)

    for wb in worlds:
        for body in wb.findall("body"):
            visit(body, None, wb.get("childclass", "main"), len(links) + 1)
    if rd.passive:
        warnings.warn(f"{where0}: joint damping, springs and friction loss are passive forces, not rigid-body "
                      f"dynamics, and are left out of the model: {', '.join(rd.passive)}", stacklevel=3)
    name = safe_name(root.get("model"), safe_name(path.stem, "model"))
    return build_spec(links, name=name, path=str(path), source=text, gravity=gravity,
                      description=f"imported from MJCF {path.name}", where=where0, floating_root=floating_root)
