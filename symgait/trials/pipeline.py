"""One trial from files to a consistent sequence: retarget (or map OpenSim coordinates), hold a
trunk no marker sees (:mod:`symgait.trials.trunk`), filter, contact wrenches (measured plates or
derived), labels, inverse dynamics.

:func:`process_trial` is what ``symgait id`` and the dataset builder run.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Optional

import numpy as np

from ..forces.contacts import (GroundReactions, foot_point_indices, labels_from_force, labels_from_kinematics, reactions_from_c3d, reactions_from_mot)
from ..signals.kinematics import filtered_kinematics
from ..signals.runs import longest_true_run, true_runs
from ..io import read_mot
from .consistency import residual_rms
from .sequence import Sequence
from ..forces.derived import derive_labels
from ..markers.fit import fit_trial_markers
from .coordinates import coordinates_from_mot
from ..markers.sources import load_source
from ..markers.static import markerset_from_static
from .trunk import hold_unseen_trunk

__all__ = ["Trial", "process_trial", "trial_summary", "SUMMARY_FIELDS"]

_STATIC = (".c3d", ".trc")   # a markerset given as a motion file is the subject's static trial

# the machine-readable summary of a processed trial (``symgait id``'s JSON, the dataset report)
SUMMARY_FIELDS = ("markerset", "ik_rms_mm", "ik_worst_marker", "dropped_markers", "frames",
                  "plates_used", "shared_plate_frames", "split_unknown", "residual_force_rms_per_kg",
                  "residual_moment_rms_per_kg")


@dataclass
class Trial:
    """A processed trial.  ``sequence`` (:class:`~symgait.trials.sequence.Sequence`) holds the
    arrays; ``ik`` the :class:`~symgait.markers.ik.IKResult` (None for coordinate files);
    ``reactions`` the measured :class:`~symgait.forces.contacts.GroundReactions` (None without
    plates); ``derived`` the :class:`~symgait.forces.derived.DerivedLabels` (None with plates);
    ``covered`` (T,) bool, with plates: the frames where every foot on the ground (kinematics) is on a
    plate, so that the measured forces are the whole ground reaction (None without plates);
    ``shared_frames``: on a treadmill plate under both feet, the loaded frames with both feet on
    the ground, where the split of the force between the feet is not measured (None elsewhere);
    ``split_unknown`` (T,) bool, those frames of the sequence (None elsewhere): the sequence's
    wrenches there hold the measured total, given whole to the foot nearest its centre of
    pressure — exact for the root residual, not a per-foot label."""
    sequence: object
    ik: object = None
    reactions: Optional[GroundReactions] = None
    derived: object = None
    notes: List[str] = field(default_factory=list)
    plates_used: int = 0
    covered: Optional[np.ndarray] = None
    shared_frames: Optional[int] = None
    split_unknown: Optional[np.ndarray] = None


def _force_sets_in_mot(path) -> int:
    """Force sets (``*force*vx`` columns: ``ground_force_vx``, ``R_ground_force_vx``,
    ``ground_force_r_vx``, ``ground_force_1_vx``) of an OpenSim GRF ``.mot``."""
    import re
    return sum(1 for n in read_mot(path).names if re.search(r"force.*vx$", n))


def trial_summary(kern, trial: Trial) -> dict:
    """:data:`SUMMARY_FIELDS` of a processed trial: marker set and IK fit (``None`` for coordinate
    files), the markers the IK left out as bad (``"name: RMS mm, all frames"`` or ``"name: RMS mm,
    t0-t1 s"``; :mod:`symgait.markers.ik`), frames, the frames of a treadmill plate under both
    feet where both are on the ground (``Trial.shared_frames``; None elsewhere) and, as
    ``split_unknown``, their times (``[[t0, t1], ...]`` s of the sequence's clock, first and last
    frame of each run; None elsewhere), force plates (or force sets) used, and the RMS over
    frames of the norms of the root residual's force and moment per kg
    (:func:`symgait.trials.consistency.residual_rms`)."""
    s = trial.sequence
    ik = trial.ik
    markerset, rms_mm, worst, dropped = None, None, None, []
    if ik is not None:
        rep = getattr(ik, "report", None)
        if rep is not None:
            markerset, rms_mm, worst = rep.markerset, float(rep.ik_rms_mm), rep.ik_worst_marker
            dropped = [f"{d['marker']}: {d['rms_mm']:.0f} mm, " + ("all frames" if d["whole"] else
                       ", ".join(f"{t0:.2f}-{t1:.2f} s" for t0, t1 in d["times"]))
                       for d in rep.dropped]
        else:
            markerset = ik.targets.markerset
            rms_mm = 1000.0 * float(np.nanmean(ik.rms))
            worst = max(ik.target_rms, key=ik.target_rms.get) if ik.target_rms else None
    res = kern.root_residual(s.q, s.qd, s.qdd, s.w, s.p)
    f, m = residual_rms(res, s.mass)
    unknown = None
    if trial.split_unknown is not None:
        unknown = [[round(float(s.time[a]), 6), round(float(s.time[b - 1]), 6)]
                   for a, b in true_runs(trial.split_unknown)]
    return dict(markerset=markerset, ik_rms_mm=None if rms_mm is None else round(rms_mm, 2),
                ik_worst_marker=worst, dropped_markers=dropped, frames=len(s),
                shared_plate_frames=trial.shared_frames, split_unknown=unknown,
                plates_used=int(trial.plates_used),
                residual_force_rms_per_kg=round(f, 4), residual_moment_rms_per_kg=round(m, 4))


def _c3d_with_plates(source):
    c = source.c3d
    return c is not None and len(getattr(c, "plates", ())) > 0


def process_trial(model, kern, motion, *, height: float, mass: float, forces=None,
                  external_loads=None, markerset=None, cutoff: float = 6.0,
                  filter_method: str = "butter", use_plates: bool = True,
                  threshold: float = 20.0, skeleton=None, scale_segments: str = "auto",
                  time_range=None, crop: str = "auto") -> Trial:
    """Process one trial (see the module docstring).

    ``motion``: ``.trc``/``.c3d``/``.amc``/``.bvh`` (retargeted) or an OpenSim coordinates
    ``.mot`` (mapped directly).  ``forces``: an OpenSim GRF ``.mot`` (with ``external_loads``
    ``.xml`` or one found beside it; else plates are assigned to feet by proximity); C3D plates
    are used when the motion is a C3D with plates (``use_plates``).  Without forces the labels
    are derived (:mod:`symgait.forces.derived`).  ``cutoff`` Hz low-pass of the coordinates
    (``filter_method`` "butter" or "opensim").  ``markerset``: as for
    :func:`~symgait.markers.fit.fit_trial_markers`, or the subject's static standing trial (a
    ``.c3d``/``.trc``: :func:`~symgait.markers.static.markerset_from_static`).  ``time_range``
    (s): only these frames of the motion are fitted and processed.  With measured forces, frames where a foot is on
    the ground (kinematic labels) but on no plate have incomplete reactions: ``crop="auto"``
    keeps the longest run without such frames when they are more than 5 % of the trial
    (``"plates"``: always, ``"none"``: never; cropping happens after filtering).
    """

    motion = Path(motion)
    notes: List[str] = []
    ik = None
    src = None
    if motion.suffix.lower() in (".mot", ".sto"):
        q_raw, t, missing = coordinates_from_mot(model, motion, time_range=time_range)
        p = model.parameters(height=height, mass=mass)
        if missing:
            notes.append(f"coordinates not in {motion.name} (held at 0): {', '.join(missing)}")
        rate = (t.size - 1) / (t[-1] - t[0])
    else:
        src = load_source(motion, skeleton=skeleton)
        notes += src.notes
        if time_range is not None:
            sel = (src.time >= time_range[0]) & (src.time <= time_range[1])
            src = dataclasses.replace(src, positions=src.positions[sel], time=src.time[sel])
            notes.append(f"frames {time_range[0]:g}-{time_range[1]:g} s of the trial used")
        if isinstance(markerset, (str, Path)) and Path(markerset).suffix.lower() in _STATIC:
            markerset = markerset_from_static(model, kern, markerset, height=height, mass=mass)
            notes += markerset.notes
        ik, _ = fit_trial_markers(model, src, height=height, mass=mass, markerset=markerset,
                                  kern=kern, scale_segments=scale_segments)
        p = ik.p
        notes += ik.notes
        notes.append(ik.summary())
        q_raw, t, rate = ik.q, ik.time, ik.rate
        q_raw, trunk_notes = hold_unseen_trunk(model, kern, q_raw, p, rate, ik.targets.A,
                                               ik.targets.positions)
        notes += trunk_notes
    q, qd, qdd = filtered_kinematics(q_raw, t=t, cutoff=cutoff, method=filter_method)
    P = kern.points(q, p)
    reactions = None
    shared = None
    split_unknown = None
    if forces is not None:
        reactions = reactions_from_mot(model, forces, xml=external_loads, foot_points=P, t=t,
                                       threshold=threshold,
                                       offset=None if ik is None else ik.offset)
        reactions = reactions.resampled(t, antialias=False)
        notes.append(f"forces: {reactions.source}")
    elif use_plates and src is not None and _c3d_with_plates(src):
        # C3D times start at 0 in the source; plates share the file's clock.  The source's
        # lab origin maps to -ik.offset in the source frame used by the fit.
        c3d = src.c3d
        t_file = t + c3d.time[0]
        origin = -src.R.T @ ik.offset
        lab_k, _ = labels_from_kinematics(P, rate, foot_point_indices(model))
        reactions = reactions_from_c3d(model, c3d, src.R, P, t_file, origin=origin,
                                       threshold=threshold, contact_hint=lab_k,
                                       per_run=not src.treadmill)
        reactions = GroundReactions(time=t.copy(), contacts=reactions.contacts,
                                    force=reactions.force, moment=reactions.moment,
                                    source=reactions.source, shared=reactions.shared)
        notes.append(f"forces: {len(c3d.plates)} C3D force plates, assigned to feet by proximity"
                     + (" per stance (treadmill: a plate under both feet; each loaded run between "
                        "double supports goes to one foot)" if src.treadmill else ""))
        if src.treadmill:
            loaded = reactions.force[..., 1].sum(1) > threshold
            split_unknown = np.asarray(reactions.shared, bool) & loaded
            shared = int(split_unknown.sum())
            notes.append(f"{shared} of {int(loaded.sum())} loaded frames have both feet on the ground "
                         "(kinematics): there the split between the feet is unknown (the plate's "
                         "force goes whole to the foot nearest its centre of pressure, "
                         "Trial.split_unknown)")
    derived = None
    covered = None
    plates_used = 0
    shared_frames = shared
    if forces is not None:
        plates_used = _force_sets_in_mot(forces)
    elif reactions is not None:
        plates_used = len(src.c3d.plates)
    if reactions is not None:
        origins = kern.contact_points(q, p)
        w = reactions.wrenches(origins)
        labels = labels_from_force(reactions.force, threshold)
        tau = kern.inverse_dynamics(q, qd, qdd, w, p)
        kind = "measured"
        # frames off the plates: a foot on the ground but not on a plate makes the measured
        # forces incomplete there; say so
        lab_k, _ = labels_from_kinematics(P, rate, foot_point_indices(model))
        # tolerate detection jitter of 2 frames around plate contact edges
        lab_f = labels.copy()
        for sh in (1, 2):
            lab_f[sh:] |= labels[:-sh]
            lab_f[:-sh] |= labels[sh:]
        uncovered = (lab_k & ~lab_f).any(1)
        covered = ~uncovered
        if uncovered.any():
            notes.append(f"{int(uncovered.sum())} of {t.size} frames have a foot on the ground "
                         "(kinematics) but no plate force")
            if crop == "plates" or (crop == "auto" and uncovered.mean() > 0.05):
                keep = longest_true_run(~uncovered)
                notes.append(f"cropped to {t[keep.start]:.3f}-{t[keep.stop - 1]:.3f} s, where every "
                             "foot on the ground is on a plate (crop='none' keeps the trial)")
                t, q, qd, qdd, w, labels, tau, covered = (x[keep] for x in (t, q, qd, qdd, w, labels, tau,
                                                                            covered))
                if split_unknown is not None:
                    split_unknown = split_unknown[keep]
                    shared_frames = int(split_unknown.sum())
            else:
                notes.append("their residuals include the missing reaction")
    else:
        derived = derive_labels(model, kern, q, qd, qdd, p, rate)
        w, tau, labels, kind = derived.w, derived.tau, derived.labels, "derived"
        notes += derived.notes
    seq = Sequence(name=motion.stem, model=model.name, rate=float(rate), time=np.asarray(t, float),
                   q=q, qd=qd, qdd=qdd, w=w, tau=tau, contact=np.asarray(labels, bool),
                   p=np.asarray(p, float), mass=float(mass), height=float(height),
                   source=str(motion), label_kind=kind, coordinates=tuple(model.coordinates),
                   contacts=tuple(model.contacts), actuated=tuple(model.actuated))
    return Trial(sequence=seq, ik=ik, reactions=reactions, derived=derived, notes=notes,
                 plates_used=plates_used, covered=covered, shared_frames=shared_frames,
                 split_unknown=split_unknown)
