"""Joint torques and the root residual of a trial on its lab's own OpenSim model, computed by
OpenSim 4.6's own InverseDynamicsTool (the ``opensim`` Python package): the reference against
which the networks' torques and gait3d's inverse dynamics are scored, and each lab model's own
physics floor.

A labelled trial of a built dataset (an ``index.json`` row) is mapped to its lab's files by
:func:`lab_files`, where the lab ships a scaled model of the subject:

* ``opensim`` (OpenSim's example gait2354 ``subject01_walk1``): ``subject01_simbody.osim``, the
  shipped IK result ``subject01_walk1_ik.mot`` and its ExternalLoads ``.xml``. The running trial of
  that folder ships no model (Hamner & Delp's scaled subject02 weighs 76.5 kg, the trial's subject
  65.9 kg): no reference.
* ``hamner2013_running`` (Hamner & Delp 2013): ``model/subjectNN_adjusted_scaled.osim`` and the
  trial's ``Run_N_grf.xml``; no IK result is shipped for the whole runs, so OpenSim's
  InverseKinematicsTool is run on the trial's ``.trc`` with the model's own marker set, every
  marker the model and the file share weighted 1 (:func:`opensim_ik`).
* ``schreiber2019_walking`` (Schreiber & Moissenet 2019): ``scaling/*_scaledModelAdjusted.osim``
  and the shipped IK ``ik/<trial>/<trial>_ik.mot``; the forces are the C3D's plates, brought into the
  model's ground frame (:func:`lab_to_ground`: the rigid transform that maps the C3D's markers onto
  the model's markers at the IK poses), resampled to the IK times as the dataset build resamples
  them (anti-aliased), and assigned to the foot nearest each loaded run's centre of pressure
  (:func:`assign_to_feet`).
* ``more/mocopaper`` (Arnold subject02 walk 3): ``subject02.osim``, the shipped IK solution and
  ExternalLoads.
* ``more/nimblephysics``: OpenCap's LaiArnold subject 6 (its scaled model, IK ``walking1.mot``,
  forces ``walking1_forces.mot`` whose ``R_``/``L_`` columns are the feet, applied to ``calcn_r`` /
  ``calcn_l`` by an ExternalLoads file written here), and the Camargo (2021) circuit walk (the
  AddBiomechanics model ``Models/final.osim`` and IK; its ExternalLoads file applies all six plates
  to ``talus_r``, so the plates are assigned to the feet by proximity instead).

Every other source ships no subject model (:func:`lab_files` says why).

:func:`reference` runs OpenSim's InverseDynamicsTool over the coordinates' whole time range with
OpenSim's coordinate filter at ``cutoff`` Hz (6 Hz, as the dataset build filters the gait3d
coordinates) and every model force excluded (``forces_to_exclude`` ``All``: muscles, ligaments,
limit forces and actuators apply nothing; the external loads stay), i.e. the rigid-body inverse
dynamics of the lab's model with the measured forces. It returns the generalized forces of every
coordinate (OpenSim's names, N·m and N), the coordinates themselves (radians and metres, at the
output times) for sign checks, and the root residual force: the generalized forces of the pelvis
translations ``pelvis_tx/ty/tz``, which OpenSim's models define along the ground axes, i.e. the
residual force in the ground frame. Results are cached under ``<cache>/lab_reference/`` (the user
cache, :func:`symgait.user_cache.cache_dir`), keyed by the SHA-256 of every file used and the
options, written atomically: a second call reads them in milliseconds.

Data: OpenSim example data (CC BY 3.0, Delp et al. 2007); Hamner SR & Delp SL (2013) J Biomech
46(4):780-787 as processed in Fox A (2024) R Soc Open Sci 11:231909; Schreiber C & Moissenet F
(2019) Sci Data 6:111; Arnold et al. (2013) via the Moco paper's resources (Dembia et al. 2020);
Uhlrich et al. (2023, OpenCap) and Camargo et al. (2021) via nimblephysics' test data.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
from scipy.interpolate import CubicSpline

import symgait
from ..atomic import atomic_write, file_sha256, write_text
from ..errors import InputError, SymgaitError
from ..forces.contacts import Plates, plates_from_c3d, plates_from_mot
from ..io import read_c3d, read_mot, read_sto, read_trc
from ..io.opensim_write import GrfLoad, write_external_loads, write_grf_mot, write_table
from ..paths import default_data_dir
from ..trials.sequence import Sequence as TrialSequence
from ..user_cache import cache_dir as user_cache_dir
from .discover import activity_class

__all__ = ["LabFiles", "LabReference", "lab_files", "reference", "opensim_ik", "lab_to_ground",
           "assign_to_feet", "run_inverse_dynamics", "edge_margin", "scored_frames", "at_times", "own_model_floor",
           "lab_floor_rows", "pool_floor", "lab_floor_table", "ROOT_FORCES", "REFERENCE_VERSION",
           "SOURCES_WITH_MODELS"]

# the generalized forces of the root translations (the residual force, ground frame)
ROOT_FORCES = ("pelvis_tx", "pelvis_ty", "pelvis_tz")
# bumped when what a cached reference holds, or how it is computed, changes
REFERENCE_VERSION = 2
SOURCES_WITH_MODELS = ("opensim", "hamner2013_running", "schreiber2019_walking", "more/mocopaper",
                       "more/nimblephysics")
_FEET = (("r", "calcn_r", "toes_r"), ("l", "calcn_l", "toes_l"))
_STANCE_N = 20.0        # N: a plate sample above this vertical force is loaded
_MAX_FOOT_DISTANCE = 0.35   # m: a loaded run farther than this from both feet is left out


@contextlib.contextmanager
def _quiet():
    """OpenSim's tools print the model's summary on the process's standard output (C++
    ``std::cout``, past its logger): send file descriptor 1 to the null device meanwhile."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 1)
            yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def _need_opensim():
    """OpenSim 4.6's Python package, the reference's oracle: an optional dependency, loaded (its C++
    libraries, 0.6 s) only when a reference is computed, so that importing this module (and every
    experiment beside it) does not need it."""
    try:
        import opensim
    except ImportError:
        raise SymgaitError("the lab-model reference runs OpenSim 4.6's own tools: install its Python "
                           "package (`conda install -c opensim-org opensim`, or the `test` extra of "
                           "symgait), then run again") from None
    opensim.Logger.setLevelString("error")
    return opensim


@dataclass(frozen=True)
class LabFiles:
    """The files of one trial on its lab's model. ``coordinates``: the lab's IK result (None where
    it ships none: ``markers`` is then the ``.trc`` OpenSim's IK runs on). ``forces_kind``:
    ``"external_loads"`` (the lab's ExternalLoads ``external_loads`` with its data file
    ``forces``), ``"sides"`` (a GRF ``.mot`` with ``R_``/``L_`` columns, one set per foot) or
    ``"plates"`` (plates of a GRF ``.mot`` or a C3D, assigned to the feet by proximity)."""
    trial: str
    source: str
    subject: str
    model: Path
    coordinates: Optional[Path]
    markers: Optional[Path]
    forces: Path
    forces_kind: str
    external_loads: Optional[Path] = None
    note: str = ""

    def paths(self) -> Dict[str, Path]:
        return {k: Path(v) for k, v in (("model", self.model), ("coordinates", self.coordinates),
                                        ("markers", self.markers), ("forces", self.forces),
                                        ("external_loads", self.external_loads)) if v is not None}


@dataclass
class LabReference:
    """OpenSim's inverse dynamics of one trial on its lab's model (module docstring). ``tau``
    (T, n) generalized forces of ``names`` (N·m for rotations, N for translations) at ``time``
    (T,); ``q`` (T, n) the coordinates there (radians for ``rotational``, metres); ``residual``
    (T, 3) the root residual force (ground frame, N); ``complete`` (T,) False at the frames where
    a plate's loaded run could not be given to a foot (the loads there are incomplete, see
    ``notes``); ``mass`` the model's total mass (kg); ``cutoff`` the coordinates' low-pass (Hz);
    ``heading_deg`` the largest angle between the pelvis's forward axis and the ground's ±X
    (horizontal, over the trial); ``kinematics`` says where the coordinates came from."""
    trial: str
    source: str
    subject: str
    time: np.ndarray
    names: Tuple[str, ...]
    tau: np.ndarray
    q: np.ndarray
    rotational: Tuple[str, ...]
    residual: np.ndarray
    complete: np.ndarray
    mass: float
    heading_deg: float
    cutoff: float
    kinematics: str
    files: Dict[str, str]
    key: str
    notes: List[str] = field(default_factory=list)

    def column(self, name: str) -> np.ndarray:
        return self.tau[:, self.names.index(name)]

    def angle(self, name: str) -> np.ndarray:
        return self.q[:, self.names.index(name)]


# --- which files -------------------------------------------------------------------------------

def _one(folder: Path, pattern: str) -> Optional[Path]:
    found = sorted(Path(folder).glob(pattern))
    return found[0] if found else None


def _resolve(path: str, index_data: Optional[str], data_root: Path) -> Path:
    """A file named by a dataset row (as the build saw it) under ``data_root``."""
    p = Path(path)
    if index_data:
        try:
            return Path(data_root) / p.relative_to(Path(index_data))
        except ValueError:
            pass
    return p if p.is_absolute() else Path(data_root) / p


def lab_files(row: dict, data_root, index_data: Optional[str] = None) -> Tuple[Optional[LabFiles], str]:
    """``(files, "")`` for a dataset row whose lab ships a model of the subject (module docstring),
    else ``(None, reason)``. ``data_root``: the raw data folder; ``index_data``: the data folder the
    build recorded (``index.json``'s ``data``), the prefix of the rows' file names."""
    src = row.get("source", "")
    files = row.get("files") or {}
    if "motion" not in files:
        return None, "no motion file recorded"
    m = _resolve(files["motion"], index_data, data_root)
    f = _resolve(files["forces"], index_data, data_root) if files.get("forces") else None
    x = _resolve(files["external_loads"], index_data, data_root) if files.get("external_loads") else None
    base = dict(trial=row["name"], source=src, subject=row.get("subject", ""))
    if src not in SOURCES_WITH_MODELS:
        return None, "the lab ships no model of the subject"
    if src == "opensim":
        model = _one(m.parent, "*.osim")
        if model is None:
            return None, ("its folder ships no model (Hamner & Delp's scaled subject02, 76.5 kg, is not "
                          "this trial's subject, 65.9 kg)" if "hamner" in m.parent.name else
                          "its folder ships no model")
        ik = _one(m.parent, f"{m.stem}_ik.mot")
        if ik is None or x is None or f is None:
            return None, "no IK result or ExternalLoads beside the model"
        return LabFiles(**base, model=model, coordinates=ik, markers=None, forces=f,
                        forces_kind="external_loads", external_loads=x,
                        note="the lab's IK result and ExternalLoads"), ""
    if src == "hamner2013_running":
        model = _one(m.parents[1] / "model", "*.osim")
        if model is None or x is None or f is None:
            return None, "no model or ExternalLoads in the subject's folder"
        return LabFiles(**base, model=model, coordinates=None, markers=m, forces=f,
                        forces_kind="external_loads", external_loads=x,
                        note="OpenSim IK on the lab's markers (the model's marker set, weights 1); "
                             "the lab's ExternalLoads"), ""
    if src == "schreiber2019_walking":
        model = _one(m.parents[1] / "scaling", "*.osim")
        code = m.stem.split("_", 1)[1] if "_" in m.stem else m.stem
        ik = m.parents[1] / "ik" / code / f"{code}_ik.mot"
        if model is None or not ik.is_file():
            return None, "no scaled model or IK result in the subject's folder"
        return LabFiles(**base, model=model, coordinates=ik, markers=None, forces=m, forces_kind="plates",
                        note="the lab's IK result; the C3D's plates in the model's ground frame, "
                             "assigned to the feet by proximity"), ""
    if src == "more/mocopaper":
        model, ik = _one(m.parent, "*.osim"), _one(m.parent, "*_ik_solution.mot")
        if model is None or ik is None or x is None or f is None:
            return None, "no model, IK solution or ExternalLoads beside the markers"
        return LabFiles(**base, model=model, coordinates=ik, markers=None, forces=f,
                        forces_kind="external_loads", external_loads=x,
                        note="the lab's IK solution and ExternalLoads"), ""
    # more/nimblephysics
    if f is None:
        return None, "no forces"
    if m.parent.name == "MarkerData":
        model = _one(m.parents[1] / "Models", "*.osim")
        ik = m.parents[1] / "IK" / f"{m.stem}_ik.mot"
        if model is None or not ik.is_file():
            return None, "AddBiomechanics' model of this subject is not shipped"
        return LabFiles(**base, model=model, coordinates=ik, markers=None, forces=f, forces_kind="plates",
                        note="AddBiomechanics' model and IK; its ExternalLoads applies every plate to "
                             "talus_r, so the plates are assigned to the feet by proximity"), ""
    model, ik = _one(m.parent, "*.osim"), m.with_suffix(".mot")
    if model is None or not ik.is_file():
        return None, "no scaled model or IK result beside the markers"
    sides = all(f"{s}_ground_force_vx" in read_mot(f).names for s in ("R", "L"))
    return LabFiles(**base, model=model, coordinates=ik, markers=None, forces=f,
                    forces_kind="sides" if sides else "plates",
                    note="the lab's IK result; " + ("its R_/L_ force sets on calcn_r/calcn_l" if sides else
                                                    "plates assigned to the feet by proximity")), ""


# --- OpenSim's tools ------------------------------------------------------------------------------

def _model_coordinates(model) -> Tuple[List[str], set]:
    cs = model.getCoordinateSet()
    names = [cs.get(i).getName() for i in range(cs.getSize())]
    rot = {n for n in names if cs.get(n).getMotionType() == 1}     # 1: Rotational
    return names, rot


def opensim_ik(model_path, trc, out) -> Tuple[Path, str]:
    """OpenSim's InverseKinematicsTool on the ``.trc`` over its whole time range, every marker of
    the model's marker set that the file holds weighted 1; the result written to ``out``
    (atomically). Returns ``(out, summary)`` with the marker error (mean RMS and worst marker
    distance over frames)."""
    o = _need_opensim()
    markers = read_trc(trc)
    names = set(markers.names)
    with tempfile.TemporaryDirectory(dir=Path(out).parent, prefix=".ik-") as tmp:
        model = o.Model(str(model_path))
        ms = model.getMarkerSet()
        tasks = o.IKTaskSet()
        used = [ms.get(i).getName() for i in range(ms.getSize()) if ms.get(i).getName() in names]
        if len(used) < 6:
            raise InputError(f"{trc}: only {len(used)} of its markers are in {Path(model_path).name}'s marker "
                             "set; OpenSim's IK needs the lab's marker names")
        for n in used:
            t = o.IKMarkerTask()
            t.setName(n)
            t.setWeight(1.0)
            t.setApply(True)
            tasks.cloneAndAppend(t)
        tool = o.InverseKinematicsTool()
        tool.setModel(model)
        tool.setMarkerDataFileName(str(trc))
        tool.set_IKTaskSet(tasks)
        times = markers.time
        tool.setStartTime(float(times[0]))
        tool.setEndTime(float(times[-1]))
        tool.set_report_errors(True)
        tool.setResultsDir(tmp)
        tool.setOutputMotionFileName(str(Path(tmp) / "ik.mot"))
        if not tool.run():
            raise SymgaitError(f"OpenSim's InverseKinematicsTool failed on {trc} with {model_path}")
        err = read_sto(_one(Path(tmp), "*marker_errors*.sto"))
        summary = (f"OpenSim IK on {Path(trc).name}: {len(used)} markers of {Path(model_path).name} weighted 1, "
                   f"marker RMS {1000 * float(np.mean(err.column('marker_error_RMS'))):.1f} mm mean, worst marker "
                   f"{1000 * float(np.max(err.column('marker_error_max'))):.0f} mm")
        write_text(out, (Path(tmp) / "ik.mot").read_text())
        del tool, model
    return Path(out), summary


def run_inverse_dynamics(model_path, coordinates, external_loads, out, *, cutoff: float = 6.0,
                         exclude: str = "All") -> Path:
    """OpenSim's InverseDynamicsTool: the model, the coordinates over their whole time range
    filtered at ``cutoff`` Hz (OpenSim's filter), the ExternalLoads file, the model forces
    ``exclude`` names excluded (``All``: every one; ``Muscles``: as OpenSim's example set-ups); the
    generalized forces written to ``out``."""
    o = _need_opensim()
    out = Path(out)
    tool = o.InverseDynamicsTool()
    model = o.Model(str(model_path))           # kept alive while the tool runs (the tool does not own it)
    tool.setModel(model)
    tool.setCoordinatesFileName(str(coordinates))
    if external_loads is not None:
        tool.setExternalLoadsFileName(str(external_loads))
    tool.setLowpassCutoffFrequency(cutoff)
    st = o.Storage(str(coordinates))
    tool.setStartTime(st.getFirstTime())
    tool.setEndTime(st.getLastTime())
    excluded = o.ArrayStr()
    excluded.append(exclude)
    tool.setExcludedForces(excluded)
    tool.setResultsDir(str(out.parent))
    tool.setOutputGenForceFileName(out.name)
    if not tool.run():
        raise SymgaitError(f"OpenSim's InverseDynamicsTool failed on {coordinates} with {model_path}")
    del tool, model
    return out


_PATH_LABEL = re.compile(r"^/jointset/[^/]+/([^/]+)/value$")


def _plain_coordinates(ik_path, names: Sequence[str], out) -> Tuple[Path, List[str]]:
    """The IK table with one column per model coordinate under its plain name (OpenSim's tools
    read coordinates by name; a Moco-style ``/jointset/<joint>/<coordinate>/value`` label is
    renamed, speeds and other columns dropped), values and ``inDegrees`` as in the file.
    Returns the path and the model's coordinates the file lacks."""
    t = read_mot(ik_path)
    cols = {}
    for j, n in enumerate(t.names):
        mm = _PATH_LABEL.match(n)
        c = mm.group(1) if mm else n
        if c in names and c not in cols:
            cols[c] = t.data[:, j]
    keep = [n for n in names if n in cols]
    write_table(out, t.time, keep, np.stack([cols[n] for n in keep], 1), title="Coordinates",
                in_degrees=t.in_degrees)
    return Path(out), [n for n in names if n not in cols]


def _poses(model_path, coordinates, times_every: int = 1):
    """Per frame of an OpenSim coordinates file (every ``times_every``-th): ``time``, the ground
    positions of the calcanei, toes and markers, and the pelvis's forward axis."""
    o = _need_opensim()
    model = o.Model(str(model_path))
    state = model.initSystem()
    names, rot = _model_coordinates(model)
    t = read_mot(coordinates)
    cs = model.getCoordinateSet()
    idx = list(range(0, t.time.size, times_every))
    cols = [(cs.get(n), j, n in rot) for j, n in enumerate(t.names) if n in names]
    bodies = {b: model.getBodySet().get(b) for _, c, toe in _FEET for b in (c, toe)}
    ms = model.getMarkerSet()
    markers = [ms.get(i) for i in range(ms.getSize())]
    pelvis = model.getBodySet().get("pelvis")
    out = dict(time=t.time[idx], bodies={b: np.zeros((len(idx), 3)) for b in bodies},
               markers=np.zeros((len(idx), len(markers), 3)), marker_names=[mk.getName() for mk in markers],
               forward=np.zeros((len(idx), 3)))
    for k, i in enumerate(idx):
        for c, j, is_rot in cols:
            v = float(t.data[i, j])
            c.setValue(state, np.radians(v) if (is_rot and t.in_degrees) else v, False)
        model.realizePosition(state)
        for b, body in bodies.items():
            p = body.getPositionInGround(state)
            out["bodies"][b][k] = (p.get(0), p.get(1), p.get(2))
        for mi, mk in enumerate(markers):
            p = mk.getLocationInGround(state)
            out["markers"][k, mi] = (p.get(0), p.get(1), p.get(2))
        R = pelvis.getTransformInGround(state).R()
        out["forward"][k] = (R.get(0, 0), R.get(1, 0), R.get(2, 0))
    del model
    return out


def lab_to_ground(poses: dict, c3d) -> Tuple[np.ndarray, np.ndarray, float]:
    """``(R, origin, rms)``: the rigid transform ``x_ground = R @ (x_lab - origin)`` that best maps
    the C3D's markers (lab frame) onto the model's markers at the IK poses (least squares over the
    markers both name and the IK frames, Kabsch), ``rms`` the remaining distance (m). A rotation
    within 2° of an axis permutation with signs is taken as that permutation, and an origin within
    1 cm as the lab's origin (the lab's frame conversion, not the markers' placement on the model)."""
    labels = [lab.split(":")[-1] for lab in c3d.marker_labels]
    A, B = [], []
    for k, t in enumerate(poses["time"]):
        j = int(round((t - c3d.time[0]) * c3d.point_rate))
        if not 0 <= j < c3d.time.size or abs(c3d.time[j] - t) > 0.25 / c3d.point_rate:
            continue
        for mi, n in enumerate(poses["marker_names"]):
            if n in labels:
                y = c3d.markers[j, labels.index(n)]
                if np.all(np.isfinite(y)):
                    A.append(y)
                    B.append(poses["markers"][k, mi])
    if len(A) < 12:
        raise InputError(f"{c3d.path}: fewer than 12 marker samples shared with the model's marker set at the IK "
                         "times; cannot place the plates in the model's ground frame")
    A, B = np.asarray(A), np.asarray(B)
    ca, cb = A.mean(0), B.mean(0)
    U, _, Vt = np.linalg.svd((A - ca).T @ (B - cb))
    D = np.diag([1.0, 1.0, np.sign(np.linalg.det(U @ Vt))])
    R = (U @ D @ Vt).T
    snapped = np.round(R)
    if np.allclose(np.abs(snapped).sum(0), 1) and np.allclose(np.abs(snapped).sum(1), 1) and \
            np.arccos(np.clip((np.trace(snapped.T @ R) - 1) / 2, -1, 1)) < np.radians(2.0):
        R = snapped
    origin = ca - R.T @ cb                      # x_ground = R (x_lab - origin)
    if np.linalg.norm(origin) < 0.01:
        origin = np.zeros(3)
    rms = float(np.sqrt(np.mean(np.sum(((A - origin) @ R.T - B) ** 2, 1))))
    return R, origin, rms


def assign_to_feet(plates: Plates, feet: Dict[str, np.ndarray]):
    """Plates (ground frame, sampled at the poses' times) → ``(per_foot, dropped, notes)``:
    ``per_foot`` side → ``(force (T, 3), moment about the ground origin (T, 3))``: every loaded run
    of a plate (vertical force above 20 N) goes whole to the foot (``feet``: side → (T, 2, 3)
    calcaneus and toes origins) whose heel-to-toe segment is horizontally nearest its centre of
    pressure (median over the run); samples below the threshold go with the nearest run; a run
    farther than 0.35 m from both feet is left out: ``dropped`` (T,) marks its frames, ``notes``
    say which. Several plates under one foot are summed."""
    T = plates.time.size
    out = {s: (np.zeros((T, 3)), np.zeros((T, 3))) for s in feet}
    dropped = np.zeros(T, bool)
    notes = []
    for j, name in enumerate(plates.names):
        F, M = plates.force[:, j], plates.moment[:, j]
        loaded = F[:, 1] > _STANCE_N
        if not loaded.any():
            continue
        cop = np.full((T, 3), np.nan)
        cop[loaded, 0] = M[loaded, 2] / F[loaded, 1]            # COP on y = 0: M0 = P × F + T ŷ
        cop[loaded, 2] = -M[loaded, 0] / F[loaded, 1]
        edges = np.flatnonzero(np.diff(np.r_[0, loaded.astype(int), 0]))
        runs = list(zip(edges[::2], edges[1::2]))
        owner = np.full(T, -1)
        sides = list(feet)
        for a, b in runs:
            d = []
            for s in sides:
                h, toe = feet[s][a:b, 0], feet[s][a:b, 1]
                seg = (toe - h)[:, [0, 2]]
                rel = (cop[a:b] - h)[:, [0, 2]]
                u = np.clip(np.sum(rel * seg, 1) / np.maximum(np.sum(seg * seg, 1), 1e-12), 0, 1)
                d.append(float(np.median(np.linalg.norm(rel - u[:, None] * seg, axis=1))))
            k = int(np.argmin(d))
            if d[k] > _MAX_FOOT_DISTANCE:
                notes.append(f"{name}: loaded {plates.time[a]:.2f}-{plates.time[b - 1]:.2f} s, {d[k]:.2f} m from "
                             "the nearest foot: left out")
                dropped[a:b] = True
                continue
            owner[a:b] = k
        got = np.flatnonzero(owner >= 0)
        if got.size:
            near = got[np.clip(np.searchsorted(got, np.arange(T)), 0, got.size - 1)]
            prev = got[np.clip(np.searchsorted(got, np.arange(T)) - 1, 0, got.size - 1)]
            pick = np.where(np.abs(prev - np.arange(T)) <= np.abs(near - np.arange(T)), prev, near)
            full = owner[pick]
            for k, s in enumerate(sides):
                sel = full == k
                out[s][0][sel] += F[sel]
                out[s][1][sel] += M[sel]
    return out, dropped, notes


def _write_feet_loads(folder: Path, time, per_foot) -> Path:
    """GRF ``.mot`` (force at the ground origin, torque = the moment about it: exact for any
    wrench) and its ExternalLoads ``.xml`` (``R``/``L`` on ``calcn_r``/``calcn_l``)."""
    loads = [GrfLoad(name=f"{s.upper()}_GRF", body=f"calcn_{s}", prefix=f"{s.upper()}_ground",
                     force=per_foot[s][0], point=np.zeros_like(per_foot[s][0]), torque=per_foot[s][1])
             for s in ("r", "l")]
    mot = write_grf_mot(folder / "grf.mot", time, loads, title="grf")
    return write_external_loads(folder / "grf.xml", loads, mot.name)


# --- the reference -------------------------------------------------------------------------------

def _key(files: LabFiles, cutoff: float) -> str:
    h = {k: file_sha256(p) for k, p in files.paths().items()}
    spec = dict(files=h, kind=files.forces_kind, cutoff=cutoff, excluded="All", version=REFERENCE_VERSION)
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name)


def _load(path: Path) -> LabReference:
    with np.load(path, allow_pickle=False) as z:
        meta = json.loads(str(z["meta"]))
        arrays = {k: z[k] for k in ("time", "tau", "q", "residual", "complete")}
    meta["names"], meta["rotational"] = tuple(meta["names"]), tuple(meta["rotational"])
    return LabReference(**meta, **arrays)


def _save(path: Path, ref: LabReference) -> None:
    meta = {k: getattr(ref, k) for k in ("trial", "source", "subject", "names", "rotational", "mass",
                                         "heading_deg", "cutoff", "kinematics", "files", "key", "notes")}
    meta["names"], meta["rotational"] = list(ref.names), list(ref.rotational)
    with atomic_write(path) as f:
        np.savez_compressed(f, meta=np.array(json.dumps(meta)), time=ref.time, tau=ref.tau, q=ref.q,
                            residual=ref.residual, complete=ref.complete)


def reference(files: LabFiles, *, cache_dir=None, cutoff: float = 6.0, log=print) -> LabReference:
    """OpenSim's inverse dynamics of ``files``' trial on its lab's model (module docstring),
    from the cache when the same files and options were run before."""
    key = _key(files, cutoff)
    root = Path(cache_dir) if cache_dir is not None else user_cache_dir()
    folder = root / "lab_reference"
    path = folder / f"{_safe(files.source)}-{_safe(files.trial)}-{key[:16]}.npz"
    if path.is_file():
        try:
            ref = _load(path)
            if ref.key == key:
                return ref
        except Exception:  # noqa: BLE001 — a damaged cache entry is computed again
            pass
    o = _need_opensim()
    folder.mkdir(parents=True, exist_ok=True)
    notes: List[str] = []
    with tempfile.TemporaryDirectory(dir=folder, prefix=".work-") as tmp:
        work = Path(tmp)
        model = o.Model(str(files.model))
        names, rot = _model_coordinates(model)
        mass = float(model.getTotalMass(model.initSystem()))
        del model
        if files.coordinates is None:
            ik_key = hashlib.sha256(f"{file_sha256(files.model)}:{file_sha256(files.markers)}:ik1".encode()).hexdigest()
            ik_path = folder / "ik" / f"{_safe(files.trial)}-{ik_key[:16]}.mot"
            summary_path = ik_path.with_suffix(".txt")
            if not (ik_path.is_file() and summary_path.is_file()):
                ik_path.parent.mkdir(parents=True, exist_ok=True)
                log(f"    {files.trial}: OpenSim IK on {files.markers.name} with {files.model.name}")
                with _quiet():
                    _, summary = opensim_ik(files.model, files.markers, ik_path)
                write_text(summary_path, summary)
            kinematics = summary_path.read_text()
            source_ik = ik_path
        else:
            kinematics = f"the lab's IK result {files.coordinates.name}"
            source_ik = files.coordinates
        coords, missing = _plain_coordinates(source_ik, names, work / "coordinates.mot")
        if missing:
            notes.append(f"coordinates of the model not in {Path(source_ik).name} (at their defaults): {missing}")
        poses = _poses(files.model, coords)
        xml = files.external_loads
        dropped = np.zeros(poses["time"].size, bool)
        if files.forces_kind == "sides":
            loads = [GrfLoad(name=f"{s}_GRF", body=f"calcn_{s.lower()}", prefix=f"{s}_ground",
                             force=np.empty((0, 3)), point=np.empty((0, 3)), torque=np.empty((0, 3)))
                     for s in ("R", "L")]
            xml = write_external_loads(work / "grf.xml", loads, str(Path(files.forces).resolve()))
        elif files.forces_kind == "plates":
            if files.forces.suffix.lower() == ".c3d":
                c3d = read_c3d(files.forces)
                R, origin, rms = lab_to_ground(poses, c3d)
                notes.append(f"C3D lab frame → model ground: rotation {np.round(R, 3).tolist()}, origin "
                             f"{np.round(origin, 3).tolist()} m; markers {1000 * rms:.1f} mm RMS from the model's")
                plates = plates_from_c3d(c3d, R, origin).resampled(poses["time"], antialias=True)
            else:
                plates = plates_from_mot(files.forces).resampled(poses["time"])
            feet = {s: np.stack([poses["bodies"][c], poses["bodies"][toe]], 1) for s, c, toe in _FEET}
            per_foot, dropped, n2 = assign_to_feet(plates, feet)
            notes += n2
            xml = _write_feet_loads(work, poses["time"], per_foot)
        with _quiet():
            out = run_inverse_dynamics(files.model, coords, xml, work / "id.sto", cutoff=cutoff)
        sto = read_sto(out)
        table = read_mot(coords)
    cols, got = [], []
    for n in names:
        for suffix in ("_moment", "_force"):
            if n + suffix in sto.names:
                cols.append(sto.column(n + suffix))
                got.append(n)
                break
    missing_root = [c for c in ROOT_FORCES if c not in got]
    if missing_root:
        raise SymgaitError(f"{files.model}: no generalized force for {missing_root} in OpenSim's output; the "
                           "root residual needs the pelvis translations pelvis_tx/ty/tz")
    tau = np.stack(cols, 1)
    q = np.zeros_like(tau)
    for j, n in enumerate(got):
        if n in table.names:
            v = table.column(n)
            v = np.radians(v) if (n in rot and table.in_degrees) else v
            q[:, j] = np.interp(sto.time, table.time, v)
    complete = np.interp(sto.time, poses["time"], dropped.astype(float)) == 0
    fw = poses["forward"][:, [0, 2]]
    ang = np.degrees(np.arctan2(np.abs(fw[:, 1]), np.abs(fw[:, 0])))
    ref = LabReference(trial=files.trial, source=files.source, subject=files.subject, time=sto.time.copy(),
                       names=tuple(got), tau=tau, q=q, rotational=tuple(n for n in got if n in rot),
                       residual=np.stack([tau[:, got.index(c)] for c in ROOT_FORCES], 1), complete=complete,
                       mass=mass,
                       heading_deg=float(ang.max()), cutoff=float(cutoff), kinematics=kinematics,
                       files={k: str(v) for k, v in files.paths().items()}, key=key,
                       notes=[files.note] + notes)
    _save(path, ref)
    log(f"    {files.trial}: OpenSim ID on {files.model.name}, {sto.time.size} frames "
        f"({sto.time[0]:.2f}-{sto.time[-1]:.2f} s)")
    return ref


# --- the own-model floor beside gait3d's ---------------------------------------------------------

def edge_margin(ref: LabReference) -> float:
    """Seconds at each end of the reference that are not scored: half a period of the coordinates'
    cut-off (0.083 s at 6 Hz). OpenSim's filter pads the coordinates by reflection, and there the
    accelerations depend on the padding: on Schreiber's IK windows (0.4-0.6 s of a walk) the
    anterior-posterior root residual of the lab's model is 2-4 N/kg in the first and last frames,
    mostly under 1 N/kg between them."""
    return 0.5 / ref.cutoff if ref.cutoff > 0 else 0.0


def scored_frames(ref: LabReference, time) -> np.ndarray:
    """Indices of the frames at ``time`` (a sequence's clock, the lab files' own) that lie within
    the reference's time range less :func:`edge_margin` at each end, where its loads are complete."""
    t = np.asarray(time, float)
    e = edge_margin(ref)
    inside = (t >= ref.time[0] + e - 1e-6) & (t <= ref.time[-1] - e + 1e-6)
    ok = np.interp(t, ref.time, ref.complete.astype(float)) > 1 - 1e-9
    return np.flatnonzero(inside & ok)


def at_times(ref: LabReference, x: np.ndarray, time) -> np.ndarray:
    """``x`` (rows at the reference's times) at ``time`` by cubic interpolation."""
    return CubicSpline(ref.time, x, axis=0)(np.asarray(time, float))


def _components(force_per_kg: np.ndarray) -> Dict[str, float]:
    rms = np.sqrt(np.mean(force_per_kg ** 2, 0))
    return dict(vertical=float(rms[1]), ap=float(rms[0]), ml=float(rms[2]),
                norm=float(np.sqrt(np.mean(np.sum(force_per_kg ** 2, 1)))))


def own_model_floor(ref: LabReference, seq, kern) -> Optional[dict]:
    """The root residual force of the lab's own model (OpenSim's ``pelvis_tx/ty/tz`` generalized
    forces, ground frame) beside gait3d's (``kern.root_residual`` with the measured wrenches, the
    dataset's motion) on the same frames: ``seq``'s frames inside the reference
    (:func:`scored_frames`), the lab's residual interpolated there. RMS per frame per kg (the
    dataset's subject mass for both) of the vertical (Y), anterior-posterior (X), medio-lateral
    (Z) and 3-D force; None when no frame is shared."""
    idx = scored_frames(ref, seq.time)
    if idx.size == 0:
        return None
    own = at_times(ref, ref.residual, np.asarray(seq.time)[idx]) / seq.mass
    q, qd, qdd, w = (np.ascontiguousarray(np.asarray(x, float)[idx]) for x in (seq.q, seq.qd, seq.qdd, seq.w))
    p = np.ascontiguousarray(np.broadcast_to(np.asarray(seq.p, float), (idx.size, len(seq.p))))
    ours = np.asarray(kern.root_residual(q, qd, qdd, np.nan_to_num(w), p))[:, :3] / seq.mass
    return dict(trial=ref.trial, source=ref.source, subject=ref.subject, frames=int(idx.size),
                seconds=float(seq.time[idx[-1]] - seq.time[idx[0]]), model_mass=ref.mass, mass=float(seq.mass),
                heading_deg=ref.heading_deg, own=_components(own), gait3d=_components(ours))


def lab_floor_rows(dataset_dir, *, data_root=None, model=None, kern=None, cache_dir=None,
                   log=print) -> Tuple[List[dict], List[dict]]:
    """Per labelled trial of a built dataset whose lab ships a model of the subject
    (:func:`lab_files`): :func:`own_model_floor` on the built sequence (its own frame rate).
    Returns ``(rows, skipped)`` (``skipped``: ``dict(trial, source, reason)`` of the labelled
    trials without a reference). ``data_root``: the raw data folder (default: the one the build
    recorded, else :func:`symgait.paths.default_data_dir`)."""
    d = Path(dataset_dir)
    idx = json.loads((d / "index.json").read_text())
    root = Path(data_root) if data_root is not None else (
        Path(idx["data"]) if Path(idx.get("data", "")).is_dir() else default_data_dir())
    model = symgait.load_model(idx["model"]) if model is None else model
    kern = kern or symgait.kernels(model)
    rows, skipped = [], []
    for r in idx["rows"]:
        if r["status"] != "usable" or r.get("role") != "labelled":
            continue
        files, why = lab_files(r, root, idx.get("data"))
        if files is None:
            skipped.append(dict(trial=r["name"], source=r["source"], reason=why))
            continue
        ref = reference(files, cache_dir=cache_dir, log=log)
        row = own_model_floor(ref, TrialSequence.load(d / r["file"]), kern)
        if row is None:
            skipped.append(dict(trial=r["name"], source=r["source"], reason="no frame of the built trial lies "
                                "within the reference"))
            continue
        row["activity"] = activity_class(r.get("activity", ""))
        rows.append(row)
    return rows, skipped


def pool_floor(rows: Sequence[dict]) -> Dict[Tuple[str, str], dict]:
    """{(activity, source): pooled :func:`own_model_floor` rows} (RMS over the frames of all the
    source's trials), with ``("<activity>", "all")`` for every activity."""
    groups: Dict[Tuple[str, str], List[dict]] = {}
    for r in rows:
        groups.setdefault((r["activity"], r["source"]), []).append(r)
        groups.setdefault((r["activity"], "all"), []).append(r)
    out = {}
    for key in sorted(groups, key=lambda k: (k[0], k[1] == "all", k[1])):
        rs = groups[key]
        n = sum(r["frames"] for r in rs)
        e = dict(trials=len(rs), frames=n, subjects=len({r["subject"] for r in rs}),
                 heading_deg=max(r["heading_deg"] for r in rs),
                 mass_ratio=max(abs(r["model_mass"] / r["mass"] - 1) for r in rs))
        for m in ("own", "gait3d"):
            e[m] = {c: float(np.sqrt(sum(r[m][c] ** 2 * r["frames"] for r in rs) / n))
                    for c in ("vertical", "ap", "ml", "norm")}
        out[key] = e
    return out


def lab_floor_table(rows: Sequence[dict]) -> str:
    """Markdown: per activity and source, the root residual force RMS (N/kg) vertical / AP / ML /
    3-D of the lab's own model and of gait3d on the same trials and frames."""
    lines = ["| activity | source | trials | frames | own model V / AP / ML / 3-D | gait3d V / AP / ML / 3-D | "
             "3-D own / gait3d |", "|---|---|---|---|---|---|---|"]

    def cell(x):
        return " / ".join(f"{x[c]:.2f}" for c in ("vertical", "ap", "ml", "norm"))
    pooled = pool_floor(rows)
    for (act, src), e in pooled.items():
        if src == "all" and sum(1 for a, _ in pooled if a == act) == 2:
            continue                                  # one source: its row says it all
        name = f"**all {act}**" if src == "all" else src
        lines.append(f"| {act} | {name} | {e['trials']} | {e['frames']} | {cell(e['own'])} | {cell(e['gait3d'])} | "
                     f"{e['own']['norm'] / e['gait3d']['norm']:.2f} |")
    return "\n".join(lines)
