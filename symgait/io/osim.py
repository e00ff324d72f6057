"""Parser for OpenSim model files (``.osim``): bodies, joints, coordinates.

Both XML layouts are understood:

* OpenSim 4.x (``Version >= 40000``, what the shared gait2354/gait10dof models
  use): ``<JointSet>`` with joints whose ``socket_parent_frame`` /
  ``socket_child_frame`` name ``PhysicalOffsetFrame`` s (``translation``,
  ``orientation``) attached to bodies.
* OpenSim 2.x/3.x: each ``<Body>`` holds its ``<Joint>`` with ``parent_body``,
  ``location_in_parent``, ``orientation_in_parent``, ``location``,
  ``orientation``; inertia as ``inertia_xx`` ... ``inertia_yz``.

Units and frames (as OpenSim stores them): lengths in metres, masses in kg,
inertias in kg·m² about the body's centre of mass in the body frame,
angles (orientations, coordinate defaults/ranges of rotational coordinates) in
radians.  An orientation ``(a, b, c)`` is OpenSim's body-fixed X-Y-Z sequence:
``R = Rx(a) @ Ry(b) @ Rz(c)`` (:func:`xyz_body_fixed_matrix`), mapping vectors
in the offset (joint) frame to the body frame.  Ground is Y up.

A joint's motion is given as a list of six :class:`TransformAxis` (OpenSim's
CustomJoint ``SpatialTransform``): ``rotation1..3`` (applied in that order) then
``translation1..3``, each a function of coordinate values (see
:mod:`symgait.io.osim_functions`).  For other joint types the equivalent
transform is synthesized (``Joint.transform_from_file`` is False): PinJoint =
rotation about Z, SliderJoint = translation along X, WeldJoint = none,
UniversalJoint = X then Y, Gimbal/Ball = X, Y, Z, FreeJoint = X, Y, Z rotations
and X, Y, Z translations, PlanarJoint = rotation Z, translations X, Y.
"""

from __future__ import annotations

import math
import os
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np

from .errors import DataFormatError, parse_xml
from .osim_functions import (
    Constant,
    GCVSpline,
    LinearFunction,
    MultiplierFunction,
    NaturalCubicSpline,
    OsimFunction,
    PiecewiseLinearFunction,
    PolynomialFunction,
    SimmSpline,
    evaluate,
)

__all__ = [
    "Body",
    "Coordinate",
    "TransformAxis",
    "Joint",
    "OsimModel",
    "read_osim",
    "xyz_body_fixed_matrix",
    "xyz_body_fixed_angles",
]


# --------------------------------------------------------------------------- #
# rotations
# --------------------------------------------------------------------------- #
def xyz_body_fixed_matrix(angles) -> np.ndarray:
    """``Rx(a) @ Ry(b) @ Rz(c)`` for ``angles = (a, b, c)`` in radians (OpenSim orientation)."""
    a, b, c = (float(v) for v in angles)
    ca, sa, cb, sb, cc, sc = math.cos(a), math.sin(a), math.cos(b), math.sin(b), math.cos(c), math.sin(c)
    return np.array([
        [cb * cc, -cb * sc, sb],
        [sa * sb * cc + ca * sc, -sa * sb * sc + ca * cc, -sa * cb],
        [-ca * sb * cc + sa * sc, ca * sb * sc + sa * cc, ca * cb],
    ])


def xyz_body_fixed_angles(R) -> np.ndarray:
    """Inverse of :func:`xyz_body_fixed_matrix` (b in [-pi/2, pi/2])."""
    R = np.asarray(R, dtype=np.float64)
    b = math.asin(max(-1.0, min(1.0, R[0, 2])))
    a = math.atan2(-R[1, 2], R[2, 2])
    c = math.atan2(-R[0, 1], R[0, 0])
    return np.array([a, b, c])


# --------------------------------------------------------------------------- #
# data classes
# --------------------------------------------------------------------------- #
@dataclass(frozen=True, eq=False)  # holds arrays: compare fields explicitly
class Body:
    """A rigid body.  ``mass`` kg; ``mass_center`` (3,) m in the body frame;
    ``inertia`` (6,) kg·m² = ``[Ixx, Iyy, Izz, Ixy, Ixz, Iyz]`` about the centre
    of mass, in the body frame."""

    name: str
    mass: float
    mass_center: np.ndarray
    inertia: np.ndarray

    @property
    def inertia_matrix(self) -> np.ndarray:
        """The 3x3 inertia tensor about the centre of mass (body frame), kg·m²."""
        xx, yy, zz, xy, xz, yz = self.inertia
        return np.array([[xx, xy, xz], [xy, yy, yz], [xz, yz, zz]])


@dataclass(frozen=True)
class Coordinate:
    """A generalized coordinate.  ``default_value`` and ``range`` in rad
    (rotational) or m (translational).  ``motion_type`` is the file's value
    (3.x) or derived from the transform axes that use it (4.x): ``"rotational"``
    if any rotation axis depends on it, else ``"translational"``."""

    name: str
    default_value: float
    range: Tuple[float, float]
    motion_type: Optional[str] = None
    locked: bool = False
    clamped: bool = False


@dataclass(frozen=True, eq=False)  # holds arrays: compare fields explicitly
class TransformAxis:
    """One of the six axes of a SpatialTransform.

    ``kind`` is ``"rotation"`` (value in rad) or ``"translation"`` (m);
    ``axis`` (3,) is expressed in the joint's parent frame as stored (not
    normalised); the value along it is ``function(q[coordinates[0]])``
    (``Constant`` when ``coordinates`` is empty).
    """

    name: str
    kind: str
    axis: np.ndarray
    coordinates: Tuple[str, ...]
    function: OsimFunction

    def value(self, coords: Mapping[str, "np.ndarray | float"], deriv: int = 0) -> np.ndarray:
        """Rotation angle (rad) / translation (m) for coordinate values ``coords``."""
        if not self.coordinates:
            return evaluate(self.function, 0.0, deriv)
        if len(self.coordinates) > 1:
            raise NotImplementedError(f"{self.name}: functions of several coordinates "
                                      f"{self.coordinates} are not supported")
        return evaluate(self.function, coords[self.coordinates[0]], deriv)


@dataclass(frozen=True, eq=False)  # holds arrays: compare fields explicitly
class Joint:
    """A joint between ``parent_body`` and ``child_body``.

    ``location_in_parent`` (m) / ``orientation_in_parent`` (rad, body-fixed XYZ)
    place the joint's parent frame in the parent body; ``location_in_child`` /
    ``orientation_in_child`` place the joint's child frame in the child body.
    ``spatial_transform`` is empty for a WeldJoint, else six
    :class:`TransformAxis` (rotation1-3, translation1-3).
    """

    name: str
    type: str
    parent_body: str
    child_body: str
    location_in_parent: np.ndarray
    orientation_in_parent: np.ndarray
    location_in_child: np.ndarray
    orientation_in_child: np.ndarray
    coordinates: Tuple[Coordinate, ...]
    spatial_transform: Tuple[TransformAxis, ...] = ()
    transform_from_file: bool = True

    @property
    def coordinate_names(self) -> Tuple[str, ...]:
        return tuple(c.name for c in self.coordinates)

    @property
    def rotations(self) -> Tuple[TransformAxis, ...]:
        return tuple(a for a in self.spatial_transform if a.kind == "rotation")

    @property
    def translations(self) -> Tuple[TransformAxis, ...]:
        return tuple(a for a in self.spatial_transform if a.kind == "translation")


@dataclass(frozen=True, eq=False)  # holds arrays: compare fields explicitly
class OsimModel:
    """An OpenSim model: ``bodies`` (name -> :class:`Body`, file order, ground
    excluded), ``joints`` (file order), ``gravity`` (3,) m/s² in ground; ``forces``
    and ``constraints``: ``(class, name)`` of the ForceSet's and ConstraintSet's objects
    (not parsed further)."""

    name: str
    bodies: Dict[str, Body]
    joints: Tuple[Joint, ...]
    gravity: np.ndarray
    ground: str = "ground"
    version: int = 0
    path: Optional[str] = None
    credits: str = ""
    forces: Tuple[Tuple[str, str], ...] = ()
    constraints: Tuple[Tuple[str, str], ...] = ()

    @property
    def total_mass(self) -> float:
        """Sum of the body masses, kg."""
        return float(sum(b.mass for b in self.bodies.values()))

    @property
    def coordinates(self) -> Dict[str, Coordinate]:
        """All coordinates, in joint order."""
        return {c.name: c for j in self.joints for c in j.coordinates}

    def joint(self, name: str) -> Joint:
        for j in self.joints:
            if j.name == name:
                return j
        raise KeyError(f"no joint {name!r}")

    def joint_to(self, child_body: str) -> Joint:
        """The joint whose child is ``child_body``."""
        for j in self.joints:
            if j.child_body == child_body:
                return j
        raise KeyError(f"no joint with child body {child_body!r}")

    def rotational_coordinates(self) -> List[str]:
        return [c.name for c in self.coordinates.values() if c.motion_type == "rotational"]


# --------------------------------------------------------------------------- #
# XML helpers
# --------------------------------------------------------------------------- #
class _Ctx:
    def __init__(self, path):
        self.path = path

    def err(self, problem, field=None):
        return DataFormatError(self.path, problem, field=field)

    def floats(self, el: Optional[ET.Element], n: Optional[int], where: str,
               default=None, allow_inf: bool = False) -> np.ndarray:
        if el is None or el.text is None or not el.text.strip():
            if default is not None:
                return np.asarray(default, dtype=np.float64)
            raise self.err(f"missing or empty; expected {n if n else 'some'} number(s)", where)
        try:
            v = np.array([float(s) for s in el.text.split()], dtype=np.float64)
        except ValueError:
            raise self.err(f"{el.text.strip()[:60]!r} is not a list of numbers", where) from None
        if n is not None and v.size != n:
            raise self.err(f"{v.size} values, expected {n}", where)
        if np.isnan(v).any() or (not allow_inf and np.isinf(v).any()):
            raise self.err(f"{el.text.strip()[:60]!r} holds NaN or infinity; expected finite numbers", where)
        return v

    def num(self, el, where, default=None) -> float:
        return float(self.floats(el, 1, where, None if default is None else [default])[0])


def _txt(el: Optional[ET.Element]) -> str:
    return el.text.strip() if el is not None and el.text else ""


def _bool(el: Optional[ET.Element], default=False) -> bool:
    t = _txt(el).lower()
    return default if not t else t == "true"


_FUNCTION_TAGS = {"Constant", "LinearFunction", "SimmSpline", "NaturalCubicSpline",
                  "PiecewiseLinearFunction", "PolynomialFunction", "GCVSpline",
                  "MultiplierFunction", "PiecewiseConstantFunction", "StepFunction",
                  "Sine", "LinearFunction"}


def _find_function_element(parent: ET.Element) -> Optional[ET.Element]:
    for ch in parent:
        if ch.tag in _FUNCTION_TAGS:
            return ch
        if ch.tag == "function":
            for g in ch:
                if g.tag in _FUNCTION_TAGS:
                    return g
            return None
    return None


def _parse_function(ctx: _Ctx, el: ET.Element, where: str) -> OsimFunction:
    tag = el.tag
    w = f"{where}/{tag}"
    if tag == "Constant":
        return Constant(ctx.num(el.find("value"), w + "/value"))
    if tag == "LinearFunction":
        c = ctx.floats(el.find("coefficients"), 2, w + "/coefficients")
        return LinearFunction(slope=float(c[0]), intercept=float(c[1]))
    if tag in ("SimmSpline", "NaturalCubicSpline", "PiecewiseLinearFunction", "GCVSpline"):
        x = ctx.floats(el.find("x"), None, w + "/x")
        y = ctx.floats(el.find("y"), None, w + "/y")
        if x.size != y.size:
            raise ctx.err(f"{x.size} x values but {y.size} y values; expected equal counts", w)
        try:
            if tag == "SimmSpline":
                return SimmSpline(x, y)
            if tag == "NaturalCubicSpline":
                return NaturalCubicSpline(x, y)
            if tag == "PiecewiseLinearFunction":
                return PiecewiseLinearFunction(x, y)
            deg = int(ctx.num(el.find("degree"), w + "/degree", default=5))
            return GCVSpline(x, y, degree=deg)
        except ValueError as e:
            raise ctx.err(str(e), w) from None
    if tag == "PolynomialFunction":
        c = ctx.floats(el.find("coefficients"), None, w + "/coefficients")
        return PolynomialFunction(tuple(float(v) for v in c))
    if tag == "MultiplierFunction":
        inner = _find_function_element(el)
        if inner is None:
            raise ctx.err("no inner function; expected <function><SimmSpline>... or similar", w)
        scale = ctx.num(el.find("scale"), w + "/scale", default=1.0)
        return MultiplierFunction(_parse_function(ctx, inner, w), scale)
    raise ctx.err(f"unsupported function type <{tag}>; expected one of "
                  "Constant, LinearFunction, SimmSpline, NaturalCubicSpline, "
                  "PiecewiseLinearFunction, PolynomialFunction, GCVSpline, MultiplierFunction", w)


def _parse_transform(ctx: _Ctx, st: ET.Element, jname: str) -> Tuple[TransformAxis, ...]:
    axes = []
    names = ["rotation1", "rotation2", "rotation3", "translation1", "translation2", "translation3"]
    found = {ta.get("name"): ta for ta in st.iter("TransformAxis")}
    for nm in names:
        ta = found.get(nm)
        where = f"Joint[{jname}]/SpatialTransform/{nm}"
        if ta is None:
            raise ctx.err("TransformAxis missing; expected rotation1-3 and translation1-3", where)
        axis = ctx.floats(ta.find("axis"), 3, where + "/axis")
        coords = tuple(_txt(ta.find("coordinates")).split())
        fel = _find_function_element(ta)
        if fel is None:
            # OpenSim treats a missing function as: identity if a coordinate is named, else 0
            fn: OsimFunction = LinearFunction(1.0, 0.0) if coords else Constant(0.0)
        else:
            fn = _parse_function(ctx, fel, where)
        axes.append(TransformAxis(name=nm, kind="rotation" if nm.startswith("rot") else "translation",
                                  axis=axis, coordinates=coords, function=fn))
    return tuple(axes)


_E = np.eye(3)


def _synthesized_transform(jtype: str, coords: Sequence[str]) -> Optional[Tuple[TransformAxis, ...]]:
    """Equivalent SpatialTransform of OpenSim's standard joints."""
    def ax(name, axis, ci):
        if ci is not None and ci < len(coords):
            return TransformAxis(name, "rotation" if name.startswith("rot") else "translation",
                                 _E[axis].copy(), (coords[ci],), LinearFunction(1.0, 0.0))
        return TransformAxis(name, "rotation" if name.startswith("rot") else "translation",
                             _E[axis].copy(), (), Constant(0.0))

    # (rotation axes with coord index, translation axes with coord index)
    spec = {
        "PinJoint": ([(2, 0), (0, None), (1, None)], [(0, None), (1, None), (2, None)]),
        "SliderJoint": ([(0, None), (1, None), (2, None)], [(0, 0), (1, None), (2, None)]),
        "UniversalJoint": ([(0, 0), (1, 1), (2, None)], [(0, None), (1, None), (2, None)]),
        "GimbalJoint": ([(0, 0), (1, 1), (2, 2)], [(0, None), (1, None), (2, None)]),
        "BallJoint": ([(0, 0), (1, 1), (2, 2)], [(0, None), (1, None), (2, None)]),
        "FreeJoint": ([(0, 0), (1, 1), (2, 2)], [(0, 3), (1, 4), (2, 5)]),
        "PlanarJoint": ([(2, 0), (0, None), (1, None)], [(0, 1), (1, 2), (2, None)]),
    }
    if jtype == "WeldJoint":
        return ()
    if jtype not in spec:
        return None
    rots, trans = spec[jtype]
    out = [ax(f"rotation{i + 1}", a, c) for i, (a, c) in enumerate(rots)]
    out += [ax(f"translation{i + 1}", a, c) for i, (a, c) in enumerate(trans)]
    return tuple(out)


def _parse_coordinate(ctx: _Ctx, el: ET.Element, jname: str) -> Coordinate:
    name = el.get("name") or ""
    where = f"Joint[{jname}]/Coordinate[{name}]"
    rng = ctx.floats(el.find("range"), 2, where + "/range", default=[-math.inf, math.inf], allow_inf=True)
    mt = _txt(el.find("motion_type")) or None
    return Coordinate(
        name=name,
        default_value=ctx.num(el.find("default_value"), where + "/default_value", default=0.0),
        range=(float(rng[0]), float(rng[1])),
        motion_type=mt,
        locked=_bool(el.find("locked")),
        clamped=_bool(el.find("clamped")),
    )


def _with_motion_types(coords: Sequence[Coordinate], axes: Sequence[TransformAxis],
                       jtype: str) -> Tuple[Coordinate, ...]:
    out = []
    for c in coords:
        if c.motion_type:
            out.append(c)
            continue
        rot = any(c.name in a.coordinates for a in axes if a.kind == "rotation")
        tra = any(c.name in a.coordinates for a in axes if a.kind == "translation")
        mt = "rotational" if rot else "translational" if tra else None
        out.append(Coordinate(c.name, c.default_value, c.range, mt, c.locked, c.clamped))
    return tuple(out)


def _parse_body(ctx: _Ctx, b: ET.Element) -> Body:
    name = b.get("name") or ""
    w = f"Body[{name}]"
    mass = ctx.num(b.find("mass"), w + "/mass", default=0.0)
    com = ctx.floats(b.find("mass_center"), 3, w + "/mass_center", default=[0, 0, 0])
    if b.find("inertia") is not None:
        inertia = ctx.floats(b.find("inertia"), 6, w + "/inertia")
    else:
        inertia = np.array([ctx.num(b.find(f"inertia_{k}"), f"{w}/inertia_{k}", default=0.0)
                            for k in ("xx", "yy", "zz", "xy", "xz", "yz")])
    if mass < 0:
        raise ctx.err(f"negative mass {mass}; expected >= 0", w + "/mass")
    return Body(name=name, mass=mass, mass_center=com, inertia=inertia)


# --------------------------------------------------------------------------- #
# 4.x joints
# --------------------------------------------------------------------------- #
def _frame_resolver(ctx: _Ctx, model: ET.Element, body_names, ground: str):
    # model-level offset frames (attached to bodies or in components)
    global_frames: Dict[str, ET.Element] = {}
    for tag in ("BodySet", "components", "ComponentSet"):
        for sect in model.findall(tag):
            for f in sect.iter("PhysicalOffsetFrame"):
                global_frames.setdefault(f.get("name") or "", f)

    def resolve(ref: str, local: Dict[str, ET.Element], where: str, depth=0):
        if depth > 10:
            raise ctx.err("offset frames nested too deeply (cycle?)", where)
        ref = ref.strip()
        last = ref.rstrip("/").split("/")[-1] if ref else ""
        if last in ("", ".."):
            raise ctx.err(f"cannot resolve frame reference {ref!r}", where)
        cand = None
        if not ref.startswith("/bodyset/") and ref != "/" + ground:
            cand = local.get(last)
            if cand is None:
                cand = global_frames.get(last)
        if cand is not None and last not in body_names:
            parent_ref = _txt(cand.find("socket_parent"))
            body, t0, R0, o0 = resolve(parent_ref, local, where, depth + 1)
            t = ctx.floats(cand.find("translation"), 3, f"{where}/{last}/translation", [0, 0, 0])
            o = ctx.floats(cand.find("orientation"), 3, f"{where}/{last}/orientation", [0, 0, 0])
            if not np.any(o0) and not np.any(t0):  # frame directly on a body: keep angles as stored
                return body, t, xyz_body_fixed_matrix(o), o
            R = R0 @ xyz_body_fixed_matrix(o)
            return body, t0 + R0 @ t, R, xyz_body_fixed_angles(R)
        if last == ground or last in body_names:
            return last, np.zeros(3), np.eye(3), np.zeros(3)
        raise ctx.err(f"frame {ref!r} is neither a body, ground, nor a PhysicalOffsetFrame", where)

    return resolve


def _parse_joints_4(ctx: _Ctx, model: ET.Element, body_names, ground: str) -> List[Joint]:
    js = model.find("JointSet")
    if js is None:
        raise ctx.err("no <JointSet>; expected one in an OpenSim 4.x model", "Model/JointSet")
    resolve = _frame_resolver(ctx, model, body_names, ground)
    objs = js.find("objects")
    joints = []
    for j in (objs if objs is not None else []):
        if not j.tag.endswith("Joint"):
            continue
        jname = j.get("name") or ""
        w = f"Joint[{jname}]"
        local = {}
        fr = j.find("frames")
        if fr is not None:
            for f in fr.findall("PhysicalOffsetFrame"):
                local[f.get("name") or ""] = f
        pref = _txt(j.find("socket_parent_frame"))
        cref = _txt(j.find("socket_child_frame"))
        if not pref or not cref:
            raise ctx.err("socket_parent_frame/socket_child_frame missing; expected frame names",
                          w)
        pbody, pt, _, po = resolve(pref, local, w + "/socket_parent_frame")
        cbody, ct, _, co = resolve(cref, local, w + "/socket_child_frame")
        cel = j.find("coordinates")
        coords = tuple(_parse_coordinate(ctx, c, jname) for c in cel.findall("Coordinate")) \
            if cel is not None else ()
        axes, from_file = _joint_axes(ctx, j, coords, jname)
        joints.append(Joint(
            name=jname, type=j.tag, parent_body=pbody, child_body=cbody,
            location_in_parent=pt, orientation_in_parent=po,
            location_in_child=ct, orientation_in_child=co,
            coordinates=_with_motion_types(coords, axes, j.tag),
            spatial_transform=axes, transform_from_file=from_file,
        ))
    return joints


# --------------------------------------------------------------------------- #
# 2.x / 3.x joints
# --------------------------------------------------------------------------- #
def _parse_joints_3(ctx: _Ctx, bodyset: ET.Element, ground: str) -> List[Joint]:
    joints = []
    for b in bodyset.iter("Body"):
        child = b.get("name") or ""
        jwrap = b.find("Joint")
        if jwrap is None:
            continue
        jel = next((e for e in jwrap if e.tag.endswith("Joint")), None)
        if jel is None:
            continue
        jname = jel.get("name") or ""
        w = f"Body[{child}]/Joint[{jname}]"
        parent = _txt(jel.find("parent_body"))
        if not parent:
            raise ctx.err("empty; expected the parent body name", w + "/parent_body")
        z3 = [0.0, 0.0, 0.0]
        lp = ctx.floats(jel.find("location_in_parent"), 3, w + "/location_in_parent", z3)
        op = ctx.floats(jel.find("orientation_in_parent"), 3, w + "/orientation_in_parent", z3)
        lc = ctx.floats(jel.find("location"), 3, w + "/location", z3)
        oc = ctx.floats(jel.find("orientation"), 3, w + "/orientation", z3)
        cs = jel.find("CoordinateSet")
        coords = tuple(_parse_coordinate(ctx, c, jname) for c in cs.iter("Coordinate")) \
            if cs is not None else ()
        axes, from_file = _joint_axes(ctx, jel, coords, jname)
        joints.append(Joint(
            name=jname, type=jel.tag, parent_body=parent, child_body=child,
            location_in_parent=lp, orientation_in_parent=op, location_in_child=lc,
            orientation_in_child=oc, coordinates=_with_motion_types(coords, axes, jel.tag),
            spatial_transform=axes, transform_from_file=from_file,
        ))
    return joints


# --------------------------------------------------------------------------- #
def _joint_axes(ctx, jel, coords, jname):
    """A joint's six transform axes and whether the file states them (a ``SpatialTransform``), else
    those of its type (:func:`_synthesized_transform`)."""
    st = jel.find("SpatialTransform")
    if st is not None:
        return _parse_transform(ctx, st, jname), True
    return _synthesized_transform(jel.tag, [c.name for c in coords]) or (), False


def _model_element(path: str):
    """The XML root and its ``<Model>`` element of an ``.osim`` file (every reader of the file starts here)."""
    root = parse_xml(path, "an OpenSim model document")
    model = root if root.tag == "Model" else root.find("Model")
    if model is None:
        raise DataFormatError(path, f"no <Model> element (root is <{root.tag}>)")
    return root, model


def read_osim(path: "str | os.PathLike[str]") -> OsimModel:
    """Parse an OpenSim ``.osim`` model (OpenSim 2.x, 3.x and 4.x XML).

    Returns an :class:`OsimModel` with bodies (mass kg, centre of mass m,
    inertia kg·m² ``[Ixx Iyy Izz Ixy Ixz Iyz]``), joints (type, parent/child body,
    joint-frame placements in parent and child, coordinates with default and
    range, and the six-axis spatial transform with its functions) and gravity.
    Muscles, markers, constraints and geometry are ignored.

    Raises :class:`DataFormatError` for malformed XML, missing required
    elements, non-numeric values or unsupported function types.
    """
    path = os.fspath(path)
    ctx = _Ctx(path)
    root, model = _model_element(path)
    try:
        version = int(root.get("Version", "0"))
    except ValueError:
        version = 0
    ground_el = model.find("Ground")
    ground = ground_el.get("name", "ground") if ground_el is not None else "ground"
    bodyset = model.find("BodySet")
    if bodyset is None:
        raise ctx.err("no <BodySet>; expected the model's bodies", "Model/BodySet")
    bodies: Dict[str, Body] = {}
    for b in bodyset.iter("Body"):
        body = _parse_body(ctx, b)
        if body.name == ground and ground_el is None:  # 2.x/3.x: ground is a Body
            continue
        if body.name in bodies:
            raise ctx.err("duplicate body name", f"Body[{body.name}]")
        bodies[body.name] = body
    if model.find("JointSet") is not None:
        joints = _parse_joints_4(ctx, model, set(bodies), ground)
    else:
        joints = _parse_joints_3(ctx, bodyset, ground)
    for j in joints:
        for side, b in (("parent", j.parent_body), ("child", j.child_body)):
            if b != ground and b not in bodies:
                raise ctx.err(f"{side} body {b!r} is not in the BodySet", f"Joint[{j.name}]")
    g = ctx.floats(model.find("gravity"), 3, "Model/gravity", default=[0.0, -9.80665, 0.0])
    sets = {k: tuple((el.tag, el.get("name") or "") for el in model.findall(f"{k}/objects/*"))
            for k in ("ForceSet", "ConstraintSet")}
    return OsimModel(name=model.get("name") or "", bodies=bodies, joints=tuple(joints),
                     gravity=g, ground=ground, version=version, path=path,
                     credits=_txt(model.find("credits")), forces=sets["ForceSet"],
                     constraints=sets["ConstraintSet"])


@dataclass(frozen=True, eq=False)  # holds an array
class OsimMarker:
    """``name``, ``body`` (OpenSim body name), ``location`` (3,) m in the body frame."""
    name: str
    body: str
    location: np.ndarray


def read_osim_markers(path: "str | os.PathLike[str]") -> List[OsimMarker]:
    """The markers of an ``.osim`` file's MarkerSet, in file order.

    Raises :class:`DataFormatError` for malformed XML, a model without a MarkerSet, or a
    marker without a body or a 3-number location.
    """
    path = os.fspath(path)
    _, model = _model_element(path)
    ms = model.find("MarkerSet")
    if ms is None or not list(ms.iter("Marker")):
        raise DataFormatError(path, "the model has no <MarkerSet> markers; give a model with a marker "
                              "set (a scaled .osim from OpenSim's Scale tool has one) or a marker set")
    out = []
    for mk in ms.iter("Marker"):
        name = mk.get("name") or ""
        frame = mk.findtext("socket_parent_frame")
        body = frame.strip().rstrip("/").split("/")[-1] if frame else (mk.findtext("body") or "").strip()
        if not name or not body:
            raise DataFormatError(path, f"marker {name!r}: no body (socket_parent_frame or body)",
                                  field="MarkerSet")
        txt = (mk.findtext("location") or "").split()
        try:
            loc = np.array([float(v) for v in txt])
        except ValueError:
            loc = np.zeros(0)
        if loc.shape != (3,) or not np.all(np.isfinite(loc)):
            raise DataFormatError(path, f"marker {name!r}: location {' '.join(txt)!r} is not 3 numbers",
                                  field="MarkerSet")
        out.append(OsimMarker(name=name, body=body, location=loc))
    return out
