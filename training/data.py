"""Training data for ``training``: the real force-plate trials, motion-only CMU walking, label
reduction and noise.

Real data (``../shared/data`` next to the repository, ``$SYMGAIT_DATA`` overrides; never part of
the repository):

============================  ================================  ==========  ================
trial (name)                  files                             subject     labels
============================  ================================  ==========  ================
``subject01_walk1``           gait2354 ``subject01_walk1.trc``  72.6 kg,    measured (2 plates,
                              + ``subject01_walk1_grf.mot``     1.803 m     treadmill)
``subject02_running``         hamner ``subject02_running.trc``  65.9 kg,    measured (2 plates,
                              + ``subject02_running_grf.mot``   1.83 m      treadmill running)
``Walk1``                     c3d_org ``Walk1.c3d`` (plates)    88 kg*,     measured, cropped to
                                                                1.75 m**    the plates — **test**
``gait-raw``                  c3d_org ``gait-raw.c3d``          62 kg*,     measured, cropped
                                                                1.75 m**    — **test**
``08_01`` … ``08_11``         cmu/subject08 AMC (+ ``08.asf``)  65 kg,      none (motion only)
                                                                1.65 m**
============================  ================================  ==========  ================

Masses and heights of the OpenSim subjects are those of their ``Setup_Scale.xml``.  \\* The
c3d.org files store no body mass: it is the mean vertical plate force over the plate-covered
window / g (docs/validation.md, the values the data tests use).  \\** assumed (no height in the
files; CMU has neither mass nor height).

Not loaded, on purpose: ``gait10dof_subject01_walk`` is the *same* trial as ``subject01_walk1``
(same markers and plates; loading it would leak the test trial into training);
``gait-pig.c3d`` is ``gait-raw.c3d`` after Plug-in-Gait processing (same trial);
``Eb015pr.c3d`` carries only technical marker clusters (``RFT1``…, ``PV1``…) without anatomical
landmarks, which no built-in marker set maps (``process_trial`` refuses it).

Held-out test trials (``test=``, default ``("Walk1", "gait-raw")``): the two overground c3d.org
walking trials (1.0 s and 0.8 s on the plates, one stance per foot each; two subjects and labs
that appear nowhere in training).  Training keeps the longest labelled walking trial
(``subject01_walk1``, 2.5 s, both feet on plates throughout) and the running trial; holding out
``subject01_walk1`` instead would leave < 2 s of labelled walking for training.

``rate=``: resample every sequence to one frame rate (the trials come at 50, 60 and 120 Hz and the
networks see windows of frames): coordinates, velocities, accelerations and wrenches by cubic
interpolation, contact labels nearest, generalized forces recomputed by inverse dynamics.

Processed sequences are cached by :class:`symgait.datasets.cache.SequenceCache` (same key as
:func:`symgait.datasets.cache.load_sequences`), with the processing notes beside them
(``<key>.notes.json``), so a second :func:`load_real` only reads ``.npz`` files.
"""
from __future__ import annotations

import fnmatch

import dataclasses
import json
import time as _time
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence as Seq

import numpy as np

from symgait.atomic import write_json
from symgait.trials.sequence import Sequence
from symgait.datasets.cache import SequenceCache
from symgait.paths import default_data_dir

from .config import KINEMATICS
from symgait.trials.pipeline import process_trial
import symgait
from symgait.datasets.build import INDEX, build
from symgait.user_cache import cache_dir
from symgait.datasets.discover import activity_class
from symgait.trials.augment import angle_noise, label_noise
from symgait.signals.kinematics import filtered_kinematics
from symgait.signals.filters import derivatives
from symgait.datasets.synthetic import synthetic_gait
from .trainer import init_distributed
from symgait.constants import STANDARD_GRAVITY as G

__all__ = ["default_data_dir", "real_trials", "load_real", "load_dataset", "without_subjects", "subject_split", "without_labels", "reduce_labels",
           "split_sequence", "resample", "with_angle_noise", "with_contact_label_noise", "labelled",
           "synthetic_set", "dataset_dir_for", "dataset_sequences", "dataset_refusals", "split_role",
           "changed_motion", "split_unknown_masked",
           "DEFAULT_TEST", "G"]

REAL_RATE = 60.0          # frame rate real trials are resampled to for training and evaluation
DEFAULT_TEST = ("Walk1", "gait-raw")

_OS = "opensim/"
_TRIALS = [
    dict(name="subject01_walk1", kind="force",
         motion=_OS + "gait2354_subject01_walk1/subject01_walk1.trc",
         forces=_OS + "gait2354_subject01_walk1/subject01_walk1_grf.mot",
         external_loads=_OS + "gait2354_subject01_walk1/subject01_walk1_grf.xml",
         mass=72.6, height=1.803, activity="walking (treadmill)",
         subject="OpenSim gait2354 subject01; mass/height from subject01_Setup_Scale.xml"),
    dict(name="subject02_running", kind="force",
         motion=_OS + "hamner_subject02_running/subject02_running.trc",
         forces=_OS + "hamner_subject02_running/subject02_running_grf.mot",
         external_loads=_OS + "hamner_subject02_running/External_Loads.xml",
         mass=65.9, height=1.83, activity="running (treadmill)",
         subject="Hamner subject02; mass/height from Setup_Scale.xml"),
    dict(name="Walk1", kind="force", motion="c3d_org/Walk1.c3d", mass=88.0, height=1.75,
         activity="walking (overground)",
         subject="c3d.org; mass from plate force (docs/validation.md), height assumed"),
    dict(name="gait-raw", kind="force", motion="c3d_org/gait-raw.c3d", mass=62.0, height=1.75,
         activity="walking (overground)",
         subject="c3d.org Vicon 370; mass from plate force (docs/validation.md), height assumed"),
] + [dict(name=f"08_{i:02d}", kind="motion", motion=f"cmu/subject08/08_{i:02d}.amc", mass=65.0,
          height=1.65, activity="walking", subject="CMU subject 08; mass/height assumed (not in the data)")
     for i in range(1, 12)]

_PROCESS_KEYS = ("forces", "external_loads", "height", "mass", "skeleton", "time_range", "markerset")


def real_trials(data_dir=None) -> List[dict]:
    """The trial table (see the module docstring) with absolute paths under ``data_dir``."""
    d = Path(data_dir) if data_dir is not None else default_data_dir()
    out = []
    for tr in _TRIALS:
        t = dict(tr)
        for k in ("motion", "forces", "external_loads"):
            if k in t:
                t[k] = str(d / t[k])
        out.append(t)
    return out


def without_labels(seq: Sequence, name: Optional[str] = None) -> Sequence:
    """A copy of ``seq`` with ``label_kind="none"``: ``w`` and ``tau`` NaN (contact labels kept:
    they are kinematic information the networks may use)."""
    return dataclasses.replace(seq, name=name or seq.name, w=np.full_like(seq.w, np.nan),
                    tau=np.full_like(seq.tau, np.nan), label_kind="none")


def split_unknown_masked(row: dict, seq: Sequence) -> Sequence:
    """``seq`` with its per-foot labels (``w``, ``tau``) NaN on the frames where a dataset row says
    the split of one plate's force between the feet is unknown (``split_unknown``: ``[[t0, t1],
    ...]`` s, :func:`symgait.trials.pipeline.trial_summary`; both feet on a treadmill's single
    plate); NaN labels are left out of the supervised loss and the metrics.  ``seq`` itself where
    the row has none."""
    spans = row.get("split_unknown") or []
    if not spans or seq.label_kind == "none":
        return seq
    t = np.asarray(seq.time, float)
    half = 0.5 / float(seq.rate)
    off = np.zeros(t.size, bool)
    for t0, t1 in spans:
        off |= (t >= t0 - half) & (t <= t1 + half)
    if not off.any():
        return seq
    w, tau = np.array(seq.w, float), np.array(seq.tau, float)
    w[off], tau[off] = np.nan, np.nan
    return dataclasses.replace(seq, w=w, tau=tau)


def labelled(seqs: Seq[Sequence]) -> List[Sequence]:
    return [s for s in seqs if s.label_kind != "none"]


def _process_cached(model, kern, trial: dict, cache: SequenceCache, options: dict):
    """(sequence, notes, cached?) for one trial; same cache key as ``load_sequences``."""
    args = dict(options)
    args["motion"] = trial["motion"]
    for k in _PROCESS_KEYS:
        if trial.get(k) is not None:
            args[k] = trial[k]
    key = SequenceCache.key(model=model.name, model_sha=model.source_hash, **args)
    notes_path = cache.path(key).with_name(key + ".notes.json")

    def cached():
        seq = cache.load(key)           # None if absent or damaged
        if seq is None:
            return None
        try:
            return seq, json.loads(notes_path.read_text()), True
        except (OSError, ValueError):
            return seq, [], True
    hit = cached()
    if hit is not None:
        return hit
    with cache.lock(key):               # one process processes a trial; the others wait and read it
        hit = cached()
        if hit is not None:
            return hit
        motion = args.pop("motion")
        tr = process_trial(model, kern, motion, **args)
        write_json(notes_path, list(tr.notes))   # first: the sequence file marks a complete entry
        tr.sequence.save(cache.path(key))
    return tr.sequence, list(tr.notes), False


def load_real(data_dir=None, model="gait3d", *, test: Seq[str] = DEFAULT_TEST,
              include_motion_only: bool = False, motion_only: bool = True,
              cache: Optional[SequenceCache] = None, trials: Optional[Seq[str]] = None,
              cutoff: float = 6.0, rate: Optional[float] = None, log: Callable = print,
              kern=None) -> Dict[str, object]:
    """The real trials as sequences of ``model``.

    Returns ``dict(train=[...], test=[...], motion_only=[...], info=[...], skipped=[...])``:
    ``test`` = the labelled trials named in ``test`` (default ``subject01_walk1``), ``train`` =
    the other labelled trials (+ the motion-only ones with ``include_motion_only``),
    ``motion_only`` = CMU subject 08 walking (``label_kind="none"``, ``w``/``tau`` NaN; skipped
    with ``motion_only=False``).  ``info``: one dict per loaded trial (name, role, frames, rate,
    duration, label kind, mass, height, notes).  ``trials``: restrict to these names.  A trial
    whose files are missing or whose processing fails is skipped, with the reason logged and in
    ``skipped``.  A folder built by ``python -m training dataset`` (it holds ``index.json``) is
    read by :func:`load_dataset` instead (split by subject).
    """
    d = Path(data_dir) if data_dir is not None else default_data_dir()
    if not d.is_dir():
        raise FileNotFoundError(f"data folder {d} not found (set SYMGAIT_DATA or pass data_dir)")
    if (d / INDEX).exists():        # a folder built by ``python -m training dataset``
        return load_dataset(d, model=model, rate=rate, include_motion_only=include_motion_only,
                            motion_only=motion_only, log=log, kern=kern)
    if isinstance(model, str):
        model = symgait.load_model(model)
    cache = cache if cache is not None else SequenceCache()
    options = dict(cutoff=cutoff)
    out = dict(train=[], test=[], motion_only=[], info=[], skipped=[])
    t_all = _time.perf_counter()
    for tr in real_trials(d):
        if trials is not None and tr["name"] not in trials:
            continue
        if tr["kind"] == "motion" and not motion_only:
            continue
        missing = [tr[k] for k in ("motion", "forces") if tr.get(k) and not Path(tr[k]).exists()]
        if missing:
            reason = f"missing file(s): {', '.join(missing)}"
            log(f"  skip {tr['name']}: {reason}")
            out["skipped"].append(dict(name=tr["name"], reason=reason))
            continue
        t0 = _time.perf_counter()
        try:
            if kern is None:
                kern = symgait.kernels(model)
            seq, notes, cached = _process_cached(model, kern, tr, cache, options)
        except Exception as e:  # noqa: BLE001 — report and go on
            reason = f"{type(e).__name__}: {e}"
            log(f"  skip {tr['name']}: processing failed: {reason}")
            out["skipped"].append(dict(name=tr["name"], reason=reason))
            continue
        seq = dataclasses.replace(seq, name=tr["name"])
        if rate is not None and abs(seq.rate - rate) > 1e-6 * rate:
            seq = resample(seq, rate, kern=kern, model=model)
        if tr["kind"] == "motion":
            seq = without_labels(seq)
            role = "motion_only"
        else:
            if seq.label_kind != "measured":
                notes = notes + [f"expected measured forces, got {seq.label_kind} labels"]
            role = "test" if tr["name"] in test else "train"
        out[role].append(seq)
        dur = float(seq.time[-1] - seq.time[0]) if len(seq) > 1 else 0.0
        info = dict(name=tr["name"], role=role, frames=len(seq), rate=round(float(seq.rate), 3),
                    duration=round(dur, 3), label_kind=seq.label_kind, mass=seq.mass,
                    height=seq.height, activity=tr["activity"], subject=tr["subject"],
                    source=str(Path(tr["motion"]).relative_to(d)), cached=cached,
                    seconds=round(_time.perf_counter() - t0, 2), notes=list(notes))
        out["info"].append(info)
        log(f"  {role:11s} {tr['name']:18s} {len(seq):4d} frames @ {seq.rate:6.1f} Hz "
            f"({dur:5.2f} s) {seq.label_kind:8s} {seq.mass:g} kg {seq.height:g} m"
            + (" [cache]" if cached else f" [{info['seconds']:.1f} s]"))
    if include_motion_only:
        out["train"] = out["train"] + out["motion_only"]
    out["seconds"] = round(_time.perf_counter() - t_all, 2)
    if not out["test"] and trials is None:
        log("  warning: no held-out test trial could be loaded")
    return out


def subject_split(subjects: Seq[str], test_fraction: float = 0.2, seed: int = 0) -> set:
    """The test subjects: a seeded random ``test_fraction`` of the distinct subjects (at least
    one when there are two or more), so that no subject is in both training and test."""
    subs = sorted(set(subjects))
    if len(subs) < 2:
        return set()
    rng = np.random.default_rng(seed)
    n = min(len(subs) - 1, max(1, int(round(test_fraction * len(subs)))))
    return {subs[i] for i in rng.permutation(len(subs))[:n]}


def _index(d: Path) -> dict:
    try:
        return json.loads((d / INDEX).read_text())
    except FileNotFoundError:
        raise FileNotFoundError(f"{d} holds no {INDEX}: build it with `python -m training dataset "
                                f"--data ../shared/data --out {d}`") from None


def dataset_dir_for(data_dir, *, jobs: int = 2, log: Callable = print) -> Path:
    """The built dataset of ``data_dir``: ``data_dir`` itself when it holds ``index.json`` (written
    by ``python -m training dataset``), else the dataset of that raw data folder built (or, when
    nothing changed, reused from its cache in seconds) under the user cache,
    ``$SYMGAIT_CACHE_DIR/datasets/<folder name>-<hash of its path>``."""
    import hashlib
    d = Path(data_dir)
    if (d / INDEX).exists():
        return d
    if not d.is_dir():
        raise FileNotFoundError(f"data folder {d} not found (pass --data DIR: a raw data folder such as "
                                f"../shared/data, or one built by `python -m training dataset`)")
    key = hashlib.sha256(str(d.resolve()).encode()).hexdigest()[:12]
    out = cache_dir() / "datasets" / f"{d.resolve().name}-{key}"
    log(f"  building the dataset of {d} into {out} (cached after the first build)")
    build(d, out, jobs=jobs, log=log)
    return out


def dataset_refusals(out_dir) -> List[dict]:
    """The refused trials of a built dataset: ``[dict(name, reason)]``."""
    return [dict(name=r["name"], reason=r["reason"]) for r in _index(Path(out_dir))["rows"]
            if r["status"] != "usable"]


def dataset_sequences(out_dir, *, model=None, rate: Optional[float] = None, kern=None,
                      motion_only: bool = True, kinematics: str = "measured") -> List[tuple]:
    """Every usable sequence of a dataset built by ``python -m training dataset``:
    ``[(index row, Sequence)]``, resampled to ``rate`` Hz when given; motion-only rows (role
    other than "labelled") come without labels (:func:`without_labels`), or are left out with
    ``motion_only=False``.  ``model`` (a name or model), when given, must be the dataset's.
    ``kinematics="consistent"``: a measured trial's motion changed within the marker error to
    agree with its plates (``*.consistent.npz``, :mod:`symgait.trials.residual_reduction`) where the
    build wrote one, else the measured motion.  Frames where the split of one plate's force between
    the feet is unknown carry NaN labels (:func:`split_unknown_masked`)."""
    if kinematics not in KINEMATICS:
        raise ValueError(f"kinematics must be one of {KINEMATICS}, got {kinematics!r}")
    d = Path(out_dir)
    idx = _index(d)
    name = getattr(model, "name", model)
    if name is not None and name != idx["model"]:
        raise ValueError(f"{d} holds {idx['model']} sequences, not {name}: rebuild it for {name} or "
                         f"train a {idx['model']} config")
    out = []
    for r in idx["rows"]:
        if r["status"] != "usable" or (r.get("role") != "labelled" and not motion_only):
            continue
        f = r.get("file_consistent") if kinematics == "consistent" else None
        seq = dataclasses.replace(Sequence.load(d / (f or r["file"])), subject=r["subject"])
        if rate is not None and abs(seq.rate - rate) > 1e-6 * rate:
            if kern is None:
                kern = symgait.kernels(seq.model)
            seq = resample(seq, rate, kern=kern)
        if r.get("role") != "labelled":
            seq = without_labels(seq)
        out.append((dict(r, dataset=str(d)), split_unknown_masked(r, seq)))
    return out


def changed_motion(row: dict, seq: Sequence, kern=None) -> Sequence:
    """The motion changed within the marker error (``*.consistent.npz``) of a dataset row that
    has one (rows of :func:`dataset_sequences`), at ``seq``'s frame rate; else ``seq``."""
    if not row.get("file_consistent") or "dataset" not in row:
        return seq
    c = dataclasses.replace(Sequence.load(Path(row["dataset"]) / row["file_consistent"]),
                            name=seq.name, subject=seq.subject)   # the same trial of the same person
    if abs(c.rate - seq.rate) > 1e-6 * seq.rate:
        c = resample(c, seq.rate, kern=kern)
    return split_unknown_masked(row, c)


def split_role(row: dict, test: set, val: set) -> Optional[str]:
    """Where a dataset row goes for test subjects ``test`` and validation subjects ``val``:
    "test", "val", "train" (labelled) or "motion_only"; None for the motion of a test or
    validation subject without labels (kept out of training as well)."""
    sub = row["subject"]
    if row.get("role") != "labelled":
        return None if sub in test or sub in val else "motion_only"
    return "test" if sub in test else "val" if sub in val else "train"


def without_subjects(items, patterns: Seq[str], where, *, log: Callable = print) -> list:
    """``items`` (``[(index row, Sequence)]``) less every trial of the subjects ``patterns`` name:
    subject ids, or shell patterns of them (``fukuchi2017:*``). A subject id that the dataset
    ``where`` lacks is an error (a misspelt name must not leave someone in); a pattern that matches
    nobody is noted (a dataset need not hold every source)."""
    known = sorted({r["subject"] for r, _ in items})
    left_out, unmatched = set(), []
    for pat in patterns:
        hit = fnmatch.filter(known, pat)
        left_out.update(hit)
        if not hit:
            if any(c in pat for c in "*?["):
                log(f"  data.exclude_subjects: {pat!r} matches no subject of {where}")
            else:
                unmatched.append(pat)
    if unmatched:
        raise ValueError(f"data.exclude_subjects names subjects {unmatched} that {where} does not hold; its "
                         f"subjects are e.g. {known[:6]}")
    log(f"  left out {len(left_out)} subjects {sorted(left_out)[:8]}{' ...' if len(left_out) > 8 else ''} "
        "(data.exclude_subjects)")
    return [(r, s) for r, s in items if r["subject"] not in left_out]


def load_dataset(out_dir, *, model=None, test_subjects: Optional[Seq[str]] = None,
                 test_fraction: float = 0.2, val_fraction: float = 0.2, seed: int = 0,
                 rate: Optional[float] = None,
                 include_motion_only: bool = False,
                 motion_only: bool = True, log: Callable = print, kern=None,
                 train_kinematics: str = "measured", exclude_subjects: Seq[str] = ()) -> Dict[str, object]:
    """A dataset built by ``python -m training dataset`` (:mod:`symgait.datasets.build`), split by
    subject: ``dict(train, val, test, motion_only, info, skipped, subjects)`` like :func:`load_real`
    (``val``: a ``val_fraction`` of the remaining labelled subjects, for best.pt and early stopping).

    ``test_subjects``: subject ids held out (default :func:`subject_split` of the labelled
    subjects); a subject's every sequence goes to one side only.  ``info`` rows carry the
    index's fields (subject, activity, speed, source, fitted parameters ...).  ``model`` (a name or
    model), when given, must be the dataset's.  ``train_kinematics="consistent"``: the training
    subjects' measured trials come with their motion changed to agree with their plates
    (:func:`dataset_sequences`); validation and test trials keep the measured motion, as a user's
    trial without plates has it.  ``exclude_subjects``: subjects left out altogether (neither train,
    validation nor test; :func:`without_subjects`)."""
    d = Path(out_dir)
    items = dataset_sequences(d, model=model, rate=rate, kern=kern,
                              motion_only=motion_only)
    if exclude_subjects:
        items = without_subjects(items, exclude_subjects, d, log=log)
    if train_kinematics not in KINEMATICS:
        raise ValueError(f"train_kinematics must be one of {KINEMATICS}, got {train_kinematics!r}")
    lab_subjects = [r["subject"] for r, _ in items if r.get("role") == "labelled"]
    test = set(test_subjects) if test_subjects is not None else subject_split(lab_subjects,
                                                                              test_fraction, seed)
    val = subject_split([x for x in lab_subjects if x not in test], val_fraction, seed + 1)
    out = dict(train=[], val=[], test=[], motion_only=[], info=[],
               subjects=dict(test=sorted(test), val=sorted(val)),
               skipped=dataset_refusals(d))
    unchanged = []
    for r, seq in items:
        role = split_role(r, test, val)
        if role is None:
            continue            # never train on a test or validation subject's motion either
        if role == "train" and train_kinematics == "consistent" and r.get("role") == "labelled":
            if r.get("file_consistent"):
                seq = changed_motion(r, seq, kern)
            else:
                unchanged.append(r["name"])
        out[role].append(seq)
        out["info"].append(dict(r, role=role, frames=len(seq), rate=round(float(seq.rate), 3),
                                activity_class=activity_class(r.get("activity", ""))))
    if unchanged:
        log(f"  data.kinematics=consistent: {len(unchanged)} labelled training trials have no changed "
            f"motion in {d} (built with --no-kinematics?), their measured motion is used: "
            + ", ".join(unchanged[:5]) + (" ..." if len(unchanged) > 5 else ""))
    if include_motion_only:
        out["train"] = out["train"] + out["motion_only"]
    out["subjects"]["train"] = sorted({i["subject"] for i in out["info"] if i["role"] not in ("test", "val")})
    log(f"  dataset {d}: {len(out['train'])} training, {len(out['val'])} validation, {len(out['test'])} "
        f"test sequences; validation subjects {sorted(val)}, test subjects {sorted(test)}")
    return out


def resample(seq: Sequence, rate: float, *, kern=None, model=None) -> Sequence:
    """``seq`` at ``rate`` Hz over its time span: ``q, qd, qdd, w`` by cubic interpolation,
    contact labels nearest, ``tau`` recomputed by inverse dynamics (labelled sequences)."""
    from scipy.interpolate import CubicSpline
    t = np.asarray(seq.time, float)
    n = int(np.floor((t[-1] - t[0]) * rate + 1e-9)) + 1
    tn = t[0] + np.arange(n) / rate
    f = {k: CubicSpline(t, getattr(seq, k), axis=0)(tn) for k in ("q", "qd", "qdd")}
    if seq.label_kind != "none":
        w = CubicSpline(t, seq.w.reshape(len(seq), -1), axis=0)(tn).reshape((n,) + seq.w.shape[1:])
        if kern is None:
            kern = symgait.kernels(model if model is not None else seq.model)
        tau = kern.inverse_dynamics(f["q"], f["qd"], f["qdd"], w, seq.p)
    else:
        w = np.full((n,) + seq.w.shape[1:], np.nan)
        tau = np.full((n,) + seq.tau.shape[1:], np.nan)
    idx = np.clip(np.searchsorted(t, tn), 1, len(t) - 1)
    idx = np.where(np.abs(t[idx - 1] - tn) <= np.abs(t[idx] - tn), idx - 1, idx)
    return dataclasses.replace(seq, rate=float(rate), time=tn - tn[0] + t[0], w=w, tau=tau,
                    contact=seq.contact[idx], **f)


# --- label reduction ---------------------------------------------------------------------

def split_sequence(seq: Sequence, chunk_frames: int) -> List[Sequence]:
    """Contiguous chunks of about ``chunk_frames`` frames (equal sizes, ``name#k``)."""
    T = len(seq)
    n = max(1, int(round(T / max(1, int(chunk_frames)))))
    out = []
    for k, idx in enumerate(np.array_split(np.arange(T), n)):
        s = slice(int(idx[0]), int(idx[-1]) + 1)
        out.append(dataclasses.replace(seq, name=f"{seq.name}#{k}", time=seq.time[s], q=seq.q[s],
                            qd=seq.qd[s], qdd=seq.qdd[s], w=seq.w[s], tau=seq.tau[s],
                            contact=seq.contact[s]))
    return out


def reduce_labels(seqs: Seq[Sequence], fraction: float, seed: int = 0, *,
                  chunk_seconds: float = 1.0, min_chunk_frames: int = 0) -> List[Sequence]:
    """Keep labels on ``fraction`` of the labelled frames.

    Labelled sequences are cut into chunks of ``chunk_seconds`` (at least ``min_chunk_frames``
    frames, e.g. the training window); a seeded random subset of the chunks, grown until it holds
    the frame count closest to ``fraction`` of all labelled frames (at least one chunk when
    ``fraction > 0``), keeps its labels; the others become ``label_kind="none"`` (``w``/``tau``
    NaN).  Motion-only sequences pass through.  ``fraction >= 1`` returns the sequences
    unchanged (uncut)."""
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"fraction must be in [0, 1], got {fraction}")
    seqs = list(seqs)
    if fraction >= 1.0:
        return seqs
    chunks, passthrough = [], []
    for s in seqs:
        if s.label_kind == "none":
            passthrough.append(s)
        else:
            n = max(int(round(chunk_seconds * s.rate)), int(min_chunk_frames), 1)
            chunks += split_sequence(s, n)
    total = sum(len(c) for c in chunks)
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(chunks))
    keep, acc = set(), 0
    target = fraction * total
    for i in order:
        if fraction <= 0:
            break
        n = len(chunks[i])
        if keep and abs(acc + n - target) >= abs(acc - target):
            continue          # adding this chunk moves away from the target; try smaller ones
        keep.add(int(i))
        acc += n
    out = [c if i in keep else without_labels(c) for i, c in enumerate(chunks)]
    return out + passthrough


def labelled_fraction(seqs: Seq[Sequence], exclude_motion_only: bool = True) -> float:
    """Fraction of frames with labels (of the frames of sequences that came from labelled ones
    when names carry ``#`` chunk suffixes; all frames otherwise)."""
    lab = sum(len(s) for s in seqs if s.label_kind != "none")
    tot = sum(len(s) for s in seqs if s.label_kind != "none" or not exclude_motion_only or "#" in s.name)
    return lab / tot if tot else 0.0


# --- noise ---------------------------------------------------------------------------------

_MODELS: Dict[str, object] = {}


def _model(model, seq: Sequence):
    if model is None:
        model = seq.model
    if isinstance(model, str):
        if model not in _MODELS:
            _MODELS[model] = symgait.load_model(model)
        return _MODELS[model]
    return model


def with_angle_noise(seqs: Seq[Sequence], sigma_deg: float, seed: int = 0, model=None, *,
                     include_root: bool = False, cutoff: Optional[float] = None) -> List[Sequence]:
    """Gaussian noise of ``sigma_deg`` degrees on the rotational joint coordinates of every frame
    (:func:`symgait.trials.augment.angle_noise`; root rotations only with ``include_root``), as in
    Zell et al. (2020)'s robustness experiment.  Velocities and accelerations are recomputed from the noisy
    coordinates with the pipeline's finite differences (:func:`symgait.io.derivatives`; with
    ``cutoff`` Hz the noisy coordinates are low-passed first, as a user would), so ``q, qd, qdd``
    stay consistent.  Labels (``w``, ``tau``, ``contact``) are unchanged: they are the truth of
    the noise-free motion.  ``sigma_deg=0`` returns the sequences unchanged."""

    seqs = list(seqs)
    if sigma_deg <= 0:
        return seqs
    rng = np.random.default_rng(seed)
    out = []
    for s in seqs:
        m = _model(model, s)
        if tuple(m.coordinates) != tuple(s.coordinates):
            raise ValueError(f"model {m.name} does not match sequence {s.name}'s coordinates")
        q = angle_noise(m, s.q, sigma_deg, rng, include_root=include_root)
        if cutoff:
            q, qd, qdd = filtered_kinematics(q, s.rate, cutoff=cutoff)
        else:
            qd, qdd = derivatives(q, s.rate)
        out.append(dataclasses.replace(s, q=q, qd=qd, qdd=qdd))
    return out


def with_contact_label_noise(seqs: Seq[Sequence], fraction: float = 0.1, flip_prob: float = 0.5,
                             seed: int = 0) -> List[Sequence]:
    """Contact-label noise per Zell et al. (2020)'s protocol (:func:`symgait.trials.augment.label_noise`):
    per sequence, ``fraction`` of the labels (frames × contacts) chosen at random, each flipped
    with probability ``flip_prob``.  Everything else unchanged."""
    rng = np.random.default_rng(seed)
    return [dataclasses.replace(s, contact=label_noise(s.contact, rng, fraction=fraction, flip_prob=flip_prob))
            for s in seqs]


# --- synthetic stand-in ----------------------------------------------------------------------

def synthetic_set(model="planar", *, n_train: int = 3, n_test: int = 1, n_motion: int = 2,
                  seconds: float = 3.0, rate: float = 100.0, seed: int = 0, cache=None) -> Dict[str, list]:
    """The built-in synthetic gait set split like :func:`load_real` (``train``, ``test``,
    ``motion_only`` with ``label_kind="none"``), for tiny runs without data."""
    n = n_train + n_test + n_motion
    seqs = synthetic_gait(model, n_sequences=n, seconds=seconds, rate=rate, seed=seed, cache=cache)
    train, test = seqs[:n_train], seqs[n_train:n_train + n_test]
    motion = [without_labels(s) for s in seqs[n_train + n_test:]]
    info = [dict(name=s.name, role=r, frames=len(s), rate=s.rate, duration=float(s.time[-1]),
                 label_kind=s.label_kind, mass=s.mass, height=s.height, notes=[])
            for r, ss in (("train", train), ("test", test), ("motion_only", motion)) for s in ss]
    return dict(train=train, test=test, motion_only=motion, info=info, skipped=[])


def load_data(cfg, data: str = "synthetic", log=print, hold_out_test: bool = True):
    """``{"train": [...], "val": [...], "test": [...]}`` sequences: the synthetic set
    (``data.n_sequences`` training sequences of which ``data.n_labelled`` keep their labels,
    ``data.n_val`` validation and ``data.n_test`` test ones) or, for a directory, its built dataset
    (:func:`training.data.dataset_dir_for`: a raw folder such as ``../shared/data`` is built into the
    user cache once) split by subject (:func:`training.data.load_dataset`): a ``data.val_fraction``
    of the labelled subjects validate, and with ``hold_out_test`` a seeded fifth of them are test
    subjects (else every other labelled subject trains). The validation set chooses ``best.pt``
    and stops training early; the test set is only evaluated."""
    model = symgait.load_model(cfg.model)
    if data == "synthetic":
        D = cfg.data
        rank, world = init_distributed(cfg.train.device if cfg.train.device != "auto" else "cpu")

        def gen():
            return synthetic_gait(model, n_sequences=D.n_sequences + D.n_test + D.n_val, seconds=D.seconds,
                                  seed=D.seed, cache=SequenceCache())
        if world > 1:  # rank 0 fills the cache first (no concurrent writes of one file)
            import torch.distributed as dist
            if rank == 0:
                seqs = gen()
            dist.barrier()
            if rank != 0:
                seqs = gen()
        else:
            seqs = gen()
        n_tt = D.n_sequences + D.n_test
        tr, te, va = seqs[:D.n_sequences], seqs[D.n_sequences:n_tt], seqs[n_tt:]
        nl = len(tr) if D.n_labelled < 0 else min(D.n_labelled, len(tr))
        tr = tr[:nl] + [without_labels(s) for s in tr[nl:]]
        if rank == 0:
            log(f"synthetic {cfg.model}: {len(tr)} training sequences ({nl} labelled), {len(va)} validation, "
                f"{len(te)} test")
        return {"train": tr, "val": va, "test": te}
    p = Path(data)
    if not p.is_dir():
        raise SystemExit(f"--data must be 'synthetic' or a data directory; {data!r} is neither")
    d = load_dataset(dataset_dir_for(p, log=log), model=model, rate=REAL_RATE,
                     test_subjects=None if hold_out_test else (), val_fraction=cfg.data.val_fraction,
                     seed=cfg.data.seed, include_motion_only=cfg.variant != "baseline", log=log,
                     train_kinematics=cfg.data.kinematics, exclude_subjects=cfg.data.exclude_subjects)
    if not d["train"] or (hold_out_test and not d["test"]):
        raise SystemExit(f"{data}: no usable labelled training or test trials (see the log above)")
    return d
