"""Read a URDF file (ROS Unified Robot Description Format) into a :class:`ModelSpec`.

* Joints: ``revolute`` and ``continuous`` (one rotation), ``prismatic`` (one translation),
  ``fixed`` (the child link is merged into the parent's body: mass, centre of mass and inertia
  combined exactly, its frame kept as a named point), ``floating`` (only from the root link: a
  free flyer, q = ``<joint>_tx, _ty, _tz, _qx, _qy, _qz, _qw`` (position and unit quaternion of the
  base in the joint's frame), v = ``<joint>_vx, _vy, _vz, _wx, _wy, _wz`` (base frame), as
  Pinocchio reads it; with ``floating_root="euler"`` six coordinates ``<joint>_tx, _ty, _tz``
  along the joint frame's axes, then ``<joint>_rz, _rx, _ry``, body-fixed, like a model file's
  floating root). ``planar`` joints are refused.
* The root link is the world: a URDF without a ``floating`` joint is a fixed-base robot; links
  rigidly attached to the root do not move and are not bodies.
* Joint origins (``xyz``, ``rpy`` = R_z(yaw) R_y(pitch) R_x(roll)), axes in the joint frame,
  inertials at their origin with the inertia in the rotated inertial frame: as the file says.
* Limits (``<limit lower upper>`` of revolute and prismatic joints) are kept in
  ``model.limits``. ``<mimic>`` joints are independent coordinates (as Pinocchio reads them).
* URDF has no gravity: ``[0, 0, -9.81]`` (URDF and ROS are Z-up); the model keeps the file's frames.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import ModelError
from .motions import FREE_FLYER, PRISMATIC, REVOLUTE
from .tree_import import Elementary, Inertial, Link, build_spec, check_floating_root, safe_name, xml_root

URDF_GRAVITY = (0.0, 0.0, -9.81)
FLOATING_SUFFIXES = (("_tx", PRISMATIC, "x"), ("_ty", PRISMATIC, "y"), ("_tz", PRISMATIC, "z"),
                     ("_rz", REVOLUTE, "z"), ("_rx", REVOLUTE, "x"), ("_ry", REVOLUTE, "y"))
_E = {"x": np.array([1.0, 0, 0]), "y": np.array([0, 1.0, 0]), "z": np.array([0, 0, 1.0])}


def rpy_matrix(r: float, p: float, y: float) -> np.ndarray:
    """URDF roll-pitch-yaw: R = R_z(yaw) R_y(pitch) R_x(roll)."""
    cr, sr, cp, spp, cy, sy = np.cos(r), np.sin(r), np.cos(p), np.sin(p), np.cos(y), np.sin(y)
    return np.array([[cy * cp, cy * spp * sr - sy * cr, cy * spp * cr + sy * sr],
                     [sy * cp, sy * spp * sr + cy * cr, sy * spp * cr - cy * sr],
                     [-spp, cp * sr, cp * cr]])


def _floats(el, attr: str, n: int, where: str, default=None) -> np.ndarray:
    raw = el.get(attr) if el is not None else None
    if raw is None:
        if default is None:
            raise ModelError(f"{where}: attribute {attr!r} is required ({n} numbers)")
        return np.asarray(default, dtype=float)
    try:
        v = np.array([float(x) for x in raw.split()], dtype=float)
    except ValueError:
        v = None
    if v is None or v.shape != (n,) or not np.all(np.isfinite(v)):
        raise ModelError(f"{where}: {attr}={raw!r} must be {n} finite numbers separated by spaces")
    return v


def _origin(el, where: str):
    o = el.find("origin")
    xyz = _floats(o, "xyz", 3, f"{where} <origin>", (0, 0, 0))
    rpy = _floats(o, "rpy", 3, f"{where} <origin>", (0, 0, 0))
    return xyz, rpy_matrix(*rpy)


def _inertial(link, where: str) -> Inertial | None:
    el = link.find("inertial")
    if el is None:
        return None
    w = f"{where} <inertial>"
    xyz, R = _origin(el, w)
    m_el = el.find("mass")
    if m_el is None:
        raise ModelError(f"{w}: <mass value=...> is required (kg)")
    mass = float(_floats(m_el, "value", 1, f"{w} <mass>")[0])
    if mass < 0:
        raise ModelError(f"{w}: mass {mass} kg is negative; masses must be >= 0")
    i_el = el.find("inertia")
    if i_el is None:
        raise ModelError(f"{w}: <inertia ixx ixy ixz iyy iyz izz> is required (kg m^2, about the centre of mass)")
    ixx, ixy, ixz, iyy, iyz, izz = (float(_floats(i_el, a, 1, f"{w} <inertia>")[0])
                                    for a in ("ixx", "ixy", "ixz", "iyy", "iyz", "izz"))
    Ii = np.array([[ixx, ixy, ixz], [ixy, iyy, iyz], [ixz, iyz, izz]])
    return Inertial(mass, xyz, R @ Ii @ R.T)


def read_urdf(path: Path, text: str, floating_root: str | None = None):
    """The :class:`ModelSpec` of the URDF file at ``path`` (its text ``text``); ``floating_root``: a
    ``floating`` joint as a quaternion free flyer (None, ``"quaternion"``) or as Euler angles
    (``"euler"``)."""
    where0 = str(path)
    euler = check_floating_root(floating_root, where0)
    root = xml_root(where0, text, "robot", "a URDF file")
    if root.find(".//xacro:include", {"xacro": "http://www.ros.org/wiki/xacro"}) is not None or any(
            "xacro" in str(k) for k in root.attrib):
        raise ModelError(f"{where0}: this is a xacro file; expand it first (`xacro file.urdf.xacro > file.urdf`)")
    links = {}
    for el in root.findall("link"):
        n = el.get("name")
        if not n:
            raise ModelError(f"{where0}: a <link> has no name")
        if n in links:
            raise ModelError(f"{where0}: link {n!r} is defined twice")
        links[n] = el
    if not links:
        raise ModelError(f"{where0}: no <link> elements")
    joints, child_of = [], {}
    for el in root.findall("joint"):
        jn = el.get("name")
        w = f"{where0}: joint {jn!r}"
        if not jn:
            raise ModelError(f"{where0}: a <joint> has no name")
        pe, ce = el.find("parent"), el.find("child")
        if pe is None or ce is None or not pe.get("link") or not ce.get("link"):
            raise ModelError(f"{w}: needs <parent link=...> and <child link=...>")
        par, ch = pe.get("link"), ce.get("link")
        for ln in (par, ch):
            if ln not in links:
                raise ModelError(f"{w}: link {ln!r} is not defined; add <link name={ln!r}> or fix the name")
        if ch in child_of:
            raise ModelError(f"{w}: link {ch!r} is already the child of joint {child_of[ch][0]!r}; "
                             f"a URDF must be a tree")
        child_of[ch] = (jn, par, el)
        joints.append(jn)
    if len(set(joints)) != len(joints):
        dup = sorted({j for j in joints if joints.count(j) > 1})
        raise ModelError(f"{where0}: joint names {dup} are used twice")
    roots = [n for n in links if n not in child_of]
    if len(roots) != 1:
        raise ModelError(f"{where0}: a URDF needs exactly one root link (a link that is no joint's child); "
                         f"found {roots}")

    out = []
    for n, el in links.items():
        wl = f"{where0}: link {n!r}"
        inertial = _inertial(el, wl)
        if n == roots[0]:
            continue  # the root link is the world
        jn, par, jel = child_of[n]
        w = f"{where0}: joint {jn!r}"
        jt = jel.get("type")
        xyz, R = _origin(jel, w)
        parent = None if par == roots[0] else par
        if jt == "fixed":
            out.append(Link(n, parent, [], xyz, R, inertial))
            continue
        if jt in ("revolute", "continuous", "prismatic"):
            axis = _floats(jel.find("axis"), "xyz", 3, f"{w} <axis>", (1, 0, 0))
            if np.linalg.norm(axis) < 1e-12:
                raise ModelError(f"{w}: <axis xyz=...> is zero; give the joint's axis in its frame")
            limits = None
            if jt != "continuous":
                lim = jel.find("limit")
                if lim is None:
                    raise ModelError(f"{w}: a {jt} joint needs <limit lower=... upper=... effort=... velocity=...>"
                                     f" (or make it 'continuous')")
                lo = float(_floats(lim, "lower", 1, f"{w} <limit>", (0.0,))[0])
                hi = float(_floats(lim, "upper", 1, f"{w} <limit>", (0.0,))[0])
                limits = (lo, hi)
            motion = PRISMATIC if jt == "prismatic" else REVOLUTE
            j = Elementary(jn, motion, axis / np.linalg.norm(axis), xyz, R, limits, True,
                           "slider" if jt == "prismatic" else "hinge")
            out.append(Link(n, parent, [j], np.zeros(3), np.eye(3), inertial))
            continue
        if jt == "floating":
            if parent is not None:
                raise ModelError(f"{w}: a floating joint must connect the root link {roots[0]!r} to the base; "
                                 f"its parent is {par!r}")
            js = [Elementary(jn + suf, mo, _E[ax], xyz if k == 0 else np.zeros(3), R if k == 0 else np.eye(3),
                             None, False, "floating")
                  for k, (suf, mo, ax) in enumerate(FLOATING_SUFFIXES)] if euler else \
                [Elementary(jn, FREE_FLYER, _E["z"], xyz, R, None, False, FREE_FLYER.name)]
            out.append(Link(n, None, js, np.zeros(3), np.eye(3), inertial))
            continue
        if jt == "planar":
            raise ModelError(f"{w}: planar URDF joints are not supported; replace it by two prismatic and one "
                             f"revolute joint with massless links between them")
        raise ModelError(f"{w}: unknown joint type {jt!r}; URDF joint types are revolute, continuous, prismatic, "
                         f"fixed, floating, planar")
    # the links in the file's order of joints, so that the tree's children keep the file's order
    order = {n: i for i, n in enumerate(child_of)}
    out.sort(key=lambda ln: order[ln.name])
    name = safe_name(root.get("name"), safe_name(path.stem, "robot"))
    return build_spec(out, name=name, path=str(path), source=text, gravity=URDF_GRAVITY,
                      description=f"imported from URDF {path.name}", where=where0, floating_root=floating_root)
