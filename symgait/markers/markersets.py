"""Marker-set maps: source labels (markers, joint centres) → model points, with weights.

A map is a list of :class:`Entry`: ``source`` (a label, or labels joined by ``+`` for their
mean, e.g. ``"LPSI+RPSI"``), ``point`` (a model point name, ``+`` for a mean of model points,
``|`` for alternatives tried in order when a model lacks the first, e.g.
``"mtp_r_center|R.Toe.Med+R.Toe.Lat"``) and ``weight`` (relative weight in the fit; skin markers
far from any model landmark get less).  Several entries may target one model point: the first
whose source labels all exist in the trial is used (e.g. ``SACR``, else ``LPSI+RPSI``, for
``V.Sacral``).  Labels are matched case-sensitively after removing a ``Subject:`` prefix
(Vicon's ``A22:RASI``).

Built-in sets (:data:`MARKERSETS`), point-based:

* ``gait2354`` — OpenSim gait2354's experimental markers (``subject01_walk1.trc``): the built-in
  models carry these names, so the map is the identity for every model point.  TRC markers the
  model lacks (``R.Bicep``, ``R.Elbow``, wrists, temples) are ignored.
* ``helen_hayes`` — Plug-in-Gait / Helen Hayes / CGM lower body (+ shoulders and head where
  present, and Plug-in Gait's upper-limb landmarks on models with arms), and the virtual joint
  centres some systems export (``VRHI``/``VRKN``/``VRAN`` in
  c3d.org's ``Walk1.c3d``; Plug-in-Gait's ``RFEO``/``RTIO`` segment origins = knee/ankle
  centres).  Closest model points, and what the models lack:

  ==========  =============================  ==============================================
  label       model point                    note
  ==========  =============================  ==============================================
  RASI/LASI   R.ASIS / L.ASIS                same landmark
  SACR, VSAC  V.Sacral                       mid-PSIS; ``LPSI+RPSI`` used when SACR absent
  RPSI/LPSI   (none)                         no single-PSIS point: used only as their mean
  RTHI        (none)                         lateral thigh wand: no matching landmark, unused
  RKNE        R.Knee.Lat                     lateral femoral epicondyle
  RKNM/RMKN   R.Knee.Med                     medial epicondyle (CGM2 / KAD setups)
  RTIB, RSHA  (none)                         tibia wand (lower third): no landmark, unused
  RANK        R.Ankle.Lat                    lateral malleolus
  RMMA/RMAK   R.Ankle.Med                    medial malleolus
  RHEE        R.Heel                         calcaneus
  RTOE, R.TO  mean(R.Toe.Med, R.Toe.Lat)     2nd metatarsal head: between the 1st and 5th
  RSHO/LSHO   R.Acromium / L.Acromium (0.5)  acromio-clavicular joint
  STRN        Sternum (w 0.5)                xiphoid vs. gait2354's sternum marker
  THEA        Top.Head (w 0.3)               top of head (Walk1.c3d)
  RELB        ISB R_HLE (humerus)            lateral humeral epicondyle
  RWRA/RWRB   ISB R_RSP / R_UHE (forearm)    radial styloid / ulnar head (wrist bar)
  RWRI        mean of R_RSP and R_UHE        Helen Hayes' single wrist marker
  RFIN        ISB R_HM2 (forearm + hand)     2nd metacarpal head
  RUPA, RFRA  (none)                         arm wands: no landmark, unused
  VRHI/VLHI   hip_r_center / hip_l_center    exported hip joint centres
  VRKN, RFEO  knee_r_center                  exported knee joint centres
  VRAN, RTIO  ankle_r_center                 exported ankle joint centres
  ==========  =============================  ==============================================

  (and the mirror-image ``L*`` labels).  The arm landmarks are body-fixed at the ISB medians of
  :data:`symgait.markers.conventions.ISB_ARMS`.  ``RFEP/RFEA/RFEL``, ``PELO`` etc. (segment axes) and
  ``RHEA``/``FHEA`` (head cluster) are ignored.
* ``cmu`` — CMU Graphics Lab ASF skeleton joint centres (:func:`symgait.io.forward_kinematics`
  names a bone's *end*): ``rhipjoint`` → hip centre, ``rfemur`` → knee centre, ``rtibia`` →
  ankle centre, ``rfoot`` → mtp centre (planar: mean of the toe markers), ``rtoes`` → toe tip
  (w 0.3), ``rclavicle`` → acromion (w 0.5), ``head`` → top of head (w 0.1).  Not used: the
  CMU ``root`` (between the hip centres, at a subject-specific height in the pelvis) and the
  spine bone ends (``lowerback`` ends ~8 cm above the model's lumbar joint).

* ``hamner`` — Hamner & Delp 2013 running markers (pelvis ``RASI``/``RPSI``, thigh and shank
  clusters ``RTH1-3``/``RTB1-3``, foot ``RCAL``/``RTOE``/``RMT5``, trunk ``C7``/``CLAV``/``RACR``);
* ``isb`` — ISB anatomical landmarks of Schreiber & Moissenet 2019 (``R_IAS``, ``R_IPS``,
  ``R_FLE``/``R_FME``, ``R_FAL``/``R_TAM``, ``R_FCC``, ``R_FM1/2/5``, ``CV7``, ``SJN``, ``SXS`` ...).

  Both are *body-fixed* sets: each label sits at an offset in a body's frame (in units of the
  body's reference length, so it scales with the subject), the median over the subjects' scaled
  OpenSim models (:mod:`symgait.markers.conventions`); the IK carries them as affine
  combinations of model points (:mod:`symgait.markers.body_markers`).  Cluster placements differ
  between subjects: :func:`~symgait.markers.fit.fit_trial_markers` re-fits the offsets of
  the markers that fit worse than 20 mm (:mod:`symgait.markers.registration`).  Both carry
  their arm markers too (``RUA1-3``, ``RLEL``/``RMEL``, ``RFAradius`` ...; ``R_HLE``/``R_HME``,
  ``R_RSP``, ``R_UHE``, ``R_UOA``, ``R_HM2/5``).

*Arm entries* (on ``humerus_*``/``ulna_*``, or marked ``arm``: gait2354's ``R.Elbow``,
``R.Bicep``, ``R.Wrist.Lat``/``Med``, points of the built-in ``fullbody``) are carried by models
with arms only: a model without them reports them in ``missing_points`` and leaves their labels
unused (registration may then place them, as before), and they do not count in the detection of
a set (:meth:`MarkerSet.labels`), so that a trial's set is the same for every model.

:func:`detect` picks the built-in set that maps most of a trial's labels (ties: the larger
fraction of the set present; fewer than :data:`MIN_MATCHED` labels: an error naming the fixes)
and says why.  An OpenSim model's MarkerSet is another body-fixed set
(:func:`~symgait.markers.osim_markerset.markerset_from_osim`, ``--osim``).

User maps: :func:`load_markerset` reads a YAML/JSON file::

    name: my-lab
    markers:
      RASI: R.ASIS                          # label: point
      LPSI+RPSI: V.Sacral                   # mean of labels
      RTHI: {point: R.Thigh.Upper, weight: 0.3}
      RTH9: {body: femur_r, offset: [0.05, -0.2, 0.07]}   # metres in the body's frame
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from . import conventions as marker_conventions
from .body_markers import affine_row, body_anchors, is_arm, model_tree, reference_lengths

__all__ = ["Entry", "MarkerSet", "MARKERSETS", "load_markerset", "detect_markerset",
           "Detection", "detect", "rank_markersets", "strip_prefix", "ResolvedTargets", "resolve",
           "body_markerset", "body_rows", "MIN_MATCHED", "isb_arm_entry"]


@dataclass(frozen=True)
class Entry:
    """``source`` labels → ``point`` (a model point expression) or, with ``body``, the point at
    ``offset`` in that body's frame, in units of its reference length
    (:mod:`symgait.markers.body_markers`) or, with ``scaled=False``, in metres."""
    source: str
    point: str
    weight: float = 1.0
    body: Optional[str] = None
    offset: Optional[Tuple[float, float, float]] = None
    scaled: bool = True   # offset in reference lengths (False: metres at the subject's scale)
    arm: bool = False     # a point entry on an arm (body-fixed entries: from their body)

    @property
    def source_labels(self) -> List[str]:
        return [s.strip() for s in self.source.split("+")]

    @property
    def on_arm(self) -> bool:
        """Whether the entry is an arm marker (module docstring, "Arm entries")."""
        return self.arm or is_arm(self.body)


@dataclass
class MarkerSet:
    name: str
    entries: List[Entry]
    notes: List[str] = field(default_factory=list)

    def labels(self, arms: bool = False) -> set:
        """The labels the set maps (those of its arm entries with ``arms``): what detection
        counts."""
        return {lab for e in self.entries if arms or not e.on_arm for lab in e.source_labels}

    def arm_entries(self) -> List[Entry]:
        """The entries on the arms (carried by models with arms only)."""
        return [e for e in self.entries if e.on_arm]


def _sided(pairs: Sequence[Tuple[str, str, float]]) -> List[Entry]:
    """Expand R/L templates: ``{S}`` → R/L in labels, ``{s}`` → r/l, ``{X}`` → R/L in points."""
    out = []
    for src, pt, w in pairs:
        if "{" not in src and "{" not in pt:
            out.append(Entry(src, pt, w))
            continue
        for S, s in (("R", "r"), ("L", "l")):
            out.append(Entry(src.replace("{S}", S).replace("{s}", s),
                             pt.replace("{S}", S).replace("{s}", s), w))
    return out


_GAIT2354_POINTS = [
    "R.ASIS", "L.ASIS", "V.Sacral", "Sternum", "R.Acromium", "L.Acromium", "Top.Head",
    "R.Thigh.Upper", "R.Thigh.Front", "R.Thigh.Rear", "L.Thigh.Upper", "L.Thigh.Front",
    "L.Thigh.Rear", "R.Knee.Lat", "R.Knee.Med", "L.Knee.Lat", "L.Knee.Med", "R.Shank.Upper",
    "R.Shank.Front", "R.Shank.Rear", "L.Shank.Upper", "L.Shank.Front", "L.Shank.Rear",
    "R.Ankle.Lat", "R.Ankle.Med", "L.Ankle.Lat", "L.Ankle.Med", "R.Heel", "R.Midfoot.Sup",
    "R.Midfoot.Lat", "R.Toe.Lat", "R.Toe.Med", "R.Toe.Tip", "L.Heel", "L.Midfoot.Sup",
    "L.Midfoot.Lat", "L.Toe.Lat", "L.Toe.Med", "L.Toe.Tip"]

_GAIT2354_ARM_POINTS = ["R.Bicep", "R.Elbow", "R.Wrist.Lat", "R.Wrist.Med",
                        "L.Bicep", "L.Elbow", "L.Wrist.Lat", "L.Wrist.Med"]

GAIT2354 = MarkerSet(
    "gait2354",
    [Entry(n, n, {"R.Acromium": 0.5, "L.Acromium": 0.5, "Top.Head": 0.1}.get(n, 1.0))
     for n in _GAIT2354_POINTS] + [Entry(n, n, 1.0, arm=True) for n in _GAIT2354_ARM_POINTS],
    ["identity map onto the built-in models' gait2354 marker points (acromia weight 0.5, "
     "Top.Head 0.1: the lumped torso has no shoulder girdle or neck); the arm markers "
     "(R.Bicep, R.Elbow, R.Wrist.*) onto fullbody's arm points (models without arms ignore "
     "them); temple markers have no model point and are ignored"])


def isb_arm_entry(source: str, landmarks: str, weight: float = 1.0) -> Entry:
    """A body-fixed entry for ``source`` at the ISB arm landmark ``landmarks`` of
    :data:`symgait.markers.conventions.ISB_ARMS` (``"R_HLE"``), or at the mean of several on one
    body (``"R_RSP+R_UHE"``)."""
    rows = [marker_conventions.ISB_ARMS[k.strip()] for k in landmarks.split("+")]
    if len({r[0] for r in rows}) != 1:
        raise ValueError(f"ISB arm landmarks {landmarks!r} lie on different bodies")
    off = np.mean([r[1] for r in rows], axis=0)
    return Entry(source, "", weight, body=rows[0][0], offset=tuple(float(v) for v in off))


# Plug-in Gait upper limb -> ISB landmarks (lateral epicondyle, wrist bar, Helen Hayes' single
# wrist marker between the styloids, finger marker on the 2nd metacarpal head)
_PIG_ARMS = (("ELB", "HLE"), ("WRA", "RSP"), ("WRB", "UHE"), ("WRI", "RSP+UHE"), ("FIN", "HM2"))

HELEN_HAYES = MarkerSet(
    "helen_hayes",
    _sided([
        ("{S}ASI", "{S}.ASIS", 1.0),
        ("SACR", "V.Sacral", 1.0),
        ("VSAC", "V.Sacral", 1.0),
        ("LPSI+RPSI", "V.Sacral", 1.0),
        ("V{S}HI", "hip_{s}_center", 1.0),
        ("{S}KNE", "{S}.Knee.Lat", 1.0),
        ("{S}KNM", "{S}.Knee.Med", 1.0),
        ("{S}MKN", "{S}.Knee.Med", 1.0),
        ("V{S}KN", "knee_{s}_center", 1.0),
        ("{S}FEO", "knee_{s}_center", 1.0),
        ("{S}ANK", "{S}.Ankle.Lat", 1.0),
        ("{S}MMA", "{S}.Ankle.Med", 1.0),
        ("{S}MAK", "{S}.Ankle.Med", 1.0),
        ("V{S}AN", "ankle_{s}_center", 1.0),
        ("{S}TIO", "ankle_{s}_center", 1.0),
        ("{S}HEE", "{S}.Heel", 1.0),
        ("{S}TOE", "{S}.Toe.Med+{S}.Toe.Lat", 1.0),
        ("{S}.TO", "{S}.Toe.Med+{S}.Toe.Lat", 1.0),
        ("{S}SHO", "{S}.Acromium", 0.5),
        ("STRN", "Sternum", 0.5),
        ("THEA", "Top.Head", 0.3),
    ]) + [isb_arm_entry(S + lab, "+".join(f"{S}_{k}" for k in isb.split("+")))
          for S in ("R", "L") for lab, isb in _PIG_ARMS],
    ["single PSIS markers have no model point (used as their mean for V.Sacral)",
     "thigh/tibia wand markers (THI, TIB, SHA) have no matching model landmark and are not "
     "used (the nearest gait2354 thigh/shank markers are 7-15 cm away from them)",
     "the toe marker (2nd metatarsal head) is mapped to the mean of the 1st/5th metatarsal "
     "head points", "upper-limb markers (ELB, WRA, WRB, WRI, FIN) at the ISB landmarks, for "
     "models with arms; the arm wands (UPA, FRA) are not used"])

CMU = MarkerSet(
    "cmu",
    _sided([
        ("{s}hipjoint", "hip_{s}_center", 1.0),
        ("{s}femur", "knee_{s}_center", 1.0),
        ("{s}tibia", "ankle_{s}_center", 1.0),
        ("{s}foot", "mtp_{s}_center|{S}.Toe.Med+{S}.Toe.Lat", 1.0),
        ("{s}toes", "{S}.Toe.Tip", 0.3),
        ("{s}clavicle", "{S}.Acromium", 0.5),
        ("head", "Top.Head", 0.1),
    ]),
    ["CMU bone ends are joint centres; the toe tip, acromion and head ends are approximate "
     "matches (reduced weights)", "the CMU root and spine bone ends are not used (no matching "
     "model point)"])



def body_markerset(name: str, table, notes: Sequence[str] = ()) -> MarkerSet:
    """A :class:`MarkerSet` of body-fixed entries from ``{label: (body, offset, weight)}``
    (offsets in units of the body's reference length, see :mod:`symgait.markers.body_markers`)."""
    return MarkerSet(name, [Entry(lab, "", float(w), body=b, offset=tuple(float(v) for v in off))
                            for lab, (b, off, w) in table.items()], list(notes))


HAMNER = body_markerset("hamner", {**marker_conventions.HAMNER, **marker_conventions.HAMNER_ARMS}, [
    "Hamner & Delp 2013 cluster markers, offsets from the subjects' scaled OpenSim models "
    "(symgait.markers.conventions); arm markers for models with arms"])
ISB = body_markerset("isb", {**marker_conventions.ISB, **marker_conventions.ISB_ARMS}, [
    "ISB anatomical landmarks (Schreiber & Moissenet 2019), offsets from the subjects' scaled "
    "OpenSim models (symgait.markers.conventions); arm landmarks for models with arms"])

MARKERSETS: Dict[str, MarkerSet] = {"gait2354": GAIT2354, "helen_hayes": HELEN_HAYES, "cmu": CMU,
                                    "hamner": HAMNER, "isb": ISB}


def load_markerset(name_or_path) -> MarkerSet:
    """A built-in set by name (:data:`MARKERSETS`) or a user map file (YAML or JSON)."""
    if isinstance(name_or_path, MarkerSet):
        return name_or_path
    s = str(name_or_path)
    if s in MARKERSETS:
        return MARKERSETS[s]
    path = Path(s)
    if not path.exists():
        raise FileNotFoundError(f"marker set {s!r}: neither a built-in ({sorted(MARKERSETS)}) nor "
                                "a file")
    text = path.read_text()
    if path.suffix.lower() == ".json":
        doc = json.loads(text)
    else:
        import yaml
        doc = yaml.safe_load(text)
    if not isinstance(doc, dict) or "markers" not in doc or not isinstance(doc["markers"], dict):
        raise ValueError(f"{path}: expected a mapping with 'markers: {{label: point, ...}}'")
    entries = []
    for src, v in doc["markers"].items():
        if isinstance(v, str):
            entries.append(Entry(str(src), v, 1.0))
        elif isinstance(v, dict) and "point" in v:
            entries.append(Entry(str(src), str(v["point"]), float(v.get("weight", 1.0))))
        elif isinstance(v, dict) and "body" in v and "offset" in v:
            off = v["offset"]
            if not (isinstance(off, (list, tuple)) and len(off) == 3):
                raise ValueError(f"{path}: marker {src!r}: offset must be 3 numbers (metres in the "
                                 "body frame)")
            entries.append(Entry(str(src), "", float(v.get("weight", 1.0)), body=str(v["body"]),
                                 offset=tuple(float(x) for x in off), scaled=False))
        else:
            raise ValueError(f"{path}: marker {src!r}: expected a point name, "
                             "{point: NAME, weight: W} or {body: BODY, offset: [x, y, z], weight: W}")
    return MarkerSet(str(doc.get("name", path.stem)), entries, list(doc.get("notes", [])))


def strip_prefix(label: str) -> str:
    """``"A22:RASI"`` → ``"RASI"``."""
    return label.split(":")[-1].strip()


MIN_MATCHED = 4   # fewer matched labels than this: no built-in set applies


@dataclass
class Detection:
    """Result of :func:`rank_markersets`: the chosen set, how many trial labels it maps, the
    fraction of its own labels present (``coverage``), the runner-up and a one-line ``reason``."""
    markerset: MarkerSet
    matched: int
    coverage: float
    runner_up: Optional[str]
    reason: str


def rank_markersets(labels: Sequence[str], candidates: Optional[Dict[str, MarkerSet]] = None
                    ) -> List[Tuple[str, int, float]]:
    """``[(name, matched labels, coverage)]`` of the built-in sets, best first: most trial
    labels mapped, ties broken by the larger fraction of the set's labels present."""
    labs = {strip_prefix(x) for x in labels}
    out = []
    for name, ms in (candidates or MARKERSETS).items():
        own = ms.labels()
        n = len(own & labs)
        out.append((name, n, n / max(1, len(own))))
    return sorted(out, key=lambda r: (-r[1], -r[2]))


def detect(labels: Sequence[str], candidates: Optional[Dict[str, MarkerSet]] = None) -> Detection:
    """The built-in set that best matches ``labels`` (see :func:`rank_markersets`).  Raises
    ``ValueError`` naming the fixes when fewer than :data:`MIN_MATCHED` labels match."""
    ranked = rank_markersets(labels, candidates)
    name, n, cov = ranked[0]
    if n < MIN_MATCHED:
        labs = sorted({strip_prefix(x) for x in labels})
        raise ValueError(f"no built-in marker set matches these labels (best: {name!r}, {n} of "
                         f"{len(labs)} labels; {labs[:12]}...): give the lab's OpenSim model "
                         "(--osim model.osim), a mapping file (see symgait.markers.markersets), or "
                         "register the markers (symgait.markers.registration)")
    second = ranked[1] if len(ranked) > 1 else None
    reason = f"{name}: {n} labels matched ({100 * cov:.0f} % of the set)"
    if second is not None and second[1] == n:
        reason += f"; tie with {second[0]} on labels, chosen by coverage ({100 * second[2]:.0f} %)"
    elif second is not None and second[1] > 0:
        reason += f"; next {second[0]} ({second[1]})"
    return Detection((candidates or MARKERSETS)[name], n, cov, None if second is None else second[0],
                     reason)


def detect_markerset(labels: Sequence[str]) -> MarkerSet:
    """The built-in set whose labels overlap most with ``labels`` (prefixes stripped); see
    :func:`detect`."""
    return detect(labels).markerset


@dataclass
class ResolvedTargets:
    """A marker set applied to one trial and one model.

    ``names`` (m) entry sources; ``points`` (m) model point expressions used (``body@(x, y, z)``
    for body-fixed markers, metres); ``positions`` (T, m, 3) source positions (NaN where
    missing); ``A`` (m, n_points) rows combining model points; ``weights`` (m,);
    ``unused_labels``: trial labels not mapped; ``missing_points``: entries the model cannot
    carry; ``markerset`` the set's name; ``bodies`` (m) the body of body-fixed entries (None for
    point entries).
    """
    names: List[str]
    points: List[str]
    positions: np.ndarray
    A: np.ndarray
    weights: np.ndarray
    unused_labels: List[str]
    missing_points: List[str]
    markerset: str = ""
    bodies: List[Optional[str]] = field(default_factory=list)


def _model_expr(expr: str, point_index: Dict[str, int]) -> Optional[Dict[int, float]]:
    for alt in expr.split("|"):
        names = [s.strip() for s in alt.split("+")]
        if all(n in point_index for n in names):
            return {point_index[n]: 1.0 / len(names) for n in names}
    return None


def body_rows(model, p, entries: Sequence[Entry]):
    """``[(row, body, offset m) or None]`` for body-fixed ``entries`` on ``model`` at ``p``
    (None where the model lacks the body)."""
    anchors = body_anchors(model, p)
    L = reference_lengths(*model_tree(model, p)[:2])
    out = []
    for e in entries:
        if e.body not in anchors or (e.scaled and e.body not in L):
            out.append(None)
            continue
        off = np.asarray(e.offset, float) * (L[e.body] if e.scaled else 1.0)
        row, b, c = affine_row(model, p, e.body, off, anchors)
        out.append((row, e.body, off))
    return out


def resolve(markerset, labels: Sequence[str], positions: np.ndarray, model, p=None) -> ResolvedTargets:
    """Apply ``markerset`` to a trial (``labels``, ``positions`` (T, n, 3)) for ``model``;
    body-fixed entries are placed at parameters ``p`` (default ``model.parameters()``)."""
    ms = load_markerset(markerset)
    labs = [strip_prefix(x) for x in labels]
    first = {}
    for i, lab in enumerate(labs):
        if lab not in first and not np.all(np.isnan(positions[:, i])):
            first[lab] = i
    pidx = {n: i for i, n in enumerate(model.points)}
    present = [e for e in ms.entries if all(s in first for s in e.source_labels)]
    body_e = [e for e in present if e.body is not None]
    brows = dict(zip(map(id, body_e), body_rows(model, model.parameters() if p is None else p, body_e))) \
        if body_e else {}
    taken = set()
    names, pts, rows, w, cols, missing, bodies = [], [], [], [], [], [], []
    used = set()
    for e in present:
        if e.body is not None:
            br = brows[id(e)]
            if br is None:
                missing.append(f"{e.source} -> body {e.body}")
                continue
            row, body, off = br
            key = ("body", e.source)
            expr = f"{body}@({off[0]:.4f}, {off[1]:.4f}, {off[2]:.4f})"
        else:
            m = _model_expr(e.point, pidx)
            if m is None:
                missing.append(f"{e.source} -> {e.point}")
                continue
            key = tuple(sorted(m))
            row = np.zeros(len(model.points))
            for k, v in m.items():
                row[k] = v
            body, expr = None, e.point
        if key in taken:
            continue
        taken.add(key)
        src = np.nanmean(np.stack([positions[:, first[s]] for s in e.source_labels], 0), 0) \
            if len(e.source_labels) > 1 else positions[:, first[e.source_labels[0]]]
        if len(e.source_labels) > 1:  # a mean is missing where any of its labels is
            bad = np.any(np.stack([np.isnan(positions[:, first[s], 0]) for s in e.source_labels]), 0)
            src = src.copy()
            src[bad] = np.nan
        names.append(e.source)
        pts.append(expr)
        rows.append(row)
        w.append(e.weight)
        cols.append(src)
        bodies.append(body)
        used |= set(e.source_labels)
    if not names:
        raise ValueError(f"marker set {ms.name!r} matches none of the trial's labels for model "
                         f"{model.name!r}")
    return ResolvedTargets(names=names, points=pts, positions=np.stack(cols, 1), A=np.stack(rows),
                           weights=np.asarray(w, float),
                           unused_labels=sorted(set(labs) - used), missing_points=missing,
                           markerset=ms.name, bodies=bodies)
