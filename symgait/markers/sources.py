"""Load a trial as retargeting sources in OpenSim axes (Y up, X = walking direction, Z right).

:func:`load_source` dispatches on the file type:

* ``.trc`` (OpenSim markers, already Y up / X forward): marker set ``gait2354`` by default.
* ``.c3d`` (lab frame, usually Z up): markers rotated so that the lab's vertical (the force
  plates' normal, else the axis along which the markers spread least... Z by default) becomes
  Y and the horizontal walking direction (net displacement of the pelvis markers; on a
  treadmill, where the pelvis moves slower than :data:`TREADMILL_SPEED`, the direction the pelvis
  faces, front minus back pelvis markers) becomes X;
  the lab origin is kept.  Force plates come with the same rotation (:attr:`Source.c3d`,
  :attr:`Source.R`).  Points a Vicon model computed (:data:`MODEL_POINTS`: Plug-in-Gait segment
  frames, centre of mass, Oxford-foot virtual points) are not markers and are left out.  Marker
  set detected from the labels (``helen_hayes`` for Plug-in-Gait /
  Helen Hayes names).
* ``.amc`` (CMU; the ``.asf`` is ``<subject>.asf`` beside it, e.g. ``08_01.amc`` → ``08.asf``,
  or given): joint centres by :func:`symgait.io.forward_kinematics`, rotated by
  :func:`symgait.io.asf_to_opensim` (X = net walking direction); marker set ``cmu``.
* ``.bvh``: joint positions by :func:`symgait.io.bvh_forward_kinematics` (needs a user map).
* ``.mot`` / ``.sto``: OpenSim coordinates — not a source for IK; see
  :func:`coordinates_from_mot` (direct mapping for gait3d/planar: degrees → radians for
  rotations, pelvis translations in metres).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import List

import re
import warnings

import numpy as np

from ..io.errors import DataFormatError
from ..io import (asf_to_opensim, bvh_forward_kinematics, forward_kinematics, read_amc, read_asf, read_bvh, read_c3d, read_trc)
from .markersets import detect_markerset, strip_prefix

__all__ = ["Source", "load_source", "lab_to_opensim", "MOTION_SUFFIXES"]

MOTION_SUFFIXES = (".trc", ".c3d", ".amc", ".bvh", ".mot", ".sto")


@dataclass
class Source:
    """Positions to retarget: ``labels`` (n), ``positions`` (T, n, 3) m in OpenSim axes (NaN =
    missing), ``time`` (T,) s, ``rate`` Hz, ``kind`` ("markers" | "joint_centres"),
    ``markerset`` (suggested built-in name), ``R`` (3, 3) source-frame → OpenSim rotation,
    ``origin`` (3,) source-frame point mapped to the OpenSim origin, ``c3d`` the C3D data (plates)
    if any, ``path``, ``treadmill`` (a C3D whose pelvis stays in place)."""
    labels: List[str]
    positions: np.ndarray
    time: np.ndarray
    rate: float
    kind: str
    markerset: str
    R: np.ndarray
    origin: np.ndarray
    path: str
    c3d: object = None
    notes: List[str] = field(default_factory=list)
    treadmill: bool = False   # the pelvis stays in place (:data:`TREADMILL_SPEED`)


def lab_to_opensim(positions, up=(0.0, 0.0, 1.0), forward=None, pelvis_idx=None) -> np.ndarray:
    """Rotation (3, 3) from a lab frame to OpenSim axes: rows = OpenSim X (horizontal walking
    direction), Y (= ``up``), Z = X × Y, in lab coordinates.

    ``forward`` (lab vector) default: net horizontal displacement of the mean of ``pelvis_idx``
    markers (all markers if None) between the first and last frames where they are present.
    """
    y = np.asarray(up, float)
    y = y / np.linalg.norm(y)
    if forward is None:
        P = np.asarray(positions, float)
        if pelvis_idx:
            P = P[:, list(pelvis_idx)]
        c = np.nanmean(P, axis=1)
        ok = np.all(np.isfinite(c), axis=1)
        if ok.sum() < 2:
            raise ValueError("cannot find the walking direction: too few frames with markers")
        i0, i1 = np.nonzero(ok)[0][[0, -1]]
        forward = c[i1] - c[i0]
    f = np.asarray(forward, float)
    f = f - np.dot(f, y) * y
    if np.linalg.norm(f) < 1e-6:
        raise ValueError("walking direction has no horizontal component (treadmill or standing "
                         "trial?): pass forward=")
    x = f / np.linalg.norm(f)
    z = np.cross(x, y)
    return np.stack([x, y, z])


_PELVIS_LABELS = ("RASI", "LASI", "SACR", "RPSI", "LPSI", "VSAC", "R.ASIS", "L.ASIS", "V.Sacral")
_FRONT_LABELS = ("RASI", "LASI", "R.ASIS", "L.ASIS", "R_IAS", "L_IAS")
_BACK_LABELS = ("SACR", "RPSI", "LPSI", "VSAC", "V.Sacral", "R.PSIS", "L.PSIS", "R_IPS", "L_IPS")
TREADMILL_SPEED = 0.2   # m/s: a pelvis moving slower than this over the trial is on a treadmill
# points a Vicon model (Plug-in Gait, Oxford Foot Model) computes and stores beside the markers:
# segment frames (origin, anterior, lateral, proximal: PELO, LFEA, HEDL ...), the centre of mass,
# the foot model's virtual points (LFOF0, LHDF1, LTIB2, LHE1, LD1M0, LPROXFF, LArchHeight)
MODEL_POINTS = re.compile(
    r"^(?:[LR](?:CL|FE|FO|HN|HU|RA|TI|TO)|HED|PEL|TRX)[OALP]$|^CentreOfMass(?:Floor)?$"
    r"|^[LR](?:FOF|HDF|HLX)\d$|^[LR]TIB\d$|^[LR]HE1$|^[LR]D1M0$|^[LR]PROXFF$|^[LR]ArchHeight$")


def _facing(labels, markers, time, up):
    """The lab direction the pelvis faces (front minus back pelvis markers, horizontal, median over
    frames) when the pelvis moves less than :data:`TREADMILL_SPEED` on average (a treadmill,
    where the net displacement is drift, or standing), else None."""
    front = [i for i, lab in enumerate(labels) if lab in _FRONT_LABELS]
    back = [i for i, lab in enumerate(labels) if lab in _BACK_LABELS]
    if not front or not back:
        return None
    P = np.asarray(markers, float)
    y = np.asarray(up, float) / np.linalg.norm(up)
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        f, b = np.nanmean(P[:, front], axis=1), np.nanmean(P[:, back], axis=1)
    c = 0.5 * (f + b)
    ok = np.nonzero(np.all(np.isfinite(c), axis=1))[0]
    if ok.size < 2:
        return None
    d = c[ok[-1]] - c[ok[0]]
    d = d - np.dot(d, y) * y
    if np.linalg.norm(d) / max(float(time[ok[-1]] - time[ok[0]]), 1e-9) >= TREADMILL_SPEED:
        return None
    v = np.nanmedian(f[ok] - b[ok], axis=0)
    v = v - np.dot(v, y) * y
    return v if np.linalg.norm(v) > 1e-6 else None


def load_source(path, *, skeleton=None, forward=None, up=None, bvh_length_unit=0.01,
                plates: bool = True) -> Source:
    """Load ``path`` (see the module docstring); ``plates=False``: a C3D's force plates are not
    read (markers alone, e.g. a static trial whose file stores no analog samples)."""
    path = Path(path)
    suf = path.suffix.lower()
    if suf == ".trc":
        m = read_trc(path)
        return Source(labels=list(m.names), positions=m.positions, time=m.time, rate=m.rate,
                      kind="markers", markerset="gait2354", R=np.eye(3), origin=np.zeros(3),
                      path=str(path))
    if suf == ".c3d":
        c = read_c3d(path, plates=plates)
        labels = [strip_prefix(x) for x in c.marker_labels]
        keep = [i for i, lab in enumerate(labels) if not MODEL_POINTS.match(lab)]
        notes, treadmill = [], False
        if len(keep) < len(labels):
            notes.append(f"{len(labels) - len(keep)} points a Vicon model computed (segment frames, "
                         "centre of mass, foot-model virtual points) left out of the markers")
        labels = [labels[i] for i in keep]
        markers = c.markers[:, keep]
        if up is None:
            up = c.plates[0].normal if c.plates else (0.0, 0.0, 1.0)
        pel = [i for i, lab in enumerate(labels) if lab in _PELVIS_LABELS]
        if forward is None:
            forward = _facing(labels, markers, c.time, up)
            treadmill = forward is not None
            if forward is not None:
                notes.append(f"pelvis moves < {TREADMILL_SPEED} m/s (treadmill): forward = the "
                             "direction the pelvis faces")
        R = lab_to_opensim(markers, up=up, forward=forward, pelvis_idx=pel or None)
        pos = markers @ R.T
        try:
            ms = detect_markerset(labels).name
        except ValueError:
            ms = ""
        if not ms:
            notes.append("no built-in marker set matches these labels: give a mapping file")
        return Source(labels=labels, positions=pos, time=c.time - c.time[0], rate=c.point_rate,
                      kind="markers", markerset=ms, R=R, origin=np.zeros(3), path=str(path), c3d=c,
                      notes=notes, treadmill=treadmill)
    if suf == ".amc":
        if skeleton is None:
            stem = path.stem.split("_")[0]
            cands = [path.parent / f"{stem}.asf"] + sorted(path.parent.glob("*.asf"))
            skeleton = next((c for c in cands if c.exists()), None)
            if skeleton is None:
                raise FileNotFoundError(f"{path}: no .asf skeleton beside it; pass skeleton=")
        sk = read_asf(skeleton)
        mo = read_amc(path, sk)
        kin = forward_kinematics(sk, mo)
        pos, R = asf_to_opensim(kin.positions, forward=forward)
        return Source(labels=list(kin.names), positions=pos, time=mo.time, rate=mo.rate,
                      kind="joint_centres", markerset="cmu", R=R, origin=np.zeros(3),
                      path=str(path), notes=[f"skeleton {Path(skeleton).name}"])
    if suf == ".bvh":
        b = read_bvh(path, length_unit=bvh_length_unit)
        pos = bvh_forward_kinematics(b)
        names = list(b.names)
        R = lab_to_opensim(pos, up=(0, 1, 0) if up is None else up, forward=forward, pelvis_idx=[0])
        rate = b.rate
        return Source(labels=names, positions=pos @ R.T, time=np.arange(pos.shape[0]) / rate,
                      rate=rate, kind="joint_centres", markerset="", R=R, origin=np.zeros(3),
                      path=str(path), notes=["BVH joint names vary: give a mapping file"])
    hint = ("; an .asf is a skeleton: give its .amc motion (the .asf beside it is found, or pass "
            "skeleton= / --skeleton)") if suf == ".asf" else ""
    raise DataFormatError(path, f"unsupported motion file type {suf!r}; expected one of "
                                f"{MOTION_SUFFIXES}{hint}")


