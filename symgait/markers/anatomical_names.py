"""Marker sets built from descriptive anatomical labels, whatever their spelling: ``L_ASIS``,
``l_asis``, ``LAsis``, ``L.ASIS``, ``R_Knee_Lat``, ``R_Ankle_Lateral``, ``RLatMal``, ``R_MT_5``,
``R_5meta``, ``L_HJC`` ... (OpenCap, Camargo 2021, the Knee Grand Challenge, Motion Analysis
and other labs' exports).

A label is split into a side (``R``/``L``/``Right``/``Left`` before a separator, an ``x``
separator as in ``LxAsis``, or a capital)
and a name, lower-cased without separators; the name is looked up in :data:`LANDMARKS`, which
gives the built-in models' gait2354 point (``{S}`` = R/L, ``{s}`` = r/l) and a weight.  Both
posterior iliac spines present → their mean is ``V.Sacral``.  Arm landmarks (``R_elbow_lat``,
``R_elbow_med``, ``R_wrist_radius``, ``R_wrist_ulna``, ``R.Elbow``, ``R.Wrist`` ...) are looked up in
:data:`ARM_LANDMARKS`: body-fixed at the ISB medians of
:data:`symgait.markers.conventions.ISB_ARMS`, for models with arms (they do not count in the
detection).  Short Plug-in-Gait codes (``RASI``, ``RKNE``) are left to the ``helen_hayes`` set.
"""
from __future__ import annotations

import re
from typing import Dict, Optional, Sequence, Tuple

from .markersets import Entry, MarkerSet, isb_arm_entry, strip_prefix

__all__ = ["LANDMARKS", "ARM_LANDMARKS", "split_side", "anatomical_markerset"]

# name (lower case, no separators) -> (model point template, weight)
LANDMARKS: Dict[str, Tuple[str, float]] = {}
for _names, _point, _w in (
        (("asis", "antsupiliacspine"), "{S}.ASIS", 1.0),
        (("heel", "calc", "calcaneus", "heelback", "fcc"), "{S}.Heel", 1.0),
        (("kneelat", "kneelateral", "latcon", "lfc", "lateralknee", "knee", "latknee", "lateralepicondyle",
          "kneelatepicondyle"), "{S}.Knee.Lat", 1.0),
        (("kneemed", "kneemedial", "medcon", "mfc", "medialknee", "medknee", "medialepicondyle"),
         "{S}.Knee.Med", 1.0),
        (("anklelat", "anklelateral", "latmal", "lmal", "ankle", "lateralmalleolus", "latankle"),
         "{S}.Ankle.Lat", 1.0),
        (("anklemed", "anklemedial", "medmal", "mmal", "medialmalleolus", "medankle"), "{S}.Ankle.Med", 1.0),
        (("5meta", "mt5", "meta5", "toelat", "fifthmet", "5thmet", "met5", "mh5"), "{S}.Toe.Lat", 1.0),
        (("1meta", "mt1", "meta1", "toemed", "firstmet", "1stmet", "met1", "mh1"), "{S}.Toe.Med", 1.0),
        (("toe", "mt2", "2meta", "met2"), "{S}.Toe.Med+{S}.Toe.Lat", 1.0),
        (("toetip", "bigtoe", "hallux"), "{S}.Toe.Tip", 0.5),
        (("shoulder", "acromion", "acromium", "acromio"), "{S}.Acromium", 0.5),
        (("hjc", "hipjc", "hipjointcenter", "hipcenter"), "hip_{s}_center", 1.0),
        (("kjc", "kneejc", "kneejointcenter", "kneecenter"), "knee_{s}_center", 1.0),
        (("ajc", "anklejc", "anklejointcenter", "anklecenter"), "ankle_{s}_center", 1.0)):
    for _n in _names:
        LANDMARKS[_n] = (_point, _w)
# arm: name -> ISB landmark(s) of conventions.ISB_ARMS ({S} = R/L), or a fullbody point (arm=True)
ARM_LANDMARKS: Dict[str, Tuple[str, float]] = {}
for _names, _isb, _w in (
        (("elbowlat", "elbowlateral", "lateralelbow", "latelbow", "elbow", "lateralhumeralepicondyle"),
         "{S}_HLE", 1.0),
        (("elbowmed", "elbowmedial", "medialelbow", "medelbow", "medialhumeralepicondyle"), "{S}_HME", 1.0),
        (("wristradius", "wristrad", "radialstyloid", "wristlat", "wristlateral"), "{S}_RSP", 1.0),
        (("wristulna", "ulnarstyloid", "ulnarhead", "wristmed", "wristmedial"), "{S}_UHE", 1.0),
        (("wrist",), "{S}_RSP+{S}_UHE", 1.0),
        (("olecranon",), "{S}_UOA", 1.0),
        (("bicep", "biceps"), "{S}.Bicep", 0.5)):
    for _n in _names:
        ARM_LANDMARKS[_n] = (_isb, _w)
_UNSIDED = {"sternum": ("Sternum", 0.5), "tophead": ("Top.Head", 0.1), "headtop": ("Top.Head", 0.1)}
_PSIS = ("psis", "postsupiliacspine")

_SIDE = re.compile(r"^(right|left|r|l)(?:[_.\s:-]+|x(?=[A-Z])|(?=[A-Z0-9]))(.+)$", re.IGNORECASE)


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def split_side(label: str) -> Tuple[Optional[str], str]:
    """``"L_Ankle_Lat"`` → ``("L", "anklelat")``; ``"Sternum"`` → ``(None, "sternum")``."""
    m = _SIDE.match(label)
    if m:
        side = m.group(1)[0].upper()
        rest = m.group(2)
        # "LAsis" / "RKnee": a capital after a single letter; "Rear" / "left" alone are no side
        if len(m.group(1)) > 1 or label[len(m.group(1))] in "_.: -" or rest[:1].isupper() or rest[:1].isdigit():
            return side, _key(rest)
    return None, _key(label)


def anatomical_markerset(labels: Sequence[str]) -> MarkerSet:
    """The entries :data:`LANDMARKS` gives for these labels (set name ``anatomical``)."""
    entries, psis = [], {}
    for lab in (strip_prefix(x) for x in labels):
        side, key = split_side(lab)
        if side is not None and key in LANDMARKS:
            pt, w = LANDMARKS[key]
            entries.append(Entry(lab, pt.replace("{S}", side).replace("{s}", side.lower()), w))
        elif side is not None and key in ARM_LANDMARKS:
            where, w = ARM_LANDMARKS[key]
            where = where.replace("{S}", side)
            entries.append(Entry(lab, where, w, arm=True) if "." in where else isb_arm_entry(lab, where, w))
        elif side is not None and key in _PSIS:
            psis[side] = lab
        elif side is None and key in _UNSIDED:
            pt, w = _UNSIDED[key]
            entries.append(Entry(lab, pt, w))
    if len(psis) == 2:
        entries.append(Entry(f"{psis['L']}+{psis['R']}", "V.Sacral", 1.0))
    return MarkerSet("anatomical", entries,
                     ["descriptive anatomical labels matched by name (symgait.markers.anatomical_names)"])
