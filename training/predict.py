"""Ground reaction forces/moments and joint torques of any motion file with a trained model.

    python -m training predict --checkpoint CKPT --motion FILE --mass M [--height H] --out CSV

``FILE``: ``.trc``, ``.c3d``, ``.amc`` (``--skeleton`` .asf, default the subject's ``.asf`` beside
it), ``.bvh`` or an OpenSim coordinates ``.mot``/``.sto``.  The motion is processed like training
data (:func:`symgait.trials.pipeline.process_trial`: retargeting to the checkpoint's model, 6 Hz
low-pass; force plates and labels are ignored), then the network predicts.

Outputs, by the suffix of ``--out``:

* CSV (any suffix but ``.mot``/``.sto``; :func:`write_prediction_csv`): one plain header line
  (readable by ``pandas.read_csv`` and ``numpy.genfromtxt(names=True)``), then one row per frame:
  ``time`` (s), per contact ``<contact>_Fx, _Fy, _Fz`` (N) and ``_Mx, _My, _Mz`` (N·m) — world
  frame (Y up), moments about the contact body's origin — then one column per actuated
  coordinate (joint torque, N·m), then per contact the centre of pressure ``_COPx, _COPy, _COPz``
  (m) and the free moment ``_Tfree`` (N·m), empty out of stance.  The units of every column, the
  conventions and the trial are in ``<stem>.json`` beside it; :func:`read_prediction_csv` reads
  both.
* ``.mot``/``.sto`` (:func:`write_prediction_opensim`): the forces as an OpenSim GRF ``.mot``
  (per contact ``R_ground``/``L_ground``: ``_force_vx, _vy, _vz`` N, ``_force_px, _py, _pz`` the
  centre of pressure on the ground, m, ``_torque_x, _y, _z`` the free moment about the vertical
  through it, N·m; ground frame), ``<stem>.xml`` the ExternalLoads that applies each to its
  contact body, and ``<stem>_id.sto`` the joint torques in the layout of OpenSim's
  InverseDynamicsTool (``<coordinate>_moment``, N·m).

A plot of the vertical forces is written beside it (``--plot``, default ``<out>.png``).
"""
from __future__ import annotations

import csv
import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from symgait.atomic import atomic_write, write_text
from symgait.constants import KINEMATICS_CUTOFF_HZ
from symgait.errors import SymgaitError
import symgait
from symgait.forces.contacts import foot_point_indices, labels_from_kinematics
from symgait.io.opensim_write import GrfLoad, write_external_loads, write_grf_mot, write_table
from symgait.model.coordinates import rotational_coordinates
from symgait.trials.pipeline import process_trial
from symgait.trials.sequence import Sequence
from .data import resample, without_labels
from .metrics import GROUND, STANCE_N, centre_of_pressure

__all__ = ["process_motion", "predict_motion", "write_prediction_csv", "read_prediction_csv",
           "grf_for_opensim", "write_prediction_opensim", "write_prediction", "OPENSIM_SUFFIXES"]

MOTION_SUFFIXES = (".trc", ".c3d", ".amc", ".bvh", ".mot", ".sto")
OPENSIM_SUFFIXES = (".mot", ".sto")


class PredictError(SymgaitError, ValueError):
    """Bad input to ``predict`` (the message says what to fix)."""


@dataclass
class MeasuredForces:
    """The plates of a predicted trial: ``sequence`` with the measured wrenches (the frames the
    prediction has) and ``covered`` (T,) bool, the frames where the plates measure every loaded foot."""
    sequence: Sequence
    covered: np.ndarray


def process_motion(model, motion, *, mass: float, height: float, skeleton=None, rate=None,
                   cutoff: float = KINEMATICS_CUTOFF_HZ["walking"], kern=None, osim=None, forces=None, external_loads=None,
                   measured: bool = False):
    """A :class:`~symgait.trials.sequence.Sequence` of ``motion`` for ``model`` (labels unused:
    ``label_kind="none"``); ``osim``: an OpenSim model whose MarkerSet maps the markers (default: the
    built-in set matching the labels).  With ``measured``, returns ``(sequence, notes,
    MeasuredForces or None)``: the plates of a C3D file, or of ``forces`` (an OpenSim GRF ``.mot``, with
    ``external_loads``), read on the same frames, for scoring the prediction."""

    motion = Path(motion)
    if not motion.exists():
        raise PredictError(f"motion file {motion} not found")
    if motion.suffix.lower() not in MOTION_SUFFIXES:
        raise PredictError(f"{motion.name}: unsupported motion format {motion.suffix!r} "
                           f"(use one of {', '.join(MOTION_SUFFIXES)})")
    if mass is None or not mass > 0:
        raise PredictError("--mass (kg) is required and must be positive: the subject's body mass "
                           "scales the model and the predicted forces")
    if height is None or not height > 0:
        raise PredictError("--height (m) must be positive")
    if osim is not None and not Path(osim).exists():
        raise PredictError(f"OpenSim model {osim} not found")
    if skeleton is not None and not Path(skeleton).exists():
        raise PredictError(f"skeleton file {skeleton} not found")
    if motion.suffix.lower() == ".amc" and skeleton is None:
        asfs = sorted(motion.parent.glob("*.asf"))
        stem = motion.stem.split("_")[0]
        pick = [a for a in asfs if a.stem == stem] or asfs
        if not pick:
            raise PredictError(f"{motion.name}: no .asf skeleton beside it; pass --skeleton FILE.asf")
        skeleton = pick[0]
    if isinstance(model, str):
        model = symgait.load_model(model)
    kern = kern or symgait.kernels(model)
    if forces is not None and not Path(forces).exists():
        raise PredictError(f"force file {forces} not found")
    if external_loads is not None and not Path(external_loads).exists():
        raise PredictError(f"external loads file {external_loads} not found")
    tr = process_trial(model, kern, motion, height=height, mass=mass, skeleton=skeleton,
                       use_plates=measured, forces=forces if measured else None,
                       external_loads=external_loads if measured else None, cutoff=cutoff, markerset=osim,
                       crop="none")
    plates = None
    seq = tr.sequence
    if measured and seq.label_kind == "measured":
        plates = MeasuredForces(seq, np.asarray(tr.covered, bool))
        # the network sees the motion alone: contact labels from the kinematics, as without plates
        kin = labels_from_kinematics(kern.points(seq.q, seq.p), seq.rate, foot_point_indices(model))[0]
        seq = dataclasses.replace(seq, contact=np.asarray(kin, bool))
    seq = without_labels(seq)
    if rate is not None and abs(seq.rate - rate) > 1e-6 * rate:
        seq = resample(seq, rate, kern=kern, model=model)
        if plates is not None:
            cov = np.interp(seq.time, plates.sequence.time, plates.covered.astype(float)) > 0.999
            plates = MeasuredForces(resample(plates.sequence, rate, kern=kern, model=model), cov)
    return (seq, tr.notes, plates) if measured else (seq, tr.notes)


def predict_motion(bundle, motion, *, mass, height, skeleton=None, rate=None, osim=None, forces=None,
                   external_loads=None, cutoff: float = KINEMATICS_CUTOFF_HZ["walking"]):
    """``(sequence, prediction dict(w, JT), notes, MeasuredForces or None)``: the plates are those of
    a C3D file or of ``forces``/``external_loads`` (None where the trial has none)."""
    model = bundle.cfg.model
    seq, notes, plates = process_motion(model, motion, mass=mass, height=height, skeleton=skeleton, rate=rate,
                                        osim=osim, forces=forces, external_loads=external_loads, measured=True,
                                        cutoff=cutoff)
    p = bundle.predict(seq)
    return seq, {k: np.asarray(v, float) for k, v in p.items() if k in ("w", "JT")}, notes, plates


def csv_header(contacts, actuated, cop: bool = False):
    cols = ["time"]
    for c in contacts:
        cols += [f"{c}_F{a}" for a in "xyz"] + [f"{c}_M{a}" for a in "xyz"]
    cols += list(actuated)
    units = ["s"] + ["N", "N", "N", "N·m", "N·m", "N·m"] * len(contacts) + ["N·m"] * len(actuated)
    if cop:
        for c in contacts:
            cols += [f"{c}_COP{a}" for a in "xyz"] + [f"{c}_Tfree"]
            units += ["m", "m", "m", "N·m"]
    return cols, units


def _units_path(path) -> Path:
    return Path(path).with_suffix(".json")


def write_prediction_csv(path, time, w, JT, contacts, actuated, *, origins=None, meta: str = "") -> Path:
    """CSV: one header line, one row per frame (module docstring); the units of each column and the
    conventions in ``<stem>.json`` beside it.  With ``origins`` (T, nc, 3), the contact bodies'
    world origins, each contact's centre of pressure on the ground and free moment
    (:func:`training.metrics.centre_of_pressure`) follow the torques, empty (NaN) on frames whose
    vertical force is at most ``STANCE_N``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    w = np.asarray(w, float)
    JT = np.asarray(JT, float)
    T = min(len(time), w.shape[0], JT.shape[0])
    cols, units = csv_header(contacts, actuated, cop=origins is not None)
    extra = None
    if origins is not None:
        cop, free = centre_of_pressure(w[:T], np.asarray(origins, float)[:T])
        on = (w[:T, :, 1] > STANCE_N)[..., None]
        extra = np.where(on, np.concatenate([cop, free[..., None]], -1), np.nan).reshape(T, -1)
    with atomic_write(path, "w", newline="") as f:
        wr = csv.writer(f)
        wr.writerow(cols)
        for i in range(T):
            wr.writerow([f"{time[i]:.6f}"] + [f"{v:.6g}" for v in w[i].reshape(-1)] +
                        [f"{v:.6g}" for v in JT[i]] +
                        ([f"{v:.6g}" for v in extra[i]] if extra is not None else []))
    conventions = ("forces and moments in the world frame (Y up, X forward, Z right), moments about "
                   "each contact body's origin; joint torques per actuated coordinate")
    if extra is not None:
        conventions += ("; centres of pressure on the ground (world, m) and free moments about the "
                        f"vertical through them, empty where the vertical force is at most {STANCE_N:g} N")
    write_text(_units_path(path), json.dumps(dict(file=path.name, units=dict(zip(cols, units)),
                                                  conventions=conventions, trial=meta),
                                             indent=1, ensure_ascii=False) + "\n")
    return path


def read_prediction_csv(path):
    """(columns, units (dict column → unit, from the ``.json`` beside the CSV; empty without it),
    data (T, ncols), NaN where empty)."""
    path = Path(path)
    with open(path, encoding="utf-8") as f:
        cols = next(csv.reader([f.readline()]))
        data = np.genfromtxt(f, delimiter=",", ndmin=2)
    meta = _units_path(path)
    units = json.loads(meta.read_text(encoding="utf-8")).get("units", {}) if meta.exists() else {}
    return cols, units, data.reshape(-1, len(cols))


def _prefix(contact: str) -> str:
    """GRF column prefix of a contact: ``R_ground``/``L_ground`` for ``*_r``/``*_l`` (Hamner &
    Delp 2013's files), else ``<contact>_ground``."""
    side = {"_r": "R", "_l": "L"}.get(contact[-2:])
    return f"{side}_ground" if side else f"{contact}_ground"


def grf_for_opensim(w, origins, *, threshold: float = STANCE_N):
    """Force (T, nc, 3) N, point (T, nc, 3) m and torque (T, nc, 3) N·m per contact, as an OpenSim
    GRF ``.mot`` holds them, from wrenches ``w`` (T, nc, 6) about the contact bodies' ``origins``.

    In stance (vertical force above ``threshold``) the point is the centre of pressure on the
    ground plane and the torque the free moment about the vertical through it ``(0, T, 0)``:
    applied at the point, force and torque give back ``w`` exactly.  Out of stance the centre
    of pressure is undefined and OpenSim accepts no NaN, so the force and torque are written as
    zero (the predicted force there, at most ``threshold``, is dropped) and the point is held at
    the last centre of pressure (before the first stance: the first one; a contact never in
    stance: its origin projected on the ground)."""
    w = np.asarray(w, float)
    o = np.asarray(origins, float)
    cop, free = centre_of_pressure(w, o)
    on = w[..., 1] > threshold
    F = np.where(on[..., None], w[..., :3], 0.0)
    Tq = np.zeros_like(F)
    Tq[..., 1] = np.where(on, free, 0.0)
    P = np.empty_like(F)
    for c in range(w.shape[1]):
        idx = np.flatnonzero(on[:, c])
        if idx.size == 0:
            P[:, c] = o[:, c] * [1.0, 0.0, 1.0] + [0.0, GROUND, 0.0]
            continue
        last = np.maximum.accumulate(np.where(on[:, c], np.arange(len(w)), -1))
        P[:, c] = cop[np.where(last >= 0, last, idx[0]), c]
    return F, P, Tq


def write_prediction_opensim(path, time, w, JT, contacts, bodies, actuated, rotational, origins,
                             *, title: str = "") -> list:
    """OpenSim files of a prediction (module docstring): the GRF ``.mot`` at ``path``, the
    ExternalLoads ``<stem>.xml`` applying contact ``k`` to ``bodies[k]``, and the joint torques
    ``<stem>_id.sto`` (``<coordinate>_moment`` N·m; ``_force`` N for a translational one).
    Returns the three paths."""
    path = Path(path)
    T = min(len(time), np.shape(w)[0], np.shape(JT)[0])
    t = np.asarray(time, float)[:T]
    F, P, Tq = grf_for_opensim(np.asarray(w, float)[:T], np.asarray(origins, float)[:T])
    loads = [GrfLoad(name=c, body=b, prefix=_prefix(c), force=F[:, k], point=P[:, k], torque=Tq[:, k])
             for k, (c, b) in enumerate(zip(contacts, bodies))]
    mot = write_grf_mot(path, t, loads, title=title or path.stem)
    xml = write_external_loads(path.with_suffix(".xml"), loads, mot.name)
    rot = set(rotational)
    sto = write_table(path.with_name(path.stem + "_id.sto"), t,
                      [f"{c}_moment" if c in rot else f"{c}_force" for c in actuated],
                      np.asarray(JT, float)[:T], title="Inverse Dynamics Generalized Forces")
    return [mot, xml, sto]


def write_prediction(path, bundle, seq, pred, origins, *, meta: str = "") -> list:
    """The prediction's files for ``--out path``: OpenSim's for ``.mot``/``.sto``, else the CSV
    and its ``.json``; returns the paths written."""
    path = Path(path)
    if path.suffix.lower() in OPENSIM_SUFFIXES:
        model = bundle.model
        body = {c.name: c.body for c in model.spec.contacts}
        return write_prediction_opensim(path, seq.time, pred["w"], pred["JT"], seq.contacts,
                                        [body[c] for c in seq.contacts], seq.actuated,
                                        rotational_coordinates(model), origins)
    out = write_prediction_csv(path, seq.time, pred["w"], pred["JT"], seq.contacts, seq.actuated,
                               origins=origins, meta=meta)
    return [out, _units_path(out)]
