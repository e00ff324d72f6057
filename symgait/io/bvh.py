"""BVH (Biovision hierarchy) reader, writer and forward kinematics.

Conventions (standard BVH): each joint's local transform is a translation by
its ``OFFSET`` (plus any position channels, which *add* to the offset) and a
rotation that is the product of its rotation channels **in the listed order**,
``R = R_c1 @ R_c2 @ R_c3`` (e.g. ``Zrotation Xrotation Yrotation`` gives
``Rz Rx Ry``); a point ``v`` in the joint frame is ``R v + offset`` in the
parent frame.  Angles in the file are degrees.  Lengths are in the file's unit;
``length_unit`` (metres per file unit, or ``"cm"``, ``"mm"``, ``"m"``, ``"in"``)
converts them — there is no unit field in BVH, so the caller must say.
World frame: whatever the file uses (commonly Y up).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple, Union

import numpy as np

from ..atomic import write_text
from .errors import DataFormatError
from .units import LENGTH_UNITS

__all__ = ["BVHJoint", "BVH", "read_bvh", "write_bvh", "bvh_forward_kinematics"]

_CHANNELS = ("Xposition", "Yposition", "Zposition", "Xrotation", "Yrotation", "Zrotation")


@dataclass(frozen=True, eq=False)  # holds arrays: compare fields explicitly
class BVHJoint:
    """``offset`` (3,) in metres (after ``length_unit``); ``parent`` index (-1
    for the root); ``channels`` as listed; ``end_site`` True for End Sites
    (named ``<parent>_end``, no channels)."""

    name: str
    parent: int
    offset: np.ndarray
    channels: Tuple[str, ...]
    end_site: bool = False


@dataclass(frozen=True, eq=False)  # holds arrays: compare fields explicitly
class BVH:
    """A BVH file: ``joints`` (depth-first, End Sites included), ``motion``
    (T, n_channels) raw channel values (positions in metres, angles in
    degrees), ``frame_time`` s."""

    joints: Tuple[BVHJoint, ...]
    motion: np.ndarray
    frame_time: float
    path: Optional[str] = None

    @property
    def rate(self) -> float:
        return 1.0 / self.frame_time

    @property
    def names(self) -> Tuple[str, ...]:
        return tuple(j.name for j in self.joints)

    def channel_index(self) -> List[List[int]]:
        """For each joint, the motion columns of its channels."""
        out, k = [], 0
        for j in self.joints:
            out.append(list(range(k, k + len(j.channels))))
            k += len(j.channels)
        return out

    def forward_kinematics(self) -> np.ndarray:
        return bvh_forward_kinematics(self)


def _unit_scale(u: Union[float, str]) -> float:
    if isinstance(u, str):
        try:
            return LENGTH_UNITS[u.strip().lower()]
        except KeyError:
            raise ValueError(f"unknown length unit {u!r}; use a float (metres per unit) or one "
                             f"of {sorted(LENGTH_UNITS)}") from None
    return float(u)


def _tokens(lines):
    for i, line in enumerate(lines, start=1):
        for t in line.replace("{", " { ").replace("}", " } ").split():
            yield i, t


def read_bvh(path: "str | os.PathLike[str]", length_unit: Union[float, str] = 1.0) -> BVH:
    """Read a BVH file; ``length_unit`` = metres per file length unit (or a unit name).

    Raises :class:`DataFormatError` (file, line, what was expected) for a
    malformed hierarchy, a frame count that does not match ``Frames:``, or a
    motion line with the wrong number of values.
    """
    path = os.fspath(path)
    scale = _unit_scale(length_unit)
    with open(path, "rb") as fh:
        raw = fh.read()
    if b"\x00" in raw:
        raise DataFormatError(path, "binary content (NUL bytes); expected a BVH text file")
    lines = raw.decode("latin-1").splitlines()
    # split at MOTION
    mline = next((i for i, l in enumerate(lines) if l.strip().upper() == "MOTION"), None)
    if mline is None:
        raise DataFormatError(path, "no 'MOTION' line; expected HIERARCHY ... MOTION sections")
    toks = list(_tokens(lines[:mline]))
    pos = 0

    def nxt(literal=None, what=None):
        """Next token; if ``literal`` is given it must be that token."""
        nonlocal pos
        want = literal if literal is not None else what
        if pos >= len(toks):
            raise DataFormatError(path, f"hierarchy ends early; expected {want or 'more'!r}",
                                  line=mline)
        ln, t = toks[pos]
        pos += 1
        if literal is not None and t != literal:
            raise DataFormatError(path, f"found {t!r}, expected {literal!r}", line=ln)
        return ln, t

    def nums(n, what):
        vals = []
        for _ in range(n):
            ln, t = nxt(what=what)
            try:
                v = float(t)
            except ValueError:
                v = math.nan
            if not math.isfinite(v):
                raise DataFormatError(path, f"{t!r} is not a finite number; expected {what}",
                                      line=ln)
            vals.append(v)
        return vals

    joints: List[BVHJoint] = []

    def parse_joint(parent: int, name: str):
        nxt("{")
        ln, t = nxt("OFFSET")
        off = np.array(nums(3, "OFFSET x y z")) * scale
        ln, t = nxt()
        chans: Tuple[str, ...] = ()
        if t == "CHANNELS":
            ln, t = nxt(what="channel count")
            try:
                n = int(t)
            except ValueError:
                raise DataFormatError(path, f"{t!r} is not a channel count", line=ln) from None
            cs = []
            for _ in range(n):
                ln, c = nxt(what="channel name")
                if c not in _CHANNELS:
                    raise DataFormatError(path, f"unknown channel {c!r}; expected one of "
                                          f"{_CHANNELS}", line=ln, field=name)
                cs.append(c)
            chans = tuple(cs)
            ln, t = nxt()
        me = len(joints)
        joints.append(BVHJoint(name, parent, off, chans))
        while t != "}":
            if t == "JOINT":
                _, child = nxt(what="joint name")
                parse_joint(me, child)
            elif t == "End":
                nxt("Site")
                nxt("{")
                nxt("OFFSET")
                eoff = np.array(nums(3, "End Site OFFSET x y z")) * scale
                nxt("}")
                joints.append(BVHJoint(f"{name}_end", me, eoff, (), end_site=True))
            else:
                raise DataFormatError(path, f"found {t!r}; expected JOINT, End Site or '}}'",
                                      line=ln, field=name)
            ln, t = nxt(what="JOINT, End Site or '}'")

    ln, t = nxt("HIERARCHY")
    ln, t = nxt("ROOT")
    _, rname = nxt(what="root name")
    parse_joint(-1, rname)
    if pos != len(toks):
        raise DataFormatError(path, f"unexpected {toks[pos][1]!r} after the root joint",
                              line=toks[pos][0])
    # MOTION
    rest = [(i, l) for i, l in enumerate(lines[mline + 1:], start=mline + 2) if l.strip()]
    if len(rest) < 2:
        raise DataFormatError(path, "MOTION section lacks 'Frames:' and 'Frame Time:' lines",
                              line=mline + 1)
    (li1, l1), (li2, l2) = rest[0], rest[1]
    try:
        if not l1.strip().startswith("Frames:"):
            raise ValueError
        nf = int(l1.split(":", 1)[1])
    except ValueError:
        raise DataFormatError(path, f"{l1.strip()!r}; expected 'Frames: <count>'", line=li1) \
            from None
    if nf < 1:
        raise DataFormatError(path, f"'Frames: {nf}'; a BVH motion needs at least one frame",
                              line=li1, field="Frames")
    try:
        if not l2.strip().startswith("Frame Time:"):
            raise ValueError
        ft = float(l2.split(":", 1)[1])
    except ValueError:
        raise DataFormatError(path, f"{l2.strip()!r}; expected 'Frame Time: <seconds>'",
                              line=li2) from None
    if not (math.isfinite(ft) and ft > 0):
        raise DataFormatError(path, f"'Frame Time: {ft:g}'; expected the seconds per frame, > 0 "
                              "(e.g. 0.008333 for 120 Hz)", line=li2, field="Frame Time")
    nch = sum(len(j.channels) for j in joints)
    data = []
    for li, l in rest[2:]:
        parts = l.split()
        if len(parts) != nch:
            raise DataFormatError(path, f"{len(parts)} values, expected {nch} (one per channel); "
                                  "the file may be truncated", line=li)
        try:
            row = [float(v) for v in parts]
        except ValueError:
            raise DataFormatError(path, "non-numeric value in motion line", line=li) from None
        bad = [k for k, v in enumerate(row) if not math.isfinite(v)]
        if bad:
            jc = [(j.name, c) for j in joints for c in j.channels][bad[0]]
            raise DataFormatError(path, f"{parts[bad[0]]!r} (not a finite number) in channel "
                                  f"{jc[1]} of joint {jc[0]!r}; expected a finite value",
                                  line=li, field=jc[0])
        data.append(row)
    if len(data) != nf:
        raise DataFormatError(path, f"{len(data)} motion lines but 'Frames: {nf}'; the file may "
                              "be truncated", line=li1, field="Frames")
    motion = np.asarray(data, dtype=np.float64).reshape(nf, nch)
    # position channels are lengths
    k = 0
    for j in joints:
        for c in j.channels:
            if c.endswith("position"):
                motion[:, k] *= scale
            k += 1
    return BVH(joints=tuple(joints), motion=motion, frame_time=ft, path=path)


def _rot(axis: str, deg: np.ndarray) -> np.ndarray:
    a = np.radians(deg)
    c, s = np.cos(a), np.sin(a)
    o, z = np.ones_like(a), np.zeros_like(a)
    m = {"X": [[o, z, z], [z, c, -s], [z, s, c]],
         "Y": [[c, z, s], [z, o, z], [-s, z, c]],
         "Z": [[c, -s, z], [s, c, z], [z, z, o]]}[axis]
    return np.moveaxis(np.array(m, dtype=np.float64), (0, 1), (-2, -1))


def bvh_forward_kinematics(bvh: BVH, return_rotations: bool = False):
    """World positions (T, n_joints, 3) in metres of every joint (End Sites
    included, in ``bvh.joints`` order); with ``return_rotations`` also the
    world rotations (T, n, 3, 3)."""
    T = bvh.motion.shape[0]
    cols = bvh.channel_index()
    n = len(bvh.joints)
    P = np.zeros((T, n, 3))
    R = np.zeros((T, n, 3, 3))
    for i, j in enumerate(bvh.joints):
        t = np.broadcast_to(j.offset, (T, 3)).copy()
        Rl = np.broadcast_to(np.eye(3), (T, 3, 3)).copy()
        for c, k in zip(j.channels, cols[i]):
            v = bvh.motion[:, k]
            if c.endswith("position"):
                t[:, "XYZ".index(c[0])] += v
            else:
                Rl = Rl @ _rot(c[0], v)
        if j.parent < 0:
            P[:, i] = t
            R[:, i] = Rl
        else:
            Rp = R[:, j.parent]
            P[:, i] = P[:, j.parent] + np.einsum("tij,tj->ti", Rp, t)
            R[:, i] = Rp @ Rl
    return (P, R) if return_rotations else P


def write_bvh(path: "str | os.PathLike[str]", bvh: BVH, length_unit: Union[float, str] = 1.0,
              precision: int = 6) -> None:
    """Write ``bvh`` to ``path`` (lengths divided by ``length_unit`` metres per unit)."""
    scale = _unit_scale(length_unit)
    children: Dict[int, List[int]] = {}
    for i, j in enumerate(bvh.joints):
        children.setdefault(j.parent, []).append(i)
    out = ["HIERARCHY"]
    fmt = f"{{:.{precision}f}}"

    def emit(i, depth):
        j = bvh.joints[i]
        ind = "\t" * depth
        if j.end_site:
            out.append(f"{ind}End Site")
        else:
            out.append(f"{ind}{'ROOT' if j.parent < 0 else 'JOINT'} {j.name}")
        out.append(f"{ind}{{")
        out.append(f"{ind}\tOFFSET " + " ".join(fmt.format(v / scale) for v in j.offset))
        if j.channels:
            out.append(f"{ind}\tCHANNELS {len(j.channels)} " + " ".join(j.channels))
        for c in children.get(i, []):
            emit(c, depth + 1)
        out.append(f"{ind}}}")

    roots = children.get(-1, [])
    if len(roots) != 1:
        raise ValueError(f"BVH needs exactly one root joint, got {len(roots)}")
    emit(roots[0], 0)
    out.append("MOTION")
    out.append(f"Frames: {bvh.motion.shape[0]}")
    out.append(f"Frame Time: {bvh.frame_time:.8f}")
    m = bvh.motion.copy()
    k = 0
    for j in bvh.joints:
        for c in j.channels:
            if c.endswith("position"):
                m[:, k] /= scale
            k += 1
    for row in m:
        out.append(" ".join(fmt.format(v) for v in row))
    write_text(path, "\n".join(out) + "\n")
