"""An OpenSim model's MarkerSet as a :class:`~symgait.markers.markersets.MarkerSet` of body-fixed
markers (see :mod:`symgait.markers.body_markers`).

Each marker keeps its OpenSim body (gait2354 / gait2392 / Rajagopal names: ``pelvis``,
``femur_r``, ``tibia_r``, ``talus_r``, ``calcn_r``, ``toes_r``, ``torso`` ... are the built-in
models' body names) and its location divided by that body's reference length in the OpenSim
model (:func:`~symgait.markers.body_markers.reference_lengths` of the .osim's joint centres), so
that it scales to our subject.  Markers on bodies the target model lacks move to the nearest
ancestor it has, through the OpenSim joint at zero coordinates (``patella_r`` → ``femur_r``,
``head`` → ``torso``, and on a model with arms ``radius_r`` and ``hand_r`` → ``ulna_r``: the
built-in ``fullbody`` lumps forearm and hand, pronation and wrist at 0); arm markers (humerus,
ulna, radius, hand) are never moved onto the trunk: they are dropped for models without arms.
Markers on the torso get weight 0.5 (the built-in torso lumps head and shoulder girdle, and in
``gait3d`` the arms).
"""
from __future__ import annotations

from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np

from ..io.osim import read_osim, xyz_body_fixed_matrix
from ..io.osim import read_osim_markers
from .body_markers import is_arm, reference_lengths
from .markersets import Entry, MarkerSet

__all__ = ["osim_tree", "markerset_from_osim", "convention_table", "TORSO_WEIGHT"]

TORSO_WEIGHT = 0.5


def osim_tree(osim) -> Tuple[Dict[str, Dict[str, np.ndarray]], Dict[str, str], Dict[str, np.ndarray]]:
    """``(children, parents, rotations)`` of an :class:`~symgait.io.OsimModel` at zero
    coordinates: each child body's origin in its parent's frame (m), parent names, parent ←
    child rotations (joint rotations at zero coordinates ignored)."""
    children: Dict[str, Dict[str, np.ndarray]] = {b: {} for b in osim.bodies}
    parents, rots = {}, {}
    for j in osim.joints:
        if j.parent_body == osim.ground or j.child_body not in osim.bodies:
            continue
        Rp = xyz_body_fixed_matrix(j.orientation_in_parent)
        Rc = xyz_body_fixed_matrix(j.orientation_in_child)
        t = np.zeros(3)
        for ax in j.translations:
            a = np.asarray(ax.axis, float)
            n = np.linalg.norm(a)
            if n > 0:
                t += float(ax.value({c: 0.0 for c in ax.coordinates})) * a / n
        R = Rp @ Rc.T
        children[j.parent_body][j.child_body] = (np.asarray(j.location_in_parent, float) + Rp @ t
                                                 - R @ np.asarray(j.location_in_child, float))
        parents[j.child_body] = j.parent_body
        rots[j.child_body] = R
    return children, parents, rots


def markerset_from_osim(path, bodies: Optional[Iterable[str]] = None, name: Optional[str] = None
                        ) -> MarkerSet:
    """Body-fixed marker set from ``path`` (an .osim with a MarkerSet), for a model with
    ``bodies`` (default: the OpenSim model's own bodies).  Entries' offsets are in units of the
    body's reference length (see the module docstring); notes say what moved or was dropped."""
    from pathlib import Path
    osim = read_osim(path)
    markers = read_osim_markers(path)
    children, parents, rots = osim_tree(osim)
    L = reference_lengths(children, parents)
    keep = set(osim.bodies) if bodies is None else set(bodies)
    entries: List[Entry] = []
    moved, dropped = [], []
    for mk in markers:
        b, c = mk.body, np.asarray(mk.location, float)
        while b not in keep and b in parents:
            c = children[parents[b]][b] + rots[b] @ c
            b = parents[b]
        if b not in keep or b not in L or (is_arm(mk.body) and not is_arm(b)):
            dropped.append(mk.name)
            continue
        if b != mk.body:
            moved.append(f"{mk.name} ({mk.body} -> {b})")
        w = TORSO_WEIGHT if b == "torso" else 1.0
        entries.append(Entry(mk.name, "", w, body=b, offset=tuple(float(v) for v in c / L[b])))
    notes = [f"from the MarkerSet of {Path(path).name} ({len(entries)} of {len(markers)} markers)"]
    if moved:
        notes.append("moved to the nearest ancestor body the model has: " + ", ".join(moved))
    if dropped:
        notes.append("dropped (body not in the model): " + ", ".join(dropped))
    return MarkerSet(name or f"osim:{Path(path).name}", entries, notes)


def convention_table(paths: Sequence, bodies: Iterable[str]) -> Dict[str, Tuple[str, Tuple[float, float, float], float]]:
    """Median normalised offsets over several subjects' .osim files: ``{label: (body, offset,
    weight)}`` for markers present on the same body in at least half of them (the built-in
    tables in :mod:`symgait.markers.conventions` were made with this)."""
    per: Dict[str, List[Entry]] = {}
    for pth in paths:
        for e in markerset_from_osim(pth, bodies).entries:
            per.setdefault(e.source, []).append(e)
    out = {}
    for lab, es in per.items():
        b = max({e.body for e in es}, key=lambda x: sum(e.body == x for e in es))
        same = [e for e in es if e.body == b]
        if len(same) * 2 < len(paths):
            continue
        off = np.median(np.array([e.offset for e in same]), axis=0)
        out[lab] = (b, tuple(round(float(v), 4) for v in off), same[0].weight)
    return out
