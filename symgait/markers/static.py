"""A subject's marker set from a static standing trial, as a lab calibrates its tracking markers:

    ms = markerset_from_static(model, kern, "RBDS001static.c3d", height=1.81, mass=62)

1. The model is fitted to the static trial with the marker set its labels match (a built-in set
   or anatomical names: iliac spines, epicondyles, malleoli, metatarsal heads ...:
   :func:`symgait.markers.ik.choose_markerset`).
2. Every marker of the trial (the tracking clusters the dynamic trials keep, and the anatomical
   ones) is put on a body -- the body of the model point it was fitted to, else the body whose
   bone (the line from its joint to its child's joints, over the bodies with usable anchors,
   :mod:`symgait.markers.body_markers`) passes nearest to its mean position -- at its mean
   position in that body's frame, in units of the body's reference length.

The result is a :class:`~symgait.markers.markersets.MarkerSet` of body-fixed entries that a
dynamic trial of the same subject is fitted with (:func:`symgait.markers.fit.fit_trial_markers`
``markerset=``), as an OpenSim model's MarkerSet would be.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .body_markers import body_anchors, body_poses, model_tree, reference_lengths
from .fit import fit_trial_markers
from .ik import target_bodies
from .markersets import Entry, MarkerSet
from .osim_markerset import TORSO_WEIGHT
from .sources import load_source
from ..errors import InputError

__all__ = ["markerset_from_static", "STATIC_MAX_RMS"]

STATIC_MAX_RMS = 0.030   # m: a static fit worse than this does not calibrate markers


def _segment_distance(y, a, b):
    """Distance from point ``y`` to the segment ``a``-``b`` (3-vectors)."""
    d = b - a
    s = 0.0 if not np.dot(d, d) > 0 else float(np.clip(np.dot(y - a, d) / np.dot(d, d), 0.0, 1.0))
    return float(np.linalg.norm(y - (a + s * d)))


def markerset_from_static(model, kern, path, *, height: float, mass: float) -> MarkerSet:
    """The marker set of the static trial ``path`` (module docstring); :class:`InputError` when
    its labels match no marker set or the static fit's RMS exceeds :data:`STATIC_MAX_RMS`."""
    src = load_source(path, plates=False)
    try:
        ik, rep = fit_trial_markers(model, src, height=height, mass=mass, kern=kern, register=False,
                                    refine_offsets=False, drop_bad=False, max_rms=STATIC_MAX_RMS)
    except ValueError as e:
        raise InputError(f"{path}: static trial: {e}") from None
    p = ik.p
    P = kern.points(np.ascontiguousarray(ik.q), p)
    anchors = body_anchors(model, p)
    children, parents, _, _ = model_tree(model, p)
    L = reference_lengths(children, parents)
    usable = [b for b in anchors if anchors[b].usable and b in L]
    poses = {b: body_poses(anchors[b], P) for b in usable}
    fitted = {lab: b for name, b in zip(ik.targets.names, target_bodies(model, ik.targets))
              for lab in name.split("+") if b in usable}
    keep = np.isin(np.asarray(src.time), ik.time)
    Y = src.positions[keep] + ik.offset
    entries = []
    for j, lab in enumerate(src.labels):
        y = Y[:, j]
        ok = np.all(np.isfinite(y), axis=1)
        if ok.sum() < max(3, 0.5 * ok.size):
            continue
        ym = y[ok].mean(0)
        best = (0.0, fitted[lab]) if lab in fitted else None
        for b in ([] if best else usable):
            R, o = poses[b]
            om = o[ok].mean(0)
            ends = [om + (R[ok] @ c).mean(0) for c in children.get(b, {}).values()] or [om]
            d = min(_segment_distance(ym, om, e) for e in ends)
            if best is None or d < best[0]:
                best = (d, b)
        b = best[1]
        R, o = poses[b]
        local = np.einsum("tji,tj->ti", R[ok], y[ok] - o[ok]).mean(0)
        w = TORSO_WEIGHT if b == "torso" else 1.0
        entries.append(Entry(lab, "", w, body=b, offset=tuple(float(v) for v in local / L[b])))
    if not entries:
        raise InputError(f"{path}: static trial: no marker present in half of its frames")
    return MarkerSet(f"static {Path(path).stem}", entries,
                     [f"from the static trial {Path(path).name} ({len(entries)} markers; fitted with "
                      f"{rep.markerset}, IK RMS {rep.ik_rms_mm:.1f} mm)"])
