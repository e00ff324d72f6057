"""Ground reaction forces/moments and joint torques of any motion file with a trained model.

    python -m training predict --checkpoint CKPT --motion FILE --mass M [--height H] --out CSV

``FILE``: ``.trc``, ``.c3d``, ``.amc`` (``--skeleton`` .asf, default the subject's ``.asf`` beside
it), ``.bvh`` or an OpenSim coordinates ``.mot``/``.sto``.  The motion is processed like training
data (:func:`symgait.trials.pipeline.process_trial`: retargeting to the checkpoint's model, 6 Hz
low-pass; force plates and labels are ignored), then the network predicts.  The CSV has ``time``
(s), per contact ``<contact>_Fx, _Fy, _Fz`` (N) and ``_Mx, _My, _Mz`` (N·m) — world frame
(Y up), moments about the contact body's origin — then one column per actuated coordinate (joint
torque, N·m); a first comment line states the units.  A plot of the vertical forces is written
beside it (``--plot``, default ``<out>.png``).
"""
from __future__ import annotations

import csv
import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from symgait.errors import SymgaitError
import symgait
from symgait.forces.contacts import foot_point_indices, labels_from_kinematics
from symgait.trials.pipeline import process_trial
from symgait.trials.sequence import Sequence
from .data import resample, without_labels
from .metrics import STANCE_N, centre_of_pressure

__all__ = ["process_motion", "predict_motion", "write_prediction_csv", "read_prediction_csv"]

MOTION_SUFFIXES = (".trc", ".c3d", ".amc", ".bvh", ".mot", ".sto")


class PredictError(SymgaitError, ValueError):
    """Bad input to ``predict`` (the message says what to fix)."""


@dataclass
class MeasuredForces:
    """The plates of a predicted trial: ``sequence`` with the measured wrenches (the frames the
    prediction has) and ``covered`` (T,) bool, the frames where the plates measure every loaded foot."""
    sequence: Sequence
    covered: np.ndarray


def process_motion(model, motion, *, mass: float, height: float, skeleton=None, rate=None,
                   cutoff: float = 6.0, kern=None, osim=None, forces=None, external_loads=None,
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
                   external_loads=None):
    """``(sequence, prediction dict(w, JT), notes, MeasuredForces or None)``: the plates are those of
    a C3D file or of ``forces``/``external_loads`` (None where the trial has none)."""
    model = bundle.cfg.model
    seq, notes, plates = process_motion(model, motion, mass=mass, height=height, skeleton=skeleton, rate=rate,
                                        osim=osim, forces=forces, external_loads=external_loads, measured=True)
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


def write_prediction_csv(path, time, w, JT, contacts, actuated, *, origins=None, meta: str = "") -> Path:
    """CSV: a ``#`` comment line with units and conventions, the header, one row per frame. With
    ``origins`` (T, nc, 3), the contact bodies' world origins, each contact's centre of pressure on
    the ground and free moment (:func:`training.metrics.centre_of_pressure`) follow the torques,
    empty (NaN) on frames whose vertical force is at most ``STANCE_N``."""
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
    with open(path, "w", newline="", encoding="utf-8") as f:
        f.write("# units: " + ", ".join(f"{c} [{u}]" for c, u in zip(cols, units)) +
                "; forces/moments in the world frame (Y up, X forward), moments about each contact "
                "body's origin; joint torques per actuated coordinate" +
                ("; centres of pressure on the ground (world, m) and free moments about the vertical "
                 f"through them, NaN where the vertical force is at most {STANCE_N:g} N"
                 if extra is not None else "") + (f"; {meta}" if meta else "") + "\n")
        wr = csv.writer(f)
        wr.writerow(cols)
        for i in range(T):
            wr.writerow([f"{time[i]:.6f}"] + [f"{v:.6g}" for v in w[i].reshape(-1)] +
                        [f"{v:.6g}" for v in JT[i]] +
                        ([f"{v:.6g}" for v in extra[i]] if extra is not None else []))
    return path


def read_prediction_csv(path):
    """(columns, units (dict column → unit), data (T, ncols))."""
    with open(path, encoding="utf-8") as f:
        first = f.readline()
        cols = next(csv.reader([f.readline()]))
        data = np.loadtxt(f, delimiter=",", ndmin=2)
    units = {}
    for part in first[len("# units: "):].split(";")[0].split(", "):
        if "[" in part:
            name, u = part.rsplit(" [", 1)
            units[name] = u.rstrip("]")
    return cols, units, data


