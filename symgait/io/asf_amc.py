"""Acclaim ASF skeletons and AMC motions (CMU Graphics Lab mocap database).

Units
-----
``:units length L`` in the ASF: the CMU convention is ``inches = value / L``
(``L = 0.45`` in the CMU files), so one file length unit is ``0.0254 / L``
metres.  Bone lengths and the AMC root translation are converted to metres
with that factor (override with ``length_unit=`` metres per file unit).
Angles are degrees unless ``:units angle rad``.

Frames and kinematics
---------------------
Positions are in the ASF world frame: **Y up**; in the CMU rest pose the
subject faces +Z with its left side towards +X.  Each bone has a ``direction``
(unit vector, world frame in the rest pose), a ``length``, and an ``axis``
(Euler angles, degrees, in ``axis_order``) defining its local frame
``C = R_{o3}(a3) R_{o2}(a2) R_{o1}(a1)`` for ``axis_order = o1 o2 o3``.
AMC values are the bone's rotations about its local axes in its ``dof``
order; with ``dof rx ry rz`` the motion matrix is ``M = Rz Ry Rx``
(in general the product in reverse listed order).  Forward kinematics:

    W_root = C_root M_root C_root^-1,   W_b = W_parent C_b M_b C_b^-1
    end_b = start_b + length_b W_b direction_b,   start_b = end_parent

(``start`` of the root's children is the root position from the AMC).

CMU motions are sampled at 120 Hz.

The rotation into OpenSim's ground frame (Y up, X forward = walking
direction, Z right) is a rotation about Y: see :func:`asf_to_opensim`.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from .errors import DataFormatError

__all__ = [
    "Bone",
    "Skeleton",
    "Motion",
    "Kinematics",
    "read_asf",
    "read_amc",
    "forward_kinematics",
    "asf_to_opensim_matrix",
    "asf_to_opensim",
    "CMU_RATE",
]

CMU_RATE = 120.0


def _rot(axis: str, ang: np.ndarray) -> np.ndarray:
    """Rotation matrices (..., 3, 3) about x/y/z by angles (rad)."""
    c, s = np.cos(ang), np.sin(ang)
    o, z = np.ones_like(ang), np.zeros_like(ang)
    if axis == "x":
        m = [[o, z, z], [z, c, -s], [z, s, c]]
    elif axis == "y":
        m = [[c, z, s], [z, o, z], [-s, z, c]]
    elif axis == "z":
        m = [[c, -s, z], [s, c, z], [z, z, o]]
    else:
        raise ValueError(axis)
    return np.moveaxis(np.array(m, dtype=np.float64), (0, 1), (-2, -1))


def _euler(order: Sequence[str], angles: np.ndarray) -> np.ndarray:
    """``R_{o_last} ... R_{o_first}`` (apply the first listed rotation first).
    ``angles`` (..., k) radians; returns (..., 3, 3)."""
    angles = np.asarray(angles, dtype=np.float64)
    R = np.broadcast_to(np.eye(3), angles.shape[:-1] + (3, 3)).copy()
    for k, ax in enumerate(order):
        R = _rot(ax, angles[..., k]) @ R
    return R


@dataclass(frozen=True, eq=False)  # holds arrays: compare fields explicitly
class Bone:
    """An ASF bone.  ``direction`` unit (3,) in the world frame (rest pose);
    ``length`` in metres; ``axis`` (3,) degrees in ``axis_order``; ``dof`` like
    ``("rx", "ry", "rz")``; ``limits`` one (lo, hi) per dof in file units."""

    name: str
    id: int
    direction: np.ndarray
    length: float
    axis: np.ndarray
    axis_order: str
    dof: Tuple[str, ...]
    limits: Tuple[Tuple[float, float], ...] = ()

    @property
    def C(self) -> np.ndarray:
        return _euler(self.axis_order.lower(), np.radians(self.axis))


@dataclass(frozen=True, eq=False)  # holds arrays: compare fields explicitly
class Skeleton:
    """An ASF skeleton.  ``bones`` in file order (root excluded); ``parent``
    maps each bone to its parent (``"root"`` for the root's children);
    ``length_unit`` metres per file length unit; ``root_order`` e.g.
    ``("tx","ty","tz","rx","ry","rz")``; ``root_axis_order`` e.g. ``"XYZ"``;
    ``root_position`` (m) / ``root_orientation`` (deg) are the ASF's static
    root values (0 in CMU files; the AMC root values are absolute)."""

    name: str
    bones: Dict[str, Bone]
    parent: Dict[str, str]
    length_unit: float
    angle_unit: str
    root_order: Tuple[str, ...]
    root_axis_order: str
    root_position: np.ndarray
    root_orientation: np.ndarray
    path: Optional[str] = None

    @property
    def children(self) -> Dict[str, List[str]]:
        out: Dict[str, List[str]] = {"root": []}
        for b in self.bones:
            out.setdefault(b, [])
        for b, p in self.parent.items():
            out[p].append(b)
        return out

    def order(self) -> List[str]:
        """Bones in parent-before-child (depth-first) order."""
        ch = self.children
        out, stack = [], list(reversed(ch["root"]))
        while stack:
            b = stack.pop()
            out.append(b)
            stack.extend(reversed(ch.get(b, [])))
        return out


@dataclass(frozen=True, eq=False)  # holds arrays: compare fields explicitly
class Motion:
    """AMC motion.  ``values[bone]`` (T, k) in file units (degrees for
    rotations, file length units for root translations), columns in the
    bone's dof order (root: ``Skeleton.root_order``); ``frames`` (T,) the
    frame numbers; ``rate`` Hz."""

    values: Dict[str, np.ndarray]
    frames: np.ndarray
    rate: float = CMU_RATE
    angle_unit: str = "deg"
    path: Optional[str] = None

    @property
    def n_frames(self) -> int:
        return int(self.frames.shape[0])

    @property
    def time(self) -> np.ndarray:
        return np.arange(self.n_frames) / self.rate


@dataclass(frozen=True, eq=False)  # holds arrays: compare fields explicitly
class Kinematics:
    """Forward-kinematics result (ASF world frame, metres).

    ``names``: ``"root"`` then every bone (depth-first); ``positions`` (T, n, 3):
    the root position and each bone's *end* (distal joint); ``parents``: index
    of each entry's parent (-1 for root), so a bone runs from
    ``positions[:, parents[i]]`` to ``positions[:, i]``; ``rotations``
    (T, n, 3, 3): world matrices ``W`` (identity-free rest pose: ``W = I``).
    """

    names: Tuple[str, ...]
    positions: np.ndarray
    parents: Tuple[int, ...]
    rotations: np.ndarray
    rate: float

    def index(self, name: str) -> int:
        return self.names.index(name)

    def position(self, name: str) -> np.ndarray:
        return self.positions[:, self.index(name)]


# --------------------------------------------------------------------------- #
def _lines(path) -> List[str]:
    with open(path, "rb") as fh:
        raw = fh.read()
    if b"\x00" in raw:
        raise DataFormatError(path, "binary content (NUL bytes); expected a text file")
    return raw.decode("latin-1").splitlines()


def _floats(path, toks, n, line, fld):
    if len(toks) < n:
        raise DataFormatError(path, f"{len(toks)} values, expected {n}", line=line, field=fld)
    try:
        v = np.array([float(t) for t in toks[:n]])
    except ValueError:
        raise DataFormatError(path, f"non-numeric values {toks[:n]!r}; expected {n} numbers",
                              line=line, field=fld) from None
    if not np.all(np.isfinite(v)):
        raise DataFormatError(path, f"values {toks[:n]!r} are not all finite; expected {n} finite numbers",
                              line=line, field=fld)
    return v


def read_asf(path: "str | os.PathLike[str]", *, length_unit: Optional[float] = None) -> Skeleton:
    """Read an Acclaim ``.asf`` skeleton (see the module docstring for units).

    ``length_unit``: metres per file length unit; default ``0.0254 / L`` from
    ``:units length L`` (CMU: inches = value / L), or 0.0254 if absent.
    """
    path = os.fspath(path)
    lines = _lines(path)
    section = None
    units: Dict[str, str] = {}
    name = ""
    root_order: Tuple[str, ...] = ("tx", "ty", "tz", "rx", "ry", "rz")
    root_axis = "XYZ"
    root_pos = np.zeros(3)
    root_ori = np.zeros(3)
    raw_bones: List[dict] = []
    cur: Optional[dict] = None
    parent: Dict[str, str] = {}
    in_limits = False
    for i, line in enumerate(lines, start=1):
        s = line.split("#", 1)[0].strip()
        if not s:
            continue
        if s.startswith(":"):
            key, _, rest = s[1:].partition(" ")
            section = key.lower()
            if section == "name":
                name = rest.strip()
            in_limits = False
            continue
        toks = s.split()
        if section == "units":
            if len(toks) >= 2:
                units[toks[0].lower()] = toks[1]
        elif section == "root":
            k = toks[0].lower()
            if k == "order":
                root_order = tuple(t.lower() for t in toks[1:])
            elif k == "axis":
                root_axis = toks[1].upper() if len(toks) > 1 else "XYZ"
            elif k == "position":
                root_pos = _floats(path, toks[1:], 3, i, "root position")
            elif k == "orientation":
                root_ori = _floats(path, toks[1:], 3, i, "root orientation")
        elif section == "bonedata":
            k = toks[0].lower()
            if k == "begin":
                cur = {"line": i, "dof": (), "limits": [], "axis_order": "XYZ"}
                in_limits = False
            elif k == "end":
                if cur is None:
                    raise DataFormatError(path, "'end' without 'begin'", line=i)
                for need in ("name", "direction", "length", "axis"):
                    if need not in cur:
                        raise DataFormatError(path, f"bone starting at line {cur['line']} has no "
                                              f"'{need}'", line=i, field=cur.get("name"))
                raw_bones.append(cur)
                cur = None
                in_limits = False
            elif cur is None:
                raise DataFormatError(path, f"{toks[0]!r} outside a begin/end block", line=i)
            elif k == "id":
                cur["id"] = int(_floats(path, toks[1:], 1, i, "id")[0])
            elif k == "name":
                cur["name"] = toks[1] if len(toks) > 1 else ""
            elif k == "direction":
                cur["direction"] = _floats(path, toks[1:], 3, i, f"{cur.get('name')}.direction")
            elif k == "length":
                cur["length"] = float(_floats(path, toks[1:], 1, i, f"{cur.get('name')}.length")[0])
            elif k == "axis":
                cur["axis"] = _floats(path, toks[1:], 3, i, f"{cur.get('name')}.axis")
                if len(toks) > 4:
                    cur["axis_order"] = toks[4].upper()
            elif k == "dof":
                cur["dof"] = tuple(t.lower() for t in toks[1:])
            elif k == "limits" or (in_limits and s.startswith("(")):
                in_limits = True
                body = s[len("limits"):] if k == "limits" else s
                vals = body.replace("(", " ").replace(")", " ").split()
                try:
                    lo, hi = (float(v) for v in vals[:2])
                except ValueError:
                    raise DataFormatError(path, f"bad limits {s!r}; expected '(lo hi)'", line=i,
                                          field=cur.get("name")) from None
                cur["limits"].append((lo, hi))
            elif k == "bodymass" or k == "cofmass":
                pass
            else:
                raise DataFormatError(path, f"unknown bone keyword {toks[0]!r}", line=i,
                                      field=cur.get("name"))
        elif section == "hierarchy":
            if toks[0].lower() in ("begin", "end"):
                continue
            p = toks[0]
            for ch in toks[1:]:
                parent[ch] = p
    L = units.get("length")
    if length_unit is None:
        try:
            length_unit = 0.0254 / float(L) if L is not None else 0.0254
            if not (math.isfinite(length_unit) and length_unit > 0):
                raise ValueError
        except (ValueError, ZeroDivisionError, OverflowError):
            raise DataFormatError(path, f"bad ':units length {L}'; expected a positive number",
                                  field="units length") from None
    angle_unit = units.get("angle", "deg").lower()
    if angle_unit not in ("deg", "rad"):
        raise DataFormatError(path, f"angle unit {angle_unit!r}; expected deg or rad",
                              field="units angle")
    bones: Dict[str, Bone] = {}
    for rb in raw_bones:
        d = rb["direction"]
        nd = np.linalg.norm(d)
        if not nd > 0:
            raise DataFormatError(path, "zero direction vector", line=rb["line"], field=rb["name"])
        axis = rb["axis"] if angle_unit == "deg" else np.degrees(rb["axis"])
        bones[rb["name"]] = Bone(name=rb["name"], id=rb.get("id", len(bones) + 1),
                                 direction=d / nd, length=rb["length"] * length_unit,
                                 axis=axis, axis_order=rb["axis_order"], dof=rb["dof"],
                                 limits=tuple(rb["limits"]))
    if not bones:
        raise DataFormatError(path, "no bones; expected a :bonedata section with begin/end blocks")
    for b in bones:
        if b not in parent:
            raise DataFormatError(path, f"bone {b!r} is not in the :hierarchy", field=b)
    for ch, p in parent.items():
        if ch not in bones:
            raise DataFormatError(path, f"hierarchy names unknown bone {ch!r}", field=ch)
        if p != "root" and p not in bones:
            raise DataFormatError(path, f"hierarchy names unknown parent {p!r}", field=p)
    return Skeleton(name=name, bones=bones, parent=parent, length_unit=length_unit,
                    angle_unit=angle_unit, root_order=root_order, root_axis_order=root_axis,
                    root_position=root_pos * length_unit, root_orientation=root_ori, path=path)


def read_amc(path: "str | os.PathLike[str]", skeleton: Optional[Skeleton] = None, *,
             rate: float = CMU_RATE) -> Motion:
    """Read an Acclaim ``.amc`` motion.

    Each frame: a line with the frame number, then ``bone v1 v2 ...``.  With a
    ``skeleton`` every bone must exist in it and carry one value per dof (root:
    one per ``root_order`` entry), else :class:`DataFormatError` (file, line,
    bone).  Every frame must list the same bones as the first.
    """
    path = os.fspath(path)
    lines = _lines(path)
    with open(path, "rb") as fh:
        fh.seek(0, os.SEEK_END)
        size = fh.tell()
        fh.seek(max(0, size - 1))
        ends_nl = size == 0 or fh.read(1) in (b"\n", b"\r")
    angle_unit = "deg"
    frames: List[int] = []
    rows: Dict[str, List[List[float]]] = {}
    counts: Dict[str, int] = {}
    seen: Optional[set] = None
    cur: Optional[set] = None
    cur_line = 0

    def close_frame(at_line):
        nonlocal seen
        if cur is None:
            return
        if seen is None:
            seen = set(cur)
        elif cur != seen:
            missing = sorted(seen - cur)
            extra = sorted(cur - seen)
            raise DataFormatError(path, f"frame {frames[-1]} lists different bones than frame "
                                  f"{frames[0]} (missing {missing}, extra {extra}); the file may "
                                  "be truncated", line=at_line)

    # a file that does not end with a newline was cut mid-line: report errors on its last line as such
    last = next((i for i in range(len(lines), 0, -1) if lines[i - 1].strip()), 0) if not ends_nl else -1

    def truncated(i):
        return i == last

    def fail(problem, i, fld=None):
        if truncated(i):
            problem = (f"the file ends in the middle of a line ({lines[i - 1].strip()!r}): it is "
                       "truncated; copy or download it again")
        raise DataFormatError(path, problem, line=i, field=fld)

    for i, line in enumerate(lines, start=1):
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        if s.startswith(":"):
            if s.upper().startswith(":RADIANS"):
                angle_unit = "rad"
            elif s.upper().startswith(":DEGREES"):
                angle_unit = "deg"
            continue
        toks = s.split()
        if len(toks) == 1 and toks[0].lstrip("-").isdigit():
            close_frame(cur_line)
            frames.append(int(toks[0]))
            cur = set()
            cur_line = i
            continue
        if cur is None:
            raise DataFormatError(path, f"bone line {toks[0]!r} before the first frame number",
                                  line=i)
        bone = toks[0]
        if skeleton is not None:
            if bone == "root":
                n = len(skeleton.root_order)
            elif bone in skeleton.bones:
                n = len(skeleton.bones[bone].dof)
            else:
                fail(f"bone {bone!r} is not in the skeleton {skeleton.path or skeleton.name!r}; "
                     f"expected one of its {len(skeleton.bones)} bones", i, bone)
        else:
            n = counts.setdefault(bone, len(toks) - 1)
        if len(toks) - 1 != n:
            fail(f"{len(toks) - 1} values for {bone!r}, expected {n}"
                 + (" (its dofs in the ASF)" if skeleton is not None else " (as in the first frame)"),
                 i, bone)
        if bone in cur:
            raise DataFormatError(path, f"bone {bone!r} twice in frame {frames[-1]}", line=i,
                                  field=bone)
        try:
            vals = [float(t) for t in toks[1:]]
        except ValueError:
            fail(f"non-numeric value in {s!r}", i, bone)
        if not all(math.isfinite(v) for v in vals):
            fail(f"non-finite value (NaN or inf) in {s!r}; expected finite angles/positions", i, bone)
        rows.setdefault(bone, []).append(vals)
        cur.add(bone)
    close_frame(cur_line)
    if not frames:
        raise DataFormatError(path, "no frames; expected frame numbers followed by bone lines")
    values = {b: np.asarray(v, dtype=np.float64).reshape(len(v), -1) for b, v in rows.items()}
    for b, v in values.items():
        if v.shape[0] != len(frames):
            raise DataFormatError(path, f"bone {b!r} has {v.shape[0]} rows for {len(frames)} "
                                  "frames", field=b)
    return Motion(values=values, frames=np.asarray(frames), rate=rate, angle_unit=angle_unit,
                  path=path)


def forward_kinematics(skeleton: Skeleton, motion: Motion) -> Kinematics:
    """World positions (m) of the root and every bone end, (T, 1 + n_bones, 3).

    See the module docstring for the rotation conventions.  Bones absent from
    the motion (no dofs, e.g. ``lhipjoint``) keep their rest orientation.
    """
    T = motion.n_frames
    to_rad = (math.pi / 180.0) if motion.angle_unit == "deg" else 1.0
    if "root" not in motion.values:
        raise DataFormatError(motion.path, "no 'root' line; expected root values in every frame",
                              field="root")
    root = motion.values["root"]
    order = skeleton.root_order
    idx = {k: i for i, k in enumerate(order)}
    try:
        trans = np.stack([root[:, idx[a]] for a in ("tx", "ty", "tz")], axis=1)
    except KeyError:
        trans = np.zeros((T, 3))
    rot_keys = [k for k in order if k.startswith("r")]
    rroot = np.stack([root[:, idx[k]] for k in rot_keys], axis=1) * to_rad if rot_keys \
        else np.zeros((T, 0))
    C0 = _euler(skeleton.root_axis_order.lower(), np.radians(skeleton.root_orientation))
    M0 = _euler([k[1] for k in rot_keys], rroot)
    W = {"root": C0 @ M0 @ C0.T}
    P = {"root": trans * skeleton.length_unit}
    names = ["root"]
    parents = [-1]
    for b in skeleton.order():
        bone = skeleton.bones[b]
        par = skeleton.parent[b]
        C = bone.C
        rots = [d for d in bone.dof if d in ("rx", "ry", "rz")]
        if any(d not in ("rx", "ry", "rz") for d in bone.dof):
            raise NotImplementedError(f"bone {b!r}: only rotational dofs are supported, "
                                      f"got {bone.dof}")
        if rots and b in motion.values:
            v = motion.values[b]
            M = _euler([d[1] for d in rots], v[:, [bone.dof.index(d) for d in rots]] * to_rad)
            W[b] = W[par] @ (C @ M @ C.T)
        else:
            W[b] = np.broadcast_to(W[par], (T, 3, 3)) @ np.eye(3)
        P[b] = P[par] + bone.length * (W[b] @ bone.direction)
        names.append(b)
        parents.append(names.index(par))
    W["root"] = np.broadcast_to(W["root"], (T, 3, 3))
    pos = np.stack([P[n] for n in names], axis=1)
    rot = np.stack([np.broadcast_to(W[n], (T, 3, 3)) for n in names], axis=1)
    return Kinematics(names=tuple(names), positions=pos, parents=tuple(parents), rotations=rot,
                      rate=motion.rate)


# --------------------------------------------------------------------------- #
def asf_to_opensim_matrix(forward) -> np.ndarray:
    """Rotation (3, 3) from the ASF world frame (Y up) to OpenSim's ground frame.

    OpenSim: Y up, X forward (direction of walking), Z right.  ``forward`` is
    the walking direction in ASF world coordinates; only its horizontal (X-Z)
    part is used.  The result is a proper rotation about Y: rows are the
    OpenSim axes in ASF coordinates, ``x = forward``, ``y = (0,1,0)``,
    ``z = x × y`` (which is the subject's right when walking forward upright).
    """
    f = np.asarray(forward, dtype=np.float64).copy()
    f[1] = 0.0
    nf = np.linalg.norm(f)
    if not nf > 0:
        raise ValueError("forward direction has no horizontal component")
    x = f / nf
    y = np.array([0.0, 1.0, 0.0])
    z = np.cross(x, y)
    return np.stack([x, y, z])


def asf_to_opensim(points, forward=None) -> Tuple[np.ndarray, np.ndarray]:
    """Rotate ASF world points (..., 3) into OpenSim's frame; returns ``(points, R)``.

    ``forward``: walking direction in ASF coordinates.  Default: the net
    horizontal displacement of the first point over the trial
    (``points[-1, 0] - points[0, 0]`` for (T, n, 3) input, e.g. the root of
    :class:`Kinematics`), i.e. the direction actually walked.  (In the CMU rest
    pose the subject faces +Z; pass ``forward=(0, 0, 1)`` to use that
    body-fixed choice instead.)  The origin is kept; only the rotation
    ``p_opensim = R @ p_asf`` is applied.
    """
    p = np.asarray(points, dtype=np.float64)
    if forward is None:
        if p.ndim != 3:
            raise ValueError("give forward= for points that are not (T, n, 3)")
        forward = p[-1, 0] - p[0, 0]
    R = asf_to_opensim_matrix(forward)
    return p @ R.T, R
