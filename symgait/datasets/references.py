"""Validation against independent references: Hamner & Delp (2013) running (Moco-tracked
kinematics and their inverse dynamics) and the physics floor of measured trials.

* :func:`moco_validation`: inverse dynamics (built-in ``gait3d`` scaled to the subject's OpenSim
  model, :func:`gait3d_parameters_from_osim`) of a Moco-tracked cycle
  (``moco/run5/cycle1/*_mocoKinematics.sto``, coordinates by name, radians) with the measured
  forces (``expData/Run_5_grf.mot`` through its ExternalLoads ``.xml``: ``R_``/``L_`` columns on
  ``calcn_r``/``calcn_l``, same clock as the kinematics), against the reference ``*_id.sto``:
  RMSE of the sagittal hip, knee and ankle moments in % of the reference's range; and the part
  of each moment above 20 Hz (:func:`content_above`) in the reference and in ours.
* :func:`physics_floor`: the total ground reaction implied by the motion alone (root residual
  with zero contact wrenches) against the plates' total force, RMSE over frames of the 3-D
  difference in N/kg.  It is the residual force of the measured trial: forces exactly consistent with the
  motion on the model are off the plates by this much.

* :func:`floor_rows`: the physics floor per trial of a built dataset, per parameter state and
  kinematics recipe, pooled by :func:`floor_by_source` / :func:`floor_by_activity`;
  :func:`arms_floor_rows`: the built-in ``fullbody`` (arms tracked from the trials' arm markers)
  beside ``gait3d`` on the same trials and frames (docs/results.md).

``python -m symgait.cli.references [DATA_DIR] [--write docs/data.md]`` prints (or writes into
``docs/data.md``) the tables of its sections "Validation against Moco references" and
"Physics floor"; ``symgait floor DATASET [--arms]`` the floor tables of a built dataset.

Data: Hamner SR & Delp SL (2013) J Biomech 46(4):780-787 (SimTK nmbl_running), as processed in
Fox A (2024) R Soc Open Sci 11:231909; Schreiber C & Moissenet F (2019) Sci Data 6:111.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import numpy as np

from ..io import read_sto
from ..markers.body_markers import affine_row, body_anchors, body_poses, is_arm
from ..markers.fit import subject_osim
from ..markers.ik import choose_markerset, solve_ik
from ..markers.markersets import MARKERSETS, MarkerSet, ResolvedTargets, resolve, strip_prefix
from ..markers.registration import REFINE_ABOVE
from ..markers.sources import load_source
from ..signals.kinematics import filtered_kinematics
from ..trials.residual_reduction import world_fixed_wrenches
from ..trials.trunk import hold_unseen_trunk
from ..trials.sequence import Sequence as TrialSequence
from ..trials.opensim_id import SAGITTAL, Row, compare, inverse_dynamics_from_coordinates
from ..io.osim import read_osim
import symgait
from ..constants import STANDARD_GRAVITY as G

__all__ = ["residual_components", "root_residual_per_kg", "stored_fit", "raw_coordinates", "floor_rows", "floor_by_source",
           "floor_by_activity", "floor_source_table", "parameters_with_arms", "arms_floor_rows",
           "arms_floor_table", "ARMS_STATES",
           "RECIPES", "HAMNER_SUBJECTS", "gait3d_parameters_from_osim", "SubjectScale", "moco_files", "content_above",
           "moco_validation", "physics_floor", "MocoResult", "markdown_sections",
           "validation_tables", "G"]

_HIP_KNEE = tuple(c for c in SAGITTAL if not c.startswith("ankle"))
HAMNER_SUBJECTS = ("subject01", "subject02", "subject03", "subject04", "subject08", "subject10",
                   "subject11", "subject19")
# de Leva (1996) fractions of stature used by gait3d (symgait/models/gait3d.yaml)
_THIGH, _SHANK, _HIP_Z, _MTP_X = 0.2425, 0.24928, 0.56572, 0.68705
# gait3d body masses as sums of OpenSim bodies (the torso takes the rest: trunk, head, arms)
_BODY_MASSES = {"pelvis": "pelvis", "thigh": "femur_{s}", "shank": "tibia_{s}",
                "foot": "talus_{s} calcn_{s} toes_{s}"}


@dataclass(frozen=True)
class SubjectScale:
    """Subject inputs taken from a scaled OpenSim model: ``mass`` (sum of its body masses, kg),
    ``height`` (m, estimated: thigh + shank length / de Leva's fractions of stature) and the
    parameter overrides (thigh and shank lengths, pelvis width through ``pelvis_length``)."""
    mass: float
    height: float
    overrides: Dict[str, float]


def _knee_location(joint, coordinate: str) -> np.ndarray:
    tr = np.zeros(3)
    for a in joint.translations:
        tr = tr + np.asarray(a.axis, float) * float(a.value({coordinate: 0.0}))
    return np.asarray(joint.location_in_parent, float) + tr - np.asarray(joint.location_in_child, float)


def gait3d_parameters_from_osim(model, osim_path):
    """``(p, SubjectScale)``: ``model``'s (gait3d) parameters for the subject of a scaled OpenSim
    gait2392/Rajagopal-style model: its body masses (the torso takes the rest: trunk, head and
    arms), its thigh (hip to knee at 0°), shank (knee to ankle) and foot (calcaneus to mtp) lengths
    per side and its hip width; the torso length by de Leva from the height the leg lengths
    imply.  Centres of mass and inertias stay de Leva's fractions of these lengths and masses."""
    om = read_osim(osim_path)
    ov: Dict[str, float] = {}
    legs = []
    for s in ("r", "l"):
        thigh = float(np.linalg.norm(_knee_location(om.joint_to(f"tibia_{s}"), f"knee_angle_{s}")))
        shank = float(np.linalg.norm(np.asarray(om.joint_to(f"talus_{s}").location_in_parent, float)
                                     - np.asarray(om.joint_to(f"talus_{s}").location_in_child, float)))
        ov[f"thigh_{s}_length"], ov[f"shank_{s}_length"] = thigh, shank
        legs.append(thigh + shank)
        ov[f"foot_{s}_length"] = float(np.asarray(om.joint_to(f"toes_{s}").location_in_parent,
                                                  float)[0]) / _MTP_X
        masses = {k: sum(om.bodies[b].mass for b in bodies.format(s=s).split())
                  for k, bodies in _BODY_MASSES.items() if k != "pelvis"}
        for k, v in masses.items():
            ov[f"{k}_{s}_mass"] = v
    height = float(np.mean(legs)) / (_THIGH + _SHANK)
    ov["pelvis_length"] = abs(float(om.joint_to("femur_r").location_in_parent[2])) / _HIP_Z
    ov["pelvis_mass"] = om.bodies["pelvis"].mass
    mass = om.total_mass
    ov["torso_mass"] = mass - sum(v for k, v in ov.items() if k.endswith("_mass"))
    ov = {k: v for k, v in ov.items() if k in model.parameter_names}
    return model.parameters(height=height, mass=mass, **ov), SubjectScale(mass, height, ov)


def moco_files(data_dir, subject: str) -> Dict[str, Path]:
    """The files of one Hamner subject's Moco reference (``FileNotFoundError`` naming the
    missing one)."""
    d = Path(data_dir) / "hamner2013_running" / subject
    cyc = d / "moco" / "run5" / "cycle1"
    f = dict(osim=d / "model" / f"{subject}_adjusted_scaled.osim",
             kinematics=cyc / f"{subject}_run5_cycle1_mocoKinematics.sto",
             reference=cyc / f"{subject}_run5_cycle1_id.sto",
             external_loads=d / "expData" / "Run_5_grf.xml",
             forces=d / "expData" / "Run_5_grf.mot")
    for k, p in f.items():
        if not p.exists():
            raise FileNotFoundError(f"{subject}: {k} file {p} not found")
    return f


def physics_floor(kern, q, qd, qdd, w, p, mass: float) -> Dict[str, float]:
    """Motion-implied total ground reaction (root residual at ``w = 0``) vs the plates' total
    (``w`` the measured contact wrenches): ``{"rmse_n_per_kg", "peak_plates_bw",
    "mean_vertical_bw"}`` (RMSE over frames of the 3-D force difference; peak and mean of the
    plates' vertical total in body weights)."""
    r0 = kern.root_residual(q, qd, qdd, np.zeros_like(w), p)
    r = kern.root_residual(q, qd, qdd, w, p)
    F = r0[:, :3] - r[:, :3]          # plates' total force (the root residual is linear in w)
    d = r0[:, :3] - F
    return dict(rmse_n_per_kg=float(np.sqrt(np.mean(np.sum(d ** 2, 1)))) / mass,
                peak_plates_bw=float(F[:, 1].max() / (mass * G)),
                mean_vertical_bw=float(F[:, 1].mean() / (mass * G)))


def content_above(x, rate: float, cutoff: float = 20.0, trim: int = 5) -> float:
    """RMS of what a zero-phase 4th-order Butterworth low-pass at ``cutoff`` Hz removes from
    ``x`` (T,), over the frames but ``trim`` at each end, in the units of ``x``."""
    from scipy.signal import butter, filtfilt
    x = np.asarray(x, float)
    b, a = butter(4, cutoff / (rate / 2.0))
    hf = (x - filtfilt(b, a, x))[trim:x.size - trim]
    return float(np.sqrt(np.mean(hf ** 2)))


@dataclass
class MocoResult:
    """One subject's comparison: ``rows`` (RMSE per sagittal moment), ``floor``
    (:func:`physics_floor`), ``above_20hz`` per coordinate ``(reference, ours)`` in % of the
    reference's range (:func:`content_above`)."""
    subject: str
    mass: float
    height: float
    rows: List[Row]
    floor: Dict[str, float]
    frames: int
    above_20hz: Dict[str, tuple] = None

    def hip_knee_above_20hz(self) -> np.ndarray:
        """(reference, ours): mean of :attr:`above_20hz` over the hip and knee moments."""
        return np.mean([self.above_20hz[c] for c in _HIP_KNEE], axis=0)


def moco_validation(model, kern, data_dir, subject: str, *, cutoff: float = -1.0,
                    time_range=None) -> MocoResult:
    """Inverse dynamics of one Hamner subject's Moco cycle vs its ``*_id.sto`` (module docstring).

    ``cutoff`` Hz low-pass of the coordinates before OpenSim's quintic-spline derivatives
    (default -1: none; Moco's coordinates are already the smooth solution of an optimal-control
    problem).  ``time_range`` restricts to part of the cycle (tests)."""
    f = moco_files(data_dir, subject)
    p, sc = gait3d_parameters_from_osim(model, f["osim"])
    res = inverse_dynamics_from_coordinates(model, kern, p, f["kinematics"], f["external_loads"],
                                            datafile=f["forces"], cutoff=cutoff, method="opensim",
                                            time_range=time_range)
    rows = compare(res, f["reference"], SAGITTAL)
    floor = physics_floor(kern, res.q, res.qd, res.qdd, res.w, p, sc.mass)
    ref = read_sto(f["reference"])
    rate = (res.time.size - 1) / (res.time[-1] - res.time[0])
    hf = {}
    for r in rows:
        y = np.interp(res.time, ref.time, ref.column(f"{r.coordinate}_moment"))
        hf[r.coordinate] = (100 * content_above(y, rate) / r.range,
                            100 * content_above(res.tau[r.coordinate], rate) / r.range)
    return MocoResult(subject, sc.mass, sc.height, rows, floor, int(res.time.size), hf)


# --- the physics floor per source of a built dataset --------------------------------------

# the kinematics recipes compared (:func:`symgait.signals.kinematics.filtered_kinematics`):
# (method, low-pass cut-off in Hz); the dataset build uses ("butter", 6.0)
RECIPES = tuple((m, c) for m in ("butter", "opensim") for c in (4.0, 6.0, 8.0, 10.0, 12.0))
COMPONENTS = ("vertical", "ap", "ml", "norm")


def _rows(x, T):
    return np.ascontiguousarray(np.broadcast_to(np.asarray(x, float), (T, np.asarray(x).shape[-1])))


def residual_components(kern, q, qd, qdd, w, p, mass: float) -> Dict[str, float]:
    """RMS over frames (finite wrenches) of the root residual force with wrenches ``w``, per kg:
    ``vertical`` (Y), ``ap`` (X), ``ml`` (Z) and ``norm`` (3-D): the motion-implied total force
    minus the plates' (the root residual is linear in ``w``). World axes: AP and ML assume
    walking along ±X, as the built dataset's trials do."""
    return _components(root_residual_per_kg(kern, q, qd, qdd, w, p, mass)[:, :3])


def root_residual_per_kg(kern, q, qd, qdd, w, p, mass: float) -> np.ndarray:
    """(T', 6) the root residual force and moment (about the root's origin) per kg, over the
    frames whose wrenches ``w`` are finite (T' of them)."""
    T = q.shape[0]
    w = np.asarray(w, float)
    ok = np.isfinite(w).reshape(T, -1).all(1)
    return np.asarray(kern.root_residual(*(np.ascontiguousarray(x[ok], dtype=float) for x in (q, qd, qdd, w)),
                                         _rows(p, int(ok.sum())))) / mass


def _components(r) -> Dict[str, float]:
    """:func:`residual_components` of per-frame forces ``r`` (T, 3), world axes."""
    rms = np.sqrt(np.mean(r ** 2, 0)) if len(r) else np.full(3, np.nan)
    return dict(vertical=float(rms[1]), ap=float(rms[0]), ml=float(rms[2]),
                norm=float(np.sqrt(np.mean(np.sum(r ** 2, 1)))) if len(r) else math.nan)


# what the index row and the cache entry's summary both say of a trial's fit
_FIT_FIELDS = ("markerset", "ik_rms_mm", "ik_worst_marker", "frames")


def _markers_of(cache_dir: Path) -> List[dict]:
    out = []
    for f in sorted(Path(cache_dir).glob("*.markers.npz")):
        entry = f.with_name(f.name.replace(".markers.npz", ".json"))
        summary = json.loads(entry.read_text()).get("summary", {}) if entry.exists() else {}
        with np.load(f) as z:
            out.append(dict(path=f, p=z["p"], time=z["time"], summary=summary))
    return out


def stored_fit(kern, seq, markers: Sequence[dict], row: Optional[dict] = None):
    """``(path, frames)``: the fit's targets stored by the build for the built marker trial
    ``seq`` (``cache/<key>.markers.npz``: the one whose parameters and frame times are ``seq``'s,
    whose cache entry says of its fit what the index ``row`` says (marker set, IK RMS, worst
    marker, frames: another build sharing the cache may hold another fit of the trial), and whose
    markers the built motion fits best, within 50 mm on average) and the indices of ``seq``'s
    frames in its frames (the build may have cropped the trial to its plates after filtering);
    None when none matches."""
    best, err = None, math.inf
    for m in markers:
        t = m["time"]
        if m["p"].shape != np.shape(seq.p) or t.size < len(seq) or (row is not None and any(
                k in row and m["summary"].get(k) != row[k] for k in _FIT_FIELDS)):
            continue
        i = np.clip(np.searchsorted(t, seq.time - 1e-9), 0, t.size - 1)
        if not np.allclose(t[i], seq.time, atol=1e-6):
            continue
        with np.load(m["path"]) as z:
            A, Y, p = z["A"], z["positions"][i], z["p"]
        P = np.asarray(kern.points(np.ascontiguousarray(seq.q, dtype=float), _rows(p, len(seq))))
        with np.errstate(invalid="ignore"):
            e = float(np.nanmean(np.linalg.norm(np.einsum("mk,tkx->tmx", A, P) - Y, axis=-1)))
        if e < err:
            best, err = (m["path"], i), e
    return best if best is not None and err < 0.05 else None


def raw_coordinates(model, kern, seq, markers: Sequence[dict], row: Optional[dict] = None):
    """``(time (N,), q (N, nq), frames (T,))``: the unfiltered coordinates of a built marker
    trial over its whole recording, by inverse kinematics (:func:`symgait.markers.ik.solve_ik`,
    every target weighted alike) on the fit's targets stored by the build (:func:`stored_fit`),
    and the indices of ``seq``'s frames in it. None when no stored fit matches."""
    found = stored_fit(kern, seq, markers, row)
    if found is None:
        return None
    path, i = found
    with np.load(path) as z:
        A, Y, p, t = z["A"], z["positions"], z["p"], z["time"]
    tg = ResolvedTargets(names=[f"m{k}" for k in range(A.shape[0])], points=[], positions=Y, A=A,
                         weights=np.ones(A.shape[0]), unused_labels=[], missing_points=[])
    q = solve_ik(model, kern, p, tg, t).q
    q, _ = hold_unseen_trunk(model, kern, q, p, (t.size - 1) / (t[-1] - t[0]), A, Y)   # as the build
    return t, q, i


def floor_rows(dataset_dir, model=None, kern=None, *, recipes=RECIPES, names: Optional[Sequence[str]] = None,
               log=print) -> List[dict]:
    """Per labelled trial of a built dataset (``python -m training dataset``): the residual force
    components (:func:`residual_components`) of the motion as built (``measured``), at the
    per-subject fitted parameters (``fitted``), of the motion changed within the marker error
    (``consistent``), and of the unfiltered coordinates (:func:`raw_coordinates`) through every
    kinematics recipe (``recipe:<method>:<cut-off>``), the plates' forces fixed in the world."""
    model = symgait.load_model("gait3d") if model is None else model
    kern = kern or symgait.kernels(model)
    d = Path(dataset_dir)
    idx = json.loads((d / "index.json").read_text())
    markers = _markers_of(d / "cache")
    out = []
    for r in idx["rows"]:
        if r["status"] != "usable" or r.get("role") != "labelled" or (names and r["name"] not in names):
            continue
        s = TrialSequence.load(d / r["file"])
        q, qd, qdd = (np.asarray(x, float) for x in (s.q, s.qd, s.qdd))
        row = dict(trial=r["name"], subject=r["subject"], source=r["source"],
                   activity=(str(r.get("activity", "")).replace(",", " ").split() or ["?"])[0], frames=len(s), rate=s.rate)
        p0 = np.asarray(r.get("p_start") or s.p, float)       # the built sequence is at the fitted p
        w0 = world_fixed_wrenches(kern, q, q, s.w, _rows(s.p, len(s)), _rows(p0, len(s)))
        row["measured"] = residual_components(kern, q, qd, qdd, w0, p0, s.mass)
        if r.get("p_fitted"):
            row["fitted"] = residual_components(kern, q, qd, qdd, s.w, s.p, s.mass)
        if r.get("file_consistent"):
            c = TrialSequence.load(d / r["file_consistent"])
            row["consistent"] = residual_components(kern, *(np.asarray(x, float) for x in (c.q, c.qd, c.qdd, c.w)),
                                                    c.p, c.mass)
        raw = raw_coordinates(model, kern, s, markers, r) if recipes else None
        if raw is not None:
            t_all, q_all, i = raw
            for method, cut in recipes:
                qf, qdf, qddf = (x[i] for x in filtered_kinematics(q_all, t=t_all, cutoff=cut, method=method))
                wr = world_fixed_wrenches(kern, q, qf, s.w, _rows(s.p, len(s)))
                row[f"recipe:{method}:{cut:g}"] = residual_components(kern, qf, qdf, qddf, wr, s.p, s.mass)
        log(f"  {r['name']}: measured {row['measured']['norm']:.2f} N/kg" +
            ("" if raw is None else f", raw coordinates → {len(recipes)} recipes"))
        out.append(row)
    return out


def _is_state(v) -> bool:
    return isinstance(v, dict) and "norm" in v


def floor_by_source(rows: Sequence[dict]) -> Dict[str, Dict[str, Dict[str, float]]]:
    """{source: {state: {component: RMS over the source's frames pooled (N/kg)}, "trials",
    "frames"}} of :func:`floor_rows` or :func:`arms_floor_rows` (a state: a row's entry holding
    the :func:`residual_components`); states are pooled over the trials that have them."""
    out: Dict[str, dict] = {}
    for src in sorted({r["source"] for r in rows}):
        rs = [r for r in rows if r["source"] == src]
        e = dict(trials=len(rs), frames=sum(r["frames"] for r in rs),
                 activity="/".join(sorted({r["activity"] for r in rs})))
        states = sorted({k for r in rs for k, v in r.items() if _is_state(v)})
        for st in states:
            have = [r for r in rs if st in r]
            n = sum(r["frames"] for r in have)
            e[st] = {c: float(np.sqrt(sum(r[st][c] ** 2 * r["frames"] for r in have) / n)) for c in COMPONENTS}
            e[st]["trials"] = len(have)
        out[src] = e
    return out


def floor_by_activity(rows: Sequence[dict]) -> Dict[str, Dict[str, Dict[str, float]]]:
    """:func:`floor_by_source` pooled per activity instead (keys ``**all walking**`` ...)."""
    return floor_by_source([dict(r, source=f"**all {r['activity']}**") for r in rows])


def floor_source_table(by: Dict[str, dict], recipes=RECIPES) -> str:
    """Markdown: per source, the residual force's vertical / AP / ML / 3-D RMS (N/kg) measured →
    at the fitted parameters → after the kinematic change, then the norm per kinematics recipe."""
    head = ("| source | activity | trials | frames | measured V / AP / ML / 3-D | fitted parameters | "
            "kinematics changed | " + " | ".join(f"{m} {c:g} Hz" for m, c in recipes) + " | best recipe |")
    lines = [head, "|" + "---|" * (8 + len(recipes))]

    def cell(x):
        return "–" if x is None else " / ".join(f"{x[c]:.2f}" for c in COMPONENTS)
    for src, e in by.items():
        rec = {f"{m} {c:g} Hz": (e.get(f"recipe:{m}:{c:g}") or {}).get("norm") for m, c in recipes}
        got = {k: v for k, v in rec.items() if v is not None}
        best = min(got, key=got.get) if got else "–"
        lines.append(f"| {src} | {e['activity']} | {e['trials']} | {e['frames']} | {cell(e.get('measured'))} | "
                     f"{cell(e.get('fitted'))} | {cell(e.get('consistent'))} | " +
                     " | ".join("–" if v is None else f"{v:.2f}" for v in rec.values()) + f" | {best} |")
    return "\n".join(lines)


# --- the physics floor with arms: fullbody beside gait3d ----------------------------------

# the states of :func:`arms_floor_rows`, in table order
ARMS_STATES = ("gait3d", "fullbody_arms_neutral", "fullbody")
ARM_REFITS = 2   # arm-marker offsets re-fitted and the arms solved again this many times


def parameters_with_arms(arms_model, model, p) -> np.ndarray:
    """``arms_model``'s (``fullbody``) parameters for the subject of ``model``'s (``gait3d``)
    parameters ``p``: the lengths and masses both models have copied, ``model``'s torso mass
    (trunk, head and arms lumped) split into ``arms_model``'s trunk, head and arm masses in the
    proportions of its own (de Leva) formulas, and the head and arm lengths of the height that
    ``p``'s torso length implies (the same fraction of height in both).  The total mass is
    ``p``'s."""
    P = dict(zip(model.parameter_names, np.asarray(p, float)))
    unit = dict(zip(arms_model.parameter_names, arms_model.parameters(height=1.0, mass=1.0)))
    height = P["torso_length"] / unit["torso_length"]
    mass = sum(v for k, v in P.items() if k.endswith("_mass"))
    d = dict(zip(arms_model.parameter_names, arms_model.parameters(height=height, mass=mass)))
    upper = [k for k in d if k.endswith("_mass") and (k not in P or k == "torso_mass")]
    scale = P["torso_mass"] / sum(d[k] for k in upper)
    return np.array([d[k] * scale if k in upper else P.get(k, d[k]) for k in arms_model.parameter_names])


def _match_labels(Y, t, src, tol: float = 1e-6):
    """The source labels of the stored targets ``Y`` (T, m, 3) at times ``t``: ``(frames of t in
    the source, [label or None per target], offset (3,) the fit added to the source)``; a target
    is a label when it equals that label's positions plus one constant offset, within ``tol`` m
    (median over frames; means of labels stay None).  None when the times do not match."""
    st = np.asarray(src.time, float)
    i = np.clip(np.searchsorted(st, t - 1e-9), 0, st.size - 1)
    if not np.allclose(st[i], t, atol=1e-6):
        return None
    X = np.asarray(src.positions, float)[i]                                  # (T, n, 3)
    names, shifts = [], []
    for k in range(Y.shape[1]):
        d = Y[:, k, None, :] - X
        ok = np.isfinite(d).all(-1)
        e = np.full(X.shape[1], np.inf)
        c = np.zeros((X.shape[1], 3))
        for j in np.nonzero(ok.sum(0) >= 3)[0]:
            c[j] = np.median(d[ok[:, j], j], axis=0)
            e[j] = np.median(np.linalg.norm(d[ok[:, j], j] - c[j], axis=-1))
        j = int(np.argmin(e))
        names.append(strip_prefix(src.labels[j]) if e[j] < tol else None)
        if names[-1] is not None:
            shifts.append(c[j])
    return i, names, (np.median(shifts, axis=0) if shifts else np.zeros(3))


def _motion_path(row: dict, index: dict, data_dir: Optional[Path]) -> Path:
    """A built trial's motion file, found under ``data_dir`` when the build read the data from
    another folder (``index["data"]``)."""
    f = Path(row["files"]["motion"])
    if data_dir is not None and not f.is_absolute():
        try:
            return Path(data_dir) / f.relative_to(index.get("data", ""))
        except ValueError:
            pass
    return f


def _arm_set(arms_model, row: dict, motion: Path, labels, data_dir) -> Optional[MarkerSet]:
    """The arm entries of the marker set the build used for the trial (``row["markerset"]``): the
    subject's OpenSim MarkerSet, a built-in set, or the labels' detected convention, through
    :func:`~symgait.markers.ik.choose_markerset` for ``arms_model``; None when the build's
    OpenSim model is not the one found again."""
    conv = str(row.get("markerset") or "").split("+")[0]
    osim = None
    if conv.startswith("osim:"):
        osim = subject_osim(motion, root=data_dir)
        if osim is None or osim.name != conv[5:]:
            return None
    ms, _ = choose_markerset(arms_model, labels, markerset=conv if conv in MARKERSETS else None, osim=osim)
    return MarkerSet(ms.name, ms.arm_entries())


def _target_body(model, targets: ResolvedTargets, k: int) -> Optional[str]:
    if targets.bodies and targets.bodies[k] is not None:
        return targets.bodies[k]
    bodies = {model.spec.points[j].body for j in np.nonzero(targets.A[k])[0]}
    return bodies.pop() if len(bodies) == 1 else None


def _refit_offsets(model, kern, p, targets: ResolvedTargets, q, which) -> List[str]:
    """Re-fit in place the body-frame offsets of targets ``which`` at poses ``q``: their mean
    coordinates in their body's frame over the frames where they are present (what
    :mod:`symgait.markers.registration` does on a few frames); their names."""
    anchors = body_anchors(model, p)
    P = np.asarray(kern.points(np.ascontiguousarray(q), _rows(p, q.shape[0])))
    done = []
    for k in which:
        b = _target_body(model, targets, k)
        y = targets.positions[:, k]
        ok = np.isfinite(y).all(-1)
        if b is None or not anchors[b].usable or ok.sum() < 3:
            continue
        R, o = body_poses(anchors[b], P[ok])
        c = np.einsum("tji,tj->ti", R, y[ok] - o).mean(0)
        targets.A[k] = affine_row(model, p, b, c, anchors)[0]
        done.append(targets.names[k])
    return done


def _targets(names, A, Y, weights, bodies=None) -> ResolvedTargets:
    return ResolvedTargets(names=list(names), points=[], positions=Y, A=A, weights=np.asarray(weights, float),
                           unused_labels=[], missing_points=[], bodies=list(bodies or [None] * len(names)))


def arms_floor_rows(dataset_dir, data_dir=None, *, cutoff: float = 6.0, method: str = "butter",
                    names: Optional[Sequence[str]] = None, log=print) -> List[dict]:
    """The physics floor of ``gait3d`` (arms lumped rigidly into the torso) beside ``fullbody``
    (arms on a ball shoulder and a hinge elbow), per labelled marker trial of a built dataset, on
    the same frames, trunk and legs: :func:`residual_components` at the per-subject fitted
    parameters (``fullbody``'s by :func:`parameters_with_arms`: the same subject, the torso's mass
    split into trunk, head and arms), the plates' forces fixed in the world, of

    * ``gait3d``: inverse kinematics on the build's stored targets over the whole recording
      (as :func:`raw_coordinates`), filtered by ``method`` at ``cutoff`` Hz, cropped as built
      (the ``butter 6 Hz`` column of :func:`floor_rows`);
    * ``fullbody``: those coordinates for the pelvis, legs and lumbar joint (neck at 0), and the
      arm coordinates alone fitted to the trial's arm markers, read again from the raw file under
      ``data_dir`` in the convention of the build's marker set (:func:`_arm_set`); arm markers
      fitting worse than :data:`~symgait.markers.registration.REFINE_ABOVE` get their offsets
      re-fitted over the whole trial and the arms are solved again (:data:`ARM_REFITS` times);
      same recipe and frames;
    * ``fullbody_arms_neutral``: that motion with the arm coordinates, speeds and accelerations at
      0 (arms hanging, elbows straight): ``fullbody``'s mass distribution without the arm swing.

    Rows also give ``arm_markers`` (0: none, the arms stay neutral in ``fullbody``),
    ``arm_rms_mm`` (mean RMS of the arm targets), ``arm_refit``, ``replaced`` (stored targets
    that are arm markers: the build registered them on ``gait3d``'s torso, and both models'
    trunks keep them), ``shoulder_range_deg`` and ``elbow_range_deg`` (range of ``arm_flex`` and
    ``elbow_flex`` over the built frames, mean of the sides), ``moment``: per state the RMS of
    the 3-D root residual moment per kg (N·m/kg, about the pelvis origin: where the arms'
    angular momentum would show), ``arm_term``: the components of the arms' swing in the
    residual force (``fullbody`` minus ``fullbody_arms_neutral``, per frame), and ``arm_corr``:
    per component its correlation over frames with ``gait3d``'s residual (negative: the swing
    explains part of it).  Trials whose stored fit or raw file is not found again are logged and
    left out."""
    g, f = symgait.load_model("gait3d"), symgait.load_model("fullbody")
    kg, kf = symgait.kernels(g), symgait.kernels(f)
    d = Path(dataset_dir)
    idx = json.loads((d / "index.json").read_text())
    data = None if data_dir is None else Path(data_dir)
    markers = _markers_of(d / "cache")
    pad = [f.coordinates.index(c) for c in g.coordinates]
    arm_q = [f.coordinates.index(c) for b in f.spec.bodies if is_arm(b.name) for c in b.coordinates]
    shoulder = [f.coordinates.index(c) for c in f.coordinates if c.startswith("arm_flex")]
    elbow = [f.coordinates.index(c) for c in f.coordinates if c.startswith("elbow_flex")]
    out = []
    for r in idx["rows"]:
        if r["status"] != "usable" or r.get("role") != "labelled" or (names and r["name"] not in names):
            continue
        s = TrialSequence.load(d / r["file"])
        found = stored_fit(kg, s, markers, r)
        motion = _motion_path(r, idx, data)
        if found is None or not motion.exists():
            log(f"  {r['name']}: {'no stored fit' if found is None else f'{motion} not found'}; left out")
            continue
        path, i = found
        with np.load(path) as z:
            A, Y, p_ik, t = z["A"], z["positions"], z["p"], z["time"]
        src = load_source(motion)
        match = _match_labels(Y, t, src)
        if match is None:
            log(f"  {r['name']}: the stored fit's frames are not the file's; left out")
            continue
        fr, labs, shift = match
        pf_ik = parameters_with_arms(f, g, p_ik)
        arms = None
        ms = _arm_set(f, r, motion, src.labels, data)
        if ms is not None and ms.entries:
            try:
                arms = resolve(ms, src.labels, np.asarray(src.positions, float)[fr] + shift, f, pf_ik)
            except ValueError:   # none of the set's arm labels in the trial
                arms = None
        m = A.shape[0]
        res_g = solve_ik(g, kg, p_ik, _targets([f"m{k}" for k in range(m)], A, Y, np.ones(m)), t)
        q_f = np.zeros((t.size, f.nq))
        q_f[:, pad] = res_g.q
        n_arm, refit, arm_rms = 0 if arms is None else len(arms.names), [], None
        if n_arm:
            tg = _targets(arms.names, arms.A.copy(), arms.positions, arms.weights, arms.bodies)
            res = solve_ik(f, kf, pf_ik, tg, t, q_init=q_f, free=arm_q)
            refit = [k for k, n in enumerate(tg.names) if res.target_rms.get(n, 0.0) > REFINE_ABOVE]
            for _ in range(ARM_REFITS if refit else 0):
                _refit_offsets(f, kf, pf_ik, tg, res.q, refit)
                res = solve_ik(f, kf, pf_ik, tg, t, q_init=res.q, free=arm_q, mode="init")
            q_f, arm_rms = res.q, float(np.nanmean(list(res.target_rms.values()))) * 1000
        arm_labels = set() if arms is None else {x for n in arms.names for x in n.split("+")}
        qg, qdg, qddg = (x[i] for x in filtered_kinematics(res_g.q, t=t, cutoff=cutoff, method=method))
        qf, qdf, qddf = (x[i] for x in filtered_kinematics(q_f, t=t, cutoff=cutoff, method=method))
        pf = parameters_with_arms(f, g, s.p)
        q_built = np.zeros((len(s), f.nq))
        q_built[:, pad] = np.asarray(s.q, float)
        wg = world_fixed_wrenches(kg, np.asarray(s.q, float), qg, s.w, _rows(s.p, len(s)))
        wf = world_fixed_wrenches(kf, q_built, qf, s.w, _rows(pf, len(s)))
        neutral = [x.copy() for x in (qf, qdf, qddf)]
        for x in neutral:
            x[:, arm_q] = 0.0
        res = dict(gait3d=root_residual_per_kg(kg, qg, qdg, qddg, wg, s.p, s.mass),
                   fullbody_arms_neutral=root_residual_per_kg(kf, *neutral, wf, pf, s.mass),
                   fullbody=root_residual_per_kg(kf, qf, qdf, qddf, wf, pf, s.mass))
        arm = res["fullbody"][:, :3] - res["fullbody_arms_neutral"][:, :3]   # the arms' swing
        axes = dict(vertical=1, ap=0, ml=2)
        row = dict(trial=r["name"], subject=r["subject"], source=r["source"],
                   activity=(str(r.get("activity", "")).replace(",", " ").split() or ["?"])[0], frames=len(s),
                   rate=s.rate, markerset=r.get("markerset"), arm_markers=n_arm, arm_rms_mm=arm_rms,
                   arm_refit=len(refit), replaced=sum(n in arm_labels for n in labs),
                   shoulder_range_deg=float(np.degrees(np.ptp(qf[:, shoulder], 0)).mean()),
                   elbow_range_deg=float(np.degrees(np.ptp(qf[:, elbow], 0)).mean()),
                   **{st: _components(x[:, :3]) for st, x in res.items()},
                   moment={st: float(np.sqrt(np.mean(np.sum(x[:, 3:] ** 2, 1)))) for st, x in res.items()},
                   arm_term=_components(arm),
                   arm_corr={c: float(np.corrcoef(arm[:, a], res["gait3d"][:, a])[0, 1]) if n_arm else math.nan
                             for c, a in axes.items()})
        log(f"  {r['name']}: {n_arm} arm markers"
            + ("" if not n_arm else f" ({arm_rms:.1f} mm, {len(refit)} re-fitted)")
            + f"; 3-D floor gait3d {row['gait3d']['norm']:.3f}, fullbody arms neutral "
            f"{row['fullbody_arms_neutral']['norm']:.3f}, fullbody {row['fullbody']['norm']:.3f} N/kg")
        out.append(row)
    return out


def arms_floor_table(rows: Sequence[dict]) -> str:
    """Markdown: per source, then pooled per activity, over the trials with arm markers (rows of
    :func:`arms_floor_rows`): the arm markers' fit, the arm swing, the residual force's vertical /
    AP / ML / 3-D RMS (N/kg) of each of :data:`ARMS_STATES`, the change of the 3-D figure from
    ``gait3d`` to ``fullbody``, the arms' swing in the residual force with its correlation with
    ``gait3d``'s residual, and the root residual moment of each state."""
    rows = [r for r in rows if r.get("arm_markers")]
    lines = ["| source | activity | trials | frames | arm markers | arm marker RMS (mm) | shoulder / elbow "
             "range (°) | gait3d V / AP / ML / 3-D | fullbody, arms neutral | fullbody, arms tracked | "
             "3-D change | arms' swing V / AP / ML (correlation with gait3d's) | root moment (N·m/kg): "
             "gait3d / neutral / tracked |", "|" + "---|" * 13]

    def cell(x):
        return " / ".join(f"{x[c]:.2f}" for c in COMPONENTS)

    def mean(rs, k, frames=True):
        w = [r["frames"] if frames else 1 for r in rs]
        return sum(r[k] * x for r, x in zip(rs, w)) / sum(w)

    def moment(rs, st):   # frame-weighted RMS, as floor_by_source pools
        return np.sqrt(sum(r["moment"][st] ** 2 * r["frames"] for r in rs) / sum(r["frames"] for r in rs))

    def corr(rs, c):      # frame-weighted mean of the trials' correlations
        return sum(r["arm_corr"][c] * r["frames"] for r in rs) / sum(r["frames"] for r in rs)
    for by in (floor_by_source(rows), floor_by_activity(rows)):
        for src, e in by.items():
            rs = [r for r in rows if src in (r["source"], f"**all {r['activity']}**")]
            a, b = e["gait3d"]["norm"], e["fullbody"]["norm"]
            lines.append(f"| {src} | {e['activity']} | {e['trials']} | {e['frames']} | "
                         f"{mean(rs, 'arm_markers', False):.0f} | {mean(rs, 'arm_rms_mm', False):.1f} | "
                         f"{mean(rs, 'shoulder_range_deg'):.0f} / {mean(rs, 'elbow_range_deg'):.0f} | "
                         f"{cell(e['gait3d'])} | {cell(e['fullbody_arms_neutral'])} | {cell(e['fullbody'])} | "
                         f"{b - a:+.2f} ({100 * (b - a) / a:+.0f} %) | "
                         + " / ".join(f"{e['arm_term'][c]:.2f} ({corr(rs, c):+.2f})" for c in COMPONENTS[:3]) + " | "
                         + " / ".join(f"{moment(rs, st):.2f}" for st in ARMS_STATES) + " |")
    return "\n".join(lines)


# --- tables ------------------------------------------------------------------------------

def moco_table(results: Sequence[MocoResult]) -> str:
    """Markdown: per subject, RMSE / range of each sagittal moment, the worst, and the hip and
    knee moments' content above 20 Hz (mean of the four, % of range) in the reference and ours."""
    head = ("| subject | mass | height* | frames | " + " | ".join(SAGITTAL)
            + " | worst | hip, knee above 20 Hz: reference / ours |")
    out = [head, "|" + "---|" * (6 + len(SAGITTAL))]
    for r in results:
        by = {x.coordinate: x for x in r.rows}
        vals = [by[c].percent for c in SAGITTAL]
        h = r.hip_knee_above_20hz()
        out.append(f"| {r.subject} | {r.mass:.1f} kg | {r.height:.2f} m | {r.frames} | "
                   + " | ".join(f"{v:.1f} %" for v in vals) + f" | {max(vals):.1f} % | "
                   f"{h[0]:.1f} % / {h[1]:.1f} % |")
    allv = np.array([[{x.coordinate: x for x in r.rows}[c].percent for c in SAGITTAL] for r in results])
    h = np.mean([r.hip_knee_above_20hz() for r in results], 0)
    out.append("| **all (mean)** | | | | " + " | ".join(f"{v:.1f} %" for v in allv.mean(0))
               + f" | {allv.max():.1f} % | {h[0]:.1f} % / {h[1]:.1f} % |")
    return "\n".join(out)


def floor_table(rows: Sequence[dict]) -> str:
    """Markdown of physics-floor rows (``trial, activity, frames, rmse_n_per_kg, peak_plates_bw``)."""
    out = ["| trial | activity | kinematics | frames | RMSE (N/kg) | plates' peak vertical (BW) |",
           "|---|---|---|---|---|---|"]
    for r in rows:
        out.append(f"| {r['trial']} | {r['activity']} | {r['kinematics']} | {r['frames']} | "
                   f"{r['rmse_n_per_kg']:.2f} | {r['peak_plates_bw']:.2f} |")
    for act in sorted({r["activity"] for r in rows}):
        v = np.array([r["rmse_n_per_kg"] for r in rows if r["activity"] == act])
        out.append(f"| **{act}: median (min–max) of {v.size}** | | | | {np.median(v):.2f} "
                   f"({v.min():.2f}–{v.max():.2f}) | |")
    return "\n".join(out)


def validation_tables(data_dir, subjects: Sequence[str] = HAMNER_SUBJECTS, *,
                      floor_extra: Optional[Sequence[dict]] = None, log=print):
    """``(moco_results, floor_rows)`` for ``subjects`` (+ extra physics-floor rows)."""
    model = symgait.load_model("gait3d")
    kern = symgait.kernels(model)
    res = []
    for s in subjects:
        r = moco_validation(model, kern, data_dir, s)
        log(f"  {s}: worst sagittal {max(x.percent for x in r.rows):.1f} %, floor "
            f"{r.floor['rmse_n_per_kg']:.2f} N/kg")
        res.append(r)
    floor = [dict(trial=f"{r.subject} Run_5 cycle 1", activity="running", kinematics="Moco",
                  frames=r.frames, **r.floor) for r in res]
    return res, floor + list(floor_extra or [])


def walking_floor_rows(data_dir) -> List[dict]:
    """Physics-floor rows of the walking trials with OpenSim IK coordinates and plates
    (OpenSim's subject01, gait3d by de Leva at 72.6 kg / 1.803 m)."""
    model = symgait.load_model("gait3d")
    kern = symgait.kernels(model)
    d = Path(data_dir) / "opensim" / "gait2354_subject01_walk1"
    mass = 72.6
    p = model.parameters(height=1.803, mass=mass)
    res = inverse_dynamics_from_coordinates(model, kern, p, d / "subject01_walk1_ik.mot",
                                            d / "subject01_walk1_grf.xml",
                                            datafile=d / "subject01_walk1_grf.mot")
    fl = physics_floor(kern, res.q, res.qd, res.qdd, res.w, p, mass)
    return [dict(trial="OpenSim subject01_walk1", activity="walking", kinematics="OpenSim IK, 6 Hz",
                 frames=int(res.time.size), **fl)]


_SECTIONS = ("## Validation against Moco references", "## Physics floor")


def markdown_sections(moco: Sequence[MocoResult], floor: Sequence[dict]) -> Dict[str, str]:
    """The two ``docs/data.md`` sections (heading → text)."""
    worst = max(max(x.percent for x in r.rows) for r in moco)
    hf_ref, hf_ours = np.mean([r.hip_knee_above_20hz() for r in moco], axis=0)
    a = f"""{_SECTIONS[0]}

Written by `python -m symgait.cli.references --write docs/data.md`.  Hamner & Delp (2013)
running at 5 m/s (SimTK nmbl_running, as processed in Fox 2024, R Soc Open Sci 11:231909): one
gait cycle tracked with OpenSim Moco per subject (`moco/run5/cycle1/*_mocoKinematics.sto`,
coordinates named like gait3d's, radians, knee negative in flexion as in gait3d) with the
measured forces (`expData/Run_5_grf.mot` through `Run_5_grf.xml`: `R_`/`L_` columns on
`calcn_r`/`calcn_l`, the kinematics' clock), inverse dynamics on the built-in `gait3d` scaled to
the subject's OpenSim model (`gait3d_parameters_from_osim`: its body masses, the torso taking
trunk, head and arms; thigh, shank and foot lengths; hip width; height estimated from the leg
length; centres of mass and inertias de Leva's fractions), no filter (Moco's coordinates are
smooth), quintic-spline derivatives.  Against the reference `*_id.sto`: RMSE in % of the
reference's range.  *height estimated.

{moco_table(moco)}

Worst: {worst:.1f} % (target 10 %: **not met**, and not reachable from these files).  The
shortfall is not gait3d's: the subject's own OpenSim model (subject01's
`subject01_adjusted_scaled.osim`, 41 coordinates with arms and the knee's coupled translation),
converted exactly by `symgait.model.from_osim` and run through the same recipe, misses the
reference by as much (hip 15.8 / 15.8 %, knee 12.0 / 16.6 %, ankle 6.9 / 11.8 %, right / left;
arm moments 16–37 %), although the same recipe reproduces OpenSim's gait10dof reference to
0.002 % (docs/validation.md).  On that exact model the shipped kinematics and the measured loads
obey Newton and Euler: the root residual moments are 1.8 / 1.6 / 3.0 N·m RMS (about x / y / z)
and the residual forces agree with the reference's (RMSE 9.7 / 4.4 / 8.4 N).  The reference's
pelvis moments, by contrast, swing over 65 / 41 / 12 N·m (subject01: tilt / list / rotation), and
its hip and knee moments carry {hf_ref:.1f} % of their range above 20 Hz against {hf_ours:.1f} % in the
inverse dynamics of the shipped coordinates (table, last column; `content_above`): the
reference was computed from accelerations or loads that the shipped files do not hold (the Moco
solution's own speeds and accelerations, for instance, which `*_mocoKinematics.sto` does not
store).  Low-passing both at 10 Hz still leaves 13–16 % at the hip and left knee on the exact
model (subject01), so the difference is not only high-frequency; nor is it timing: moving the
measured forces in time by up to ±6 frames (gait3d, frames 6 to T-6) leaves the hips at 13–22 %
(subject01, 04, 08; the best shift differs per subject, +1, −2 and +3 frames; at +3 frames
subject08's ankle falls from 26.9 % to 11.4 %).  The comparison stays a
plausibility check (same shapes, peaks within the figures above), not a 10 % test.  The
kinematic change of the dataset build ("Dataset build and consistency fit") has nothing to do
here: on the exact model these coordinates already agree with the loads.
"""
    b = f"""{_SECTIONS[1]}

The total ground reaction implied by the motion alone (gait3d's root residual with zero contact
wrenches, i.e. Σ m a − m g over all segments) against the plates' total force: RMSE over the
frames of the 3-D difference, N/kg.  It equals the residual force of the trial with the
measured forces: forces exactly consistent with this motion on this model are off the plates by
this much, the number any learned predictor must beat.  Running:
the Moco cycles above (no filter); walking: OpenSim's subject01 (its IK coordinates, OpenSim's
6 Hz filter).  On the Moco cycles the floor is gait3d's, not the data's: subject01's own
OpenSim model (above) leaves residual forces within 14 N RMS of the reference's (themselves
within ±37 N), i.e. well under 1 N/kg, where gait3d (arms rigid in the torso, de Leva inertias)
leaves about 2 N/kg.  The dataset report (`python -m training dataset`) gives the same figure for
every trial it builds (`residual_force_rms_per_kg`, the measured motion's; the kinematic change
within the marker error lowers it by using the plates, so it is no floor for a predictor that
sees the motion only).

{floor_table(floor)}
"""
    return {_SECTIONS[0]: a, _SECTIONS[1]: b}


