"""Ground reactions ↔ contact wrenches in the model convention, and contact labels.

Model convention (README): per contact, ``w = [F, M]`` — the world-frame force (N) on the
contact body and its moment (N·m) **about the contact body's origin** (for the built-in models
the calcn origin), world frame, OpenSim axes (Y up, X forward, Z right).

:class:`GroundReactions` stores measured reactions per model contact as a force and its moment
about the **world origin** (``force``, ``moment``), which makes sums of several plates under one
foot and transports to any point exact and trivial:

* to the model: ``w = reactions.wrenches(origins)`` with ``origins = kernels.contact_points(q, p)``
  (``M_o = M_0 - o × F``);
* back: :func:`wrenches_to_reactions` / :func:`wrench_to_cop_form` (force, centre of pressure on
  the ground plane, free moment) — :func:`symgait.io.wrench_to_cop` underneath.

Sources: OpenSim ``.mot`` + ExternalLoads ``.xml`` (:func:`reactions_from_external_loads`; the
XML's ``applied_to_body`` picks the contact whose body it is), a plate ``.mot`` without XML
(:func:`reactions_from_mot`, plates assigned to feet by proximity), C3D force platforms
(:func:`reactions_from_c3d`, rotated into OpenSim axes and assigned by proximity).

Contact labels: :func:`labels_from_force` (vertical force above a threshold, default 20 N) where
plates exist; :func:`labels_from_kinematics` (foot point height above its own trial minimum and
its speed) where they don't.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
from scipy.interpolate import make_interp_spline

from ..io import read_external_loads, read_mot
from ..signals.filters import resample, velocity
from .wrench import wrench_to_cop
from ..signals.runs import remove_short_runs, true_runs

__all__ = ["GroundReactions", "Plates", "reactions_from_external_loads", "reactions_from_mot",
           "reactions_from_c3d", "plates_from_mot", "plates_from_c3d", "assign_plates",
           "wrenches_to_reactions", "wrench_to_cop_form", "labels_from_force",
           "labels_from_kinematics", "foot_point_indices", "UP"]

UP = np.array([0.0, 1.0, 0.0])


@dataclass(frozen=True, eq=False)
class GroundReactions:
    """Measured ground reactions per model contact, world frame (Y up).

    ``force`` (T, nc, 3) N and ``moment`` (T, nc, 3) N·m about the world origin, at ``time``
    (T,) s, for ``contacts`` (model contact names, model order).  ``source`` says where they
    came from (file names).  ``shared`` (T,) bool or None: the frames where one plate carried
    two feet at once (:func:`assign_plates` with ``per_run=False``): the total is measured, its
    split between the feet is not (there the force is given whole to the foot nearest its
    centre of pressure).
    """
    time: np.ndarray
    contacts: Tuple[str, ...]
    force: np.ndarray
    moment: np.ndarray
    source: str = ""
    shared: Optional[np.ndarray] = None

    def wrenches(self, origins) -> np.ndarray:
        """``w`` (T, nc, 6): force and moment about ``origins`` (T, nc, 3), the contact bodies'
        origins (``kernels.contact_points(q, p)``)."""
        o = np.asarray(origins, dtype=np.float64)
        M = self.moment - np.cross(o, self.force)
        return np.concatenate([self.force, M], axis=-1)

    def cop(self, plane_height: float = 0.0, min_vertical_force: float = 20.0):
        """(force (T,nc,3), centre of pressure (T,nc,3) NaN where unloaded, free moment (T,nc))."""
        w = np.concatenate([self.force, self.moment], axis=-1)
        return wrench_to_cop(w, (0.0, 0.0, 0.0), plane_height=plane_height,
                             min_vertical_force=min_vertical_force)

    def resampled(self, t, *, antialias: bool = False) -> "GroundReactions":
        """The reactions at times ``t`` (linear interpolation; optionally anti-aliased first)."""
        t = np.asarray(t, dtype=np.float64)
        T, nc = self.force.shape[:2]
        x = np.concatenate([self.force, self.moment], axis=-1).reshape(T, -1)
        y = resample(x, self.time, t, antialias=antialias, outside="clip").reshape(t.size, nc, 6)
        shared = None
        if self.shared is not None:     # nearest sample
            i = np.clip(np.searchsorted(self.time, t), 1, self.time.size - 1)
            i -= (t - self.time[i - 1]) < (self.time[i] - t)
            shared = np.asarray(self.shared, bool)[i]
        return replace(self, time=t, force=y[..., :3].copy(), moment=y[..., 3:].copy(), shared=shared)

    def labels(self, threshold: float = 20.0) -> np.ndarray:
        """Contact labels (T, nc) bool: vertical force above ``threshold`` N."""
        return labels_from_force(self.force, threshold)


@dataclass(frozen=True, eq=False)
class Plates:
    """Force-plate data in OpenSim axes before assignment to feet: per plate force (T, np, 3),
    moment about the world origin (T, np, 3), at ``time``; ``names`` per plate."""
    time: np.ndarray
    names: Tuple[str, ...]
    force: np.ndarray
    moment: np.ndarray
    source: str = ""

    def resampled(self, t, *, antialias: bool = False) -> "Plates":
        t = np.asarray(t, dtype=np.float64)
        T, n = self.force.shape[:2]
        x = np.concatenate([self.force, self.moment], axis=-1).reshape(T, -1)
        y = resample(x, self.time, t, antialias=antialias, outside="clip").reshape(t.size, n, 6)
        return replace(self, time=t, force=y[..., :3].copy(), moment=y[..., 3:].copy())


def _contact_for_body(model, body: str) -> Optional[str]:
    """The contact on ``body``; on a body without one (a force applied to ``talus_r`` or
    ``toes_r``), the only contact on a child body, else the nearest one above it."""
    on = {c.body: c.name for c in model.spec.contacts}
    if body in on:
        return on[body]
    parent = {b.name: b.parent for b in model.spec.bodies}
    if body not in parent:
        return None

    def above(b):
        while b in parent:
            b = parent[b]
            yield b
    below = [n for b, n in on.items() if parent.get(b) == body]
    if len(below) == 1:
        return below[0]
    return next((on[b] for b in above(body) if b in on), None)


def _natural_cubic(time, x, t):
    """``x`` (T, k) at ``t`` by the interpolating natural cubic spline through ``(time, x)``
    (OpenSim's ExternalForce: a degree-3 GCVSpline with zero error variance); held at the end
    values outside ``time``."""
    t = np.clip(np.asarray(t, dtype=np.float64), time[0], time[-1])
    if time.size < 4:
        return np.stack([np.interp(t, time, c) for c in np.asarray(x).T], axis=1)
    return make_interp_spline(time, x, k=3, bc_type="natural")(t)


def _table_wrench_about_origin(table, ef, t=None):
    F, P, Tq = ef.data(table)
    if t is not None:
        F = _natural_cubic(table.time, F, t)
        P = None if P is None else _natural_cubic(table.time, P, t)
        Tq = None if Tq is None else _natural_cubic(table.time, Tq, t)
    if P is None:
        P = np.zeros_like(F)
    M = np.cross(P, F)
    if Tq is not None:
        M = M + Tq
    return F, M


def reactions_from_external_loads(model, xml_path, datafile=None, t=None) -> GroundReactions:
    """Reactions from an OpenSim ExternalLoads ``.xml`` and its data ``.mot``.

    ``t`` (s): the reactions at these times as OpenSim's ExternalForce evaluates them: force,
    point and torque columns each interpolated by a natural cubic spline, the moment formed
    after (default: at the file's own times).

    Each enabled ``ExternalForce`` goes to the model contact on its ``applied_to_body``
    (several forces on one body are summed).  Point and torque columns are taken as expressed
    in ground (the only case the shared data use; other bodies raise ``NotImplementedError``).
    ``datafile`` overrides the XML's ``<datafile>`` (resolved next to the XML).
    """
    el = read_external_loads(xml_path)
    path = Path(datafile) if datafile is not None else el.datafile_path
    if path is None or not Path(path).exists():
        raise FileNotFoundError(f"{xml_path}: data file {path} not found; pass datafile=")
    table = read_mot(path)
    names = tuple(model.contacts)
    T = table.time.size if t is None else np.size(t)
    F = np.zeros((T, len(names), 3))
    M = np.zeros((T, len(names), 3))
    used = 0
    for ef in el:
        if ef.disabled:
            continue
        if ef.force_expressed_in_body != "ground" or (ef.point_identifier and
                                                      ef.point_expressed_in_body != "ground"):
            raise NotImplementedError(f"{xml_path}: force {ef.name} is expressed in "
                                      f"{ef.force_expressed_in_body}/{ef.point_expressed_in_body}; "
                                      "only ground is supported")
        c = _contact_for_body(model, ef.applied_to_body)
        if c is None:
            raise KeyError(f"{xml_path}: force {ef.name!r} acts on {ef.applied_to_body!r}, which "
                           f"carries no contact of model {model.name!r} (contacts: "
                           f"{[(x.name, x.body) for x in model.spec.contacts]})")
        f, m = _table_wrench_about_origin(table, ef, t)
        i = names.index(c)
        F[:, i] += f
        M[:, i] += m
        used += 1
    return GroundReactions(time=table.time.copy() if t is None else np.asarray(t, dtype=np.float64).copy(),
                           contacts=names, force=F, moment=M,
                           source=f"{Path(xml_path).name} + {Path(path).name}")


def plates_from_mot(path) -> Plates:
    """Plates of an OpenSim GRF ``.mot`` without an ExternalLoads file: every column triple
    ``<prefix>force_v{x,y,z}`` (with ``<prefix>force_p*`` and ``<prefix>torque_*`` if present)."""
    import re
    table = read_mot(path)
    # <pre>force<id>_vx: ground_force_vx, R_ground_force_vx, ground_force_1_vx (AddBiomechanics)
    found = [re.fullmatch(r"(.*)force(_[^_]+)?_vx", n) for n in table.names]
    sets = [(m.group(1), m.group(2) or "") for m in found if m]
    if not sets:
        raise KeyError(f"{path}: no '*force_vx' columns; expected OpenSim GRF columns")
    prefixes = [pre + sid[1:] for pre, sid in sets]
    Fs, Ms = [], []
    for pre, sid in sets:
        F = table.columns([f"{pre}force{sid}_v{a}" for a in "xyz"])
        pc = [f"{pre}force{sid}_p{a}" for a in "xyz"]
        P = table.columns(pc) if all(c in table for c in pc) else np.zeros_like(F)
        M = np.cross(P, F)
        base = pre[:-len("ground_")] if pre.endswith("ground_") else pre
        for cand in (f"{pre}torque{sid}_", f"{base}ground_torque{sid}_", f"{pre}moment{sid}_",
                     f"{pre}force{sid}_m"):
            tc = [f"{cand}{a}" for a in "xyz"]
            if all(c in table for c in tc):
                M = M + table.columns(tc)
                break
        Fs.append(F)
        Ms.append(M)
    return Plates(time=table.time.copy(), names=tuple(p or "plate" for p in prefixes),
                  force=np.stack(Fs, 1), moment=np.stack(Ms, 1), source=Path(path).name)


def plates_from_c3d(c3d, R: np.ndarray, origin=None) -> Plates:
    """C3D force platforms (lab frame, see :mod:`symgait.io.c3d`) → OpenSim axes.

    ``R`` (3, 3) maps lab vectors to OpenSim axes (``x_os = R @ (x_lab - origin)``; the same
    rotation as the markers').  Moments are taken about the world origin.
    """
    if not c3d.plates:
        raise ValueError(f"{c3d.path}: no force platforms")
    origin = np.zeros(3) if origin is None else np.asarray(origin, float)
    t = c3d.plates[0].time
    Fs, Ms = [], []
    for pl in c3d.plates:
        F = pl.force @ R.T
        # moment about the plate centre -> about the lab origin -> rotate
        M_lab0 = pl.moment + np.cross(pl.centre - origin, pl.force)
        Fs.append(F)
        Ms.append(M_lab0 @ R.T)
    return Plates(time=t.copy(), names=tuple(f"plate{pl.index + 1}" for pl in c3d.plates),
                  force=np.stack(Fs, 1), moment=np.stack(Ms, 1), source=Path(c3d.path).name)


def foot_point_indices(model) -> Dict[str, List[int]]:
    """Per contact, the indices of the model points on the contact body and its descendants
    (heel, toe, foot markers...)."""
    bodies = {b.name: b for b in model.spec.bodies}
    desc: Dict[str, set] = {}
    for c in model.spec.contacts:
        s = {c.body}
        changed = True
        while changed:
            changed = False
            for b in model.spec.bodies:
                if b.parent in s and b.name not in s:
                    s.add(b.name)
                    changed = True
        desc[c.name] = s
    out = {}
    for c in model.spec.contacts:
        out[c.name] = [i for i, p in enumerate(model.spec.points) if p.body in desc[c.name]]
        if not out[c.name]:
            raise ValueError(f"model {model.name!r}: no points on contact {c.name!r}'s foot")
    del bodies
    return out


def assign_plates(plates: Plates, model, foot_points: np.ndarray, *, threshold: float = 20.0,
                  max_distance: float = 0.35, contact_hint=None, per_run: bool = True) -> GroundReactions:
    """Assign plate samples to the feet nearest to their centre of pressure.

    ``plates`` must be sampled at the motion times; ``foot_points`` (T, npts, 3) model points
    (``kernels.points(q, p)``) in the same (OpenSim) frame.  Per frame and plate with vertical
    force above ``threshold``, the contact whose foot points come closest (horizontally) to the
    COP is the candidate; ``contact_hint`` (T, nc) kinematic contact labels restrict the
    candidates to feet on the ground where any is.  With ``per_run`` each contiguous loaded run
    of a plate goes to the foot chosen most often in it (one foot per plate strike).

    ``per_run=False`` is for a plate that two feet may load at once (a single-belt treadmill):
    each loaded run is cut at the frames where the kinematics put both feet on the ground
    (``contact_hint``), each part goes whole to the foot chosen most often in it (a stance of one
    foot: at its low-force ends the centre of pressure is not reliable enough to move the force
    to the other foot, which swings past within a few centimetres), and the frames with both
    feet on the ground go frame by frame to the nearest foot and are returned as
    ``GroundReactions.shared``: there the split between the feet is not measured.  Without
    ``contact_hint`` every frame goes to its nearest foot.

    Samples below the threshold belong to the nearest run.  Runs whose COP is farther than
    ``max_distance`` m from every foot are dropped.  Several plates under one foot are summed.
    """
    T, npl = plates.force.shape[:2]
    fidx = foot_point_indices(model)
    names = tuple(model.contacts)
    F = np.zeros((T, len(names), 3))
    M = np.zeros((T, len(names), 3))
    w = np.concatenate([plates.force, plates.moment], -1)
    _, cop, _ = wrench_to_cop(w, (0.0, 0.0, 0.0), min_vertical_force=threshold)
    hint = None if contact_hint is None else np.asarray(contact_hint, bool)
    both = np.zeros(T, bool) if hint is None else hint.all(1)
    shared = np.zeros(T, bool)
    for j in range(npl):
        loaded = plates.force[:, j, 1] > threshold
        d = np.full((T, len(names)), np.inf)
        for ci, c in enumerate(names):
            pts = foot_points[:, fidx[c], :]
            dh = np.linalg.norm((pts - cop[:, j, None, :])[..., [0, 2]], axis=-1)
            d[:, ci] = np.nanmin(np.where(np.isfinite(dh), dh, np.inf), axis=1)
        dsel = d.copy()
        if hint is not None:
            any_on = hint.any(1)
            dsel = np.where(any_on[:, None] & ~hint, np.inf, d)
            dsel = np.where(np.isfinite(dsel).any(1)[:, None], dsel, d)
        best = np.argmin(dsel, axis=1)
        ok = loaded & (np.min(d, axis=1) < max_distance)
        owner = np.full(T, -1)
        if per_run:
            for t0, t1 in true_runs(loaded):
                sel = ok[t0:t1]
                if sel.any():
                    owner[t0:t1] = np.bincount(best[t0:t1][sel], minlength=len(names)).argmax()
        elif hint is None:
            owner[ok] = best[ok]
        else:
            owner[ok & both] = best[ok & both]
            shared |= loaded & both
            for t0, t1 in true_runs(loaded & ~both):
                sel = ok[t0:t1]
                if sel.any():
                    owner[t0:t1] = np.bincount(best[t0:t1][sel], minlength=len(names)).argmax()
        got = owner >= 0
        if got.any():
            idx = np.nonzero(got)[0]
            pos = np.clip(np.searchsorted(idx, np.arange(T)), 0, idx.size - 1)
            prev = idx[np.clip(pos - 1, 0, idx.size - 1)]
            nxt = idx[pos]
            pick = np.where(np.abs(prev - np.arange(T)) < np.abs(nxt - np.arange(T)), prev, nxt)
            full = owner[pick]
            for ci in range(len(names)):
                sel = full == ci
                F[sel, ci] += plates.force[sel, j]
                M[sel, ci] += plates.moment[sel, j]
    return GroundReactions(time=plates.time.copy(), contacts=names, force=F, moment=M,
                           source=plates.source, shared=None if per_run else shared)


def reactions_from_mot(model, path, *, xml=None, foot_points=None, t=None,
                       threshold: float = 20.0, offset=None) -> GroundReactions:
    """Reactions from an OpenSim GRF ``.mot``: with ExternalLoads (``xml``, or an ``.xml`` of
    the same stem or naming this file next to it) by its mapping, else by proximity of each
    plate's COP to the feet (``foot_points`` (T, npts, 3) at times ``t`` needed).  ``offset``
    (3,) m: the shift applied to the motion (:attr:`IKResult.offset`), applied to the plates."""
    path = Path(path)
    if xml is None:
        for cand in sorted(path.parent.glob("*.xml")):
            try:
                el = read_external_loads(cand)
            except Exception:
                continue
            if el.datafile and Path(el.datafile).name == path.name:
                xml = cand
                break
    if xml is not None:
        r = reactions_from_external_loads(model, xml, datafile=path)
    else:
        if foot_points is None or t is None:
            raise ValueError(f"{path}: no ExternalLoads .xml names it; foot_points and t are "
                             "needed to assign plates to feet")
        plates = plates_from_mot(path)
        if offset is not None:
            plates = replace(plates, moment=plates.moment + np.cross(np.asarray(offset, float),
                                                                     plates.force))
        return assign_plates(plates.resampled(t), model, foot_points, threshold=threshold)
    if offset is not None and np.any(offset):
        r = replace(r, moment=r.moment + np.cross(np.asarray(offset, float), r.force))
    return r


def reactions_from_c3d(model, c3d, R, foot_points, t, *, origin=None, threshold: float = 20.0,
                       antialias: bool = True, contact_hint=None, per_run: bool = True) -> GroundReactions:
    """Reactions from a C3D's plates (lab → OpenSim by ``R`` about ``origin``), resampled to
    ``t`` (anti-aliased by default) and assigned to feet by proximity (:func:`assign_plates`;
    ``per_run=False`` for a plate both feet load, frame by frame)."""
    plates = plates_from_c3d(c3d, R, origin).resampled(t, antialias=antialias)
    return assign_plates(plates, model, foot_points, threshold=threshold,
                         contact_hint=contact_hint, per_run=per_run)


def wrenches_to_reactions(w, origins, time, contacts, source="model") -> GroundReactions:
    """Inverse of :meth:`GroundReactions.wrenches`: model wrenches about the contact origins
    → force and moment about the world origin."""
    w = np.asarray(w, dtype=np.float64)
    o = np.asarray(origins, dtype=np.float64)
    F = w[..., :3]
    M = w[..., 3:] + np.cross(o, F)
    return GroundReactions(time=np.asarray(time, float), contacts=tuple(contacts), force=F.copy(),
                           moment=M, source=source)


def wrench_to_cop_form(w, origins, *, plane_height: float = 0.0, min_vertical_force: float = 20.0):
    """Model wrenches (T, nc, 6) about ``origins`` → (force, COP on the ground plane, free
    moment about the vertical); COP/free moment NaN where the vertical force is below
    ``min_vertical_force``."""
    return wrench_to_cop(w, origins, plane_height=plane_height, min_vertical_force=min_vertical_force)


def labels_from_force(force, threshold: float = 20.0) -> np.ndarray:
    """Contact labels (T, nc) bool: vertical (Y) force component above ``threshold`` N.
    ``force`` may be (T, nc, 3) forces or (T, nc, 6) wrenches."""
    f = np.asarray(force, dtype=np.float64)
    return f[..., 1] > threshold


def labels_from_kinematics(points, rate: float, foot_points: Dict[str, Sequence[int]], *,
                           height: float = 0.04, speed: float = 0.8, ground=None,
                           min_duration: float = 0.05, treadmill: Optional[bool] = None
                           ) -> Tuple[np.ndarray, Dict[str, np.ndarray]]:
    """Contact labels without plates, from foot point heights and speeds.

    ``points`` (T, npts, 3) world positions (Y up, e.g. ``kernels.points(q, p)``);
    ``foot_points`` per contact the point indices of that foot (:func:`foot_point_indices`).
    Each foot point's height is measured above its own lowest value in the trial (so markers
    on top of the foot and an unknown floor level need no calibration), after removing the
    slope of a floor plane fitted to the slow lowest foot points (floors that are not level in
    the capture frame), or above ``ground`` (m) if given.  A foot is in contact when any of its points is within ``height`` m of that level
    **and** moves slower than ``speed`` m/s (speeds from central differences).  Runs shorter than
    ``min_duration`` s are removed (either label).  Speeds are taken relative to the ground's
    horizontal velocity, estimated as the median horizontal velocity of the lowest foot point
    (≈ 0 over ground; the belt velocity on a treadmill: ``treadmill=None`` decides by whether
    that estimate exceeds 0.3 m/s, ``False`` forces 0).  Returns ``(labels (T, nc) bool,
    details)`` with per-contact ``min_height``/``min_speed`` arrays and ``ground_velocity``.
    """
    P = np.asarray(points, dtype=np.float64)
    T = P.shape[0]
    names = list(foot_points)
    lab = np.zeros((T, len(names)), dtype=bool)
    det = {}
    V = velocity(P, rate)
    allidx = sorted({i for c in names for i in foot_points[c]})
    yall = P[:, allidx, 1] - np.nanmin(P[:, allidx, 1], axis=0)
    low = np.nanargmin(np.where(np.isfinite(yall), yall, np.inf), axis=1)
    vlow = V[np.arange(T), np.asarray(allidx)[low]]
    vg = np.nanmedian(vlow, axis=0)
    vg[1] = 0.0
    if treadmill is False or (treadmill is None and np.linalg.norm(vg) < 0.3):
        vg = np.zeros(3)
    det["ground_velocity"] = vg
    sp = np.linalg.norm(V - vg, axis=-1)
    if ground is None:
        # a floor that is not level in the lab frame (CMU trials drift by centimetres):
        # fit y = a + b x + c z to the lowest foot point of the frames where it is slow
        Yf = P[:, allidx, 1]
        j = np.nanargmin(np.where(np.isfinite(Yf), Yf, np.inf), axis=1)
        lowp = P[np.arange(T), np.asarray(allidx)[j]]
        cand = sp[np.arange(T), np.asarray(allidx)[j]] < speed
        coef = np.zeros(3)
        if cand.sum() >= 10:
            X = np.c_[np.ones(cand.sum()), lowp[cand][:, 0], lowp[cand][:, 2]]
            yv = lowp[cand][:, 1]
            for _ in range(3):
                coef, *_ = np.linalg.lstsq(X, yv, rcond=None)
                res = yv - X @ coef
                keep = np.abs(res) < max(0.02, 2.5 * np.std(res))
                X, yv = X[keep], yv[keep]
                if len(yv) < 10:
                    break
        det["ground_plane"] = coef
        P = P.copy()
        P[..., 1] = P[..., 1] - coef[1] * P[..., 0] - coef[2] * P[..., 2]
    for ci, c in enumerate(names):
        idx = list(foot_points[c])
        y = P[:, idx, 1]
        base = np.nanmin(y, axis=0) if ground is None else np.full(len(idx), float(ground))
        h = y - base
        s = sp[:, idx]
        ok = (h < height) & (s < speed)
        lab[:, ci] = ok.any(axis=1)
        det[f"{c}_min_height"] = np.nanmin(h, axis=1)
        det[f"{c}_min_speed"] = np.nanmin(np.where(h < height, s, np.inf), axis=1)
    n = max(1, int(round(min_duration * rate)))
    for ci in range(len(names)):
        lab[:, ci] = remove_short_runs(lab[:, ci], n)
    return lab, det
