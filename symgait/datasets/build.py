"""``python -m training dataset --data DIR --out OUT``: every usable trial of the shared data as
training sequences, with a report.

Steps:

1. :func:`discover` lists the trials of ``DIR`` (OpenSim examples, c3d.org samples, CMU subject
   08, Hamner & Delp 2013 running, Schreiber & Moissenet 2019 walking, ``more/`` through its
   ``MANIFEST.md``) with an explicit subject id, activity, speed where known, mass and height
   (and where each came from), or a refusal reason (duplicates of other trials, static trials,
   no body mass).
2. Each trial runs through :func:`symgait.trials.pipeline.process_trial` (``gait3d``; coordinates
   low-passed at the activity's cut-off, :data:`symgait.constants.KINEMATICS_CUTOFF_HZ`) in a pool of
   processes (``--jobs``, default 2), cached under ``OUT/cache`` (or ``--cache``) by a SHA-256 of
   the trial's files' contents and the options: a rebuild only reads the cache.  A trial whose
   processing fails is refused with the error's message.  Every file is written atomically
   (:mod:`symgait.atomic`); a trial's entry ends with its JSON, written last with the SHA-256 of
   its data files, so an entry cut short by a killed build, or damaged later, does not match and is
   processed again.  Each entry (and each fit and kinematic change below) is built under a file
   lock in ``cache/locks``: builds sharing a cache, or writing the same ``OUT``, at the same time
   process each trial once and write the same files.
3. Per subject, the measured trials' segment parameters are fitted to their root residual
   (:func:`symgait.trials.consistency.fit_parameters`, also cached; a measured trial whose residual
   force exceeds :data:`MAX_RESIDUAL_FORCE`, or whose centres of pressure lie farther than
   :data:`MAX_COP_DISTANCE` from the loaded foot, is refused instead); the sequences are stored with
   the fitted parameters (contact wrenches moved to the new contact origins, generalized forces
   recomputed).  Then each measured trial's coordinates are changed within the marker error so
   that its motion and its plates agree (:func:`symgait.trials.residual_reduction.reduce_residual`,
   cached): the result is stored beside the measured motion, never in its place.
4. ``OUT/sequences/<subject>/<trial>.npz`` (:class:`symgait.trials.sequence.Sequence`; the measured
   motion with the fitted parameters), ``<trial>.consistent.npz`` beside it for a measured trial
   (the residual-reduced motion, its wrenches and generalized forces),
   ``OUT/index.json`` (one row per trial: the fields of ``symgait id``'s JSON,
   :data:`symgait.trials.pipeline.SUMMARY_FIELDS`, plus subject, activity, speed, mass, height,
   source, convention, residual before / after the parameter fit / after the kinematic change,
   fitted parameters, the kinematic change, or the refusal),
   ``OUT/report.md`` and ``OUT/report.json``.

:func:`training.data.load_dataset` reads ``OUT`` and splits by subject.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import signal
import threading
import time
from pathlib import Path
from typing import Dict, Optional, Sequence as Seq

import numpy as np
from filelock import FileLock

from ..atomic import atomic_write, file_sha256, write_json, write_text
from ..constants import KINEMATICS_CUTOFF_HZ
from ..io.errors import DataFormatError
from ..trials.sequence import Sequence
from .discover import DEFAULT_MODEL, MASS_FROM_PLATES, activity_class, discover
import symgait
from ..trials.pipeline import process_trial, trial_summary
from ..forces.wrench import STANCE_N, centre_of_pressure
from symgait.errors import InputError
from ..trials.residual_reduction import world_fixed_wrenches
from ..trials.consistency import FitTrial, SubjectFit, fit_parameters, residual_rms
from ..trials import residual_reduction as rr
from ..markers.ik import marker_rms

__all__ = [ "build", "plate_mass", "docs_section", "report_markdown",
           "INDEX", "CACHE_VERSION", "DOCS_SECTION", "MAX_RESIDUAL_FORCE", "MAX_COP_DISTANCE",
           "stance_cop_distance"]

INDEX = "index.json"
CACHE_VERSION = 5          # bump when the processing changes what a cached trial holds
_MASS_NOMINAL = 70.0       # kg: processing mass of a trial whose mass is estimated from its plates
_MASS_RANGE = (20.0, 200.0)
# N/kg: a measured trial whose root-residual force RMS exceeds this (about 0.6 body weights) has
# forces that do not belong to its motion (a foot off the plates, plates assigned to the wrong
# foot, a wrong body mass) and is refused
MAX_RESIDUAL_FORCE = 6.0
# m: a measured trial whose centres of pressure lie, in the median over stance frames, farther than
# this from the loaded foot body's origin (horizontally) has forces that do not act under the foot
# (plate corners or origin misread, a plate's force given to the other foot) and is refused; a
# foot is about 0.26 m long and its body origin is at the heel or ankle
MAX_COP_DISTANCE = 0.4


# --- processing ----------------------------------------------------------------------------

def _trial_key(t: dict, options: dict, model_hash: str) -> str:
    files = {k: file_sha256(t[k]) for k in ("motion", "forces", "external_loads", "markerset")
             if t.get(k) and Path(t[k]).is_file()}
    blob = json.dumps(dict(files=files, mass=t["mass"], height=t["height"], markerset=t["markerset"],
                           kind=t["kind"], options=options, model=model_hash, v=CACHE_VERSION,
                           **({"time_range": t["time_range"]} if t.get("time_range") else {})),
                      sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:24]


_WORKER: Dict[str, object] = {}


def _lock(cache_dir, name: str) -> FileLock:
    """The lock of cache entry ``name``: one process builds an entry at a time."""
    d = Path(cache_dir) / "locks"
    d.mkdir(parents=True, exist_ok=True)
    return FileLock(str(d / f"{name}.lock"))


def _entry_files(cache_dir, key) -> Dict[str, str]:
    """{file name: SHA-256} of trial ``key``'s data files in the cache (recorded in its JSON)."""
    names = (f"{key}.npz", f"{key}.markers.npz")
    return {n: file_sha256(Path(cache_dir) / n) for n in names if (Path(cache_dir) / n).exists()}


def _cached_trial(cache_dir, key) -> Optional[dict]:
    """Trial ``key``'s cache entry if complete and intact, else None. An entry is its JSON (written
    last, holding the SHA-256 of each data file) and, for a usable trial, its files, each of which
    must match its recorded hash (an entry without recorded hashes: the sequence must load)."""
    cache_dir = Path(cache_dir)
    try:
        r = json.loads((cache_dir / f"{key}.json").read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(r, dict) or r.get("status") not in ("usable", "refused"):
        return None
    if r["status"] == "refused":
        return r
    files = r.get("files")
    try:
        if files is None:
            Sequence.load(cache_dir / f"{key}.npz")
        elif not files or any(file_sha256(cache_dir / n) != h for n, h in files.items()):
            return None
    except (OSError, DataFormatError):
        return None
    return r


def _ignore_sigint() -> None:
    """Pool workers leave Ctrl-C to the parent (which stops them), so that no worker prints a traceback."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _process(args) -> dict:
    """Worker: process one trial into ``cache/<key>.npz`` (+ ``.markers.npz``) and ``.json``,
    written last with the data files' hashes (or a refusal); under the entry's lock, so that
    concurrent builds sharing the cache process a trial once (the others read the entry)."""
    t, key, cache_dir, options = args
    with _lock(cache_dir, key):
        r = _cached_trial(cache_dir, key)
        if r is not None:
            return dict(r, cached=True)
        return dict(_process_unlocked(t, key, cache_dir, options), cached=False)


def _process_unlocked(t, key, cache_dir, options) -> dict:
    t0 = time.perf_counter()
    out = dict(key=key)
    for n in (f"{key}.npz", f"{key}.markers.npz"):   # a damaged or stale entry's files
        (Path(cache_dir) / n).unlink(missing_ok=True)
    try:
        if "kern" not in _WORKER:
            _WORKER["model"] = symgait.load_model(DEFAULT_MODEL)
            _WORKER["kern"] = symgait.kernels(_WORKER["model"])
        model, kern = _WORKER["model"], _WORKER["kern"]
        kw = {k: t[k] for k in ("forces", "external_loads", "markerset", "time_range") if t.get(k)}
        try:
            tr = process_trial(model, kern, t["motion"], height=t["height"],
                               mass=t["mass"] or _MASS_NOMINAL, **kw, **options)
        except Exception as e:  # noqa: BLE001 — the subject's model failed: detect the set
            if not str(t.get("markerset") or "").lower().endswith(".osim"):
                raise
            kw.pop("markerset")
            tr = process_trial(model, kern, t["motion"], height=t["height"],
                               mass=t["mass"] or _MASS_NOMINAL, **kw, **options)
            first = str(e).strip().splitlines()
            tr.notes.insert(0, f"MarkerSet of {Path(t['markerset']).name} failed "
                            f"({type(e).__name__}: {first[0] if first else ''}); set detected")
        if not t["mass"]:
            tr.sequence = _with_plate_mass(model, kern, tr.sequence)
            tr.notes.append(f"body mass {tr.sequence.mass:.1f} kg {MASS_FROM_PLATES}")
        tr.sequence.save(Path(cache_dir) / f"{key}.npz")
        if tr.ik is not None:   # the fit's markers, to measure a later change of the motion against
            with atomic_write(Path(cache_dir) / f"{key}.markers.npz") as f:
                np.savez_compressed(f, A=tr.ik.targets.A, positions=tr.ik.targets.positions,
                                    time=tr.ik.time, p=tr.ik.p)
        out.update(status="usable", summary=trial_summary(kern, tr), notes=list(tr.notes),
                   label_kind=tr.sequence.label_kind)
    except Exception as e:  # noqa: BLE001 — a refusal with the reason, the build goes on
        msg = str(e).strip().splitlines()
        out.update(status="refused", reason=f"{type(e).__name__}: {msg[0] if msg else ''}"[:400])
    out["seconds"] = round(time.perf_counter() - t0, 2)
    if out["status"] == "usable":
        out["files"] = _entry_files(cache_dir, key)
    write_json(Path(cache_dir) / f"{key}.json", out)   # last: the entry is complete
    return out


def stance_cop_distance(kern, seq) -> float:
    """Median over stance frames (vertical force above :data:`training.metrics.STANCE_N`) and
    feet of the horizontal distance (m) between a foot's centre of pressure and its contact
    body's origin; NaN without stance frames."""
    T = len(seq)
    p = np.broadcast_to(np.asarray(seq.p, float), (T, len(seq.p))).copy()
    origin = np.asarray(kern.contact_points(np.asarray(seq.q, float), p))
    w = np.asarray(seq.w, float)
    cop, _ = centre_of_pressure(w, origin)
    on = np.where(np.isfinite(w[..., 1]), w[..., 1], -np.inf) > STANCE_N
    d = np.hypot(*(cop - origin)[..., [0, 2]].transpose(2, 0, 1))[on]
    d = d[np.isfinite(d)]
    return float(np.median(d)) if d.size else float("nan")


def plate_mass(kern, seq) -> float:
    """Body mass (kg) that makes the motion-implied vertical force (the root residual at w = 0,
    linear in the mass when every segment mass is a fraction of it) best match the plates'
    vertical total over the sequence (least squares)."""
    r1 = kern.root_residual(seq.q, seq.qd, seq.qdd, np.zeros_like(seq.w), seq.p)[:, 1] / seq.mass
    F = seq.w[..., 1].sum(1)
    return float(r1 @ F / (r1 @ r1))


def _with_plate_mass(model, kern, seq):
    """``seq`` processed at a nominal mass, rescaled to the mass its plates imply."""
    import dataclasses
    if seq.label_kind != "measured":
        raise InputError("no body mass given and no force plates to estimate it from")
    m = plate_mass(kern, seq)
    if not _MASS_RANGE[0] <= m <= _MASS_RANGE[1]:
        raise InputError(f"no body mass given; the plates imply {m:.1f} kg, outside "
                         f"{_MASS_RANGE[0]:g}-{_MASS_RANGE[1]:g} kg (plates not covering the feet?)")
    p = seq.p.copy()
    mi = [i for i, n in enumerate(model.parameter_names) if n.endswith("_mass")]
    p[mi] *= m / seq.mass
    tau = kern.inverse_dynamics(seq.q, seq.qd, seq.qdd, seq.w, p)
    return dataclasses.replace(seq, mass=m, p=p, tau=tau)


def _moved_wrenches(kern, seq, p_new):
    """``seq.w`` (about the contact origins at ``seq.p``) about the origins at ``p_new``."""
    return world_fixed_wrenches(kern, seq.q, seq.q, seq.w, seq.p, p_new)


def _fit_subject(kern, seqs, mass, cache_dir, keys):
    """Fitted factors for one subject's measured sequences (cached by their keys)."""
    fkey = hashlib.sha256(("fit" + "".join(sorted(keys))).encode()).hexdigest()[:24]
    path = Path(cache_dir) / f"fit-{fkey}.json"

    def cached():
        try:
            return SubjectFit.from_json(path.read_text())
        except (OSError, ValueError, KeyError, TypeError):   # absent or damaged: fitted again
            return None
    fit = cached()
    if fit is not None:
        return fit, True
    with _lock(cache_dir, f"fit-{fkey}"):
        fit = cached()
        if fit is not None:
            return fit, True
        fit = SubjectFit.of(fit_parameters(kern, [FitTrial(s.q, s.qd, s.qdd, s.w, p_w=s.p, name=s.name)
                                                  for s in seqs], mass))
        write_text(path, fit.to_json())
    return fit, False


def _reduce_kinematics(kern, s, cache_dir, key):
    """The residual-reduced motion of measured sequence ``s`` (cached by ``key``, the trial's key,
    and ``s``'s parameters): ``(dict(q, qd, qdd, w), summary dict)``."""
    blob = json.dumps(dict(key=key, p=np.asarray(s.p, float).round(12).tolist(), frames=len(s),
                           v=[rr.TRANSLATION_SCALE, float(rr.ROTATION_SCALE), rr.WEIGHT,
                              rr.MAX_POINT_RMS]), sort_keys=True)
    ckey = hashlib.sha256(("kin" + blob).encode()).hexdigest()[:24]
    npz, js = Path(cache_dir) / f"kin-{ckey}.npz", Path(cache_dir) / f"kin-{ckey}.json"

    def cached():
        """The entry if its JSON (written last) records the SHA-256 of its ``.npz`` and it matches."""
        try:
            summary = json.loads(js.read_text())
            if summary.pop("sha256", None) != file_sha256(npz):
                return None
            with np.load(npz) as z:
                return {k: z[k] for k in ("q", "qd", "qdd", "w")}, dict(summary, cached=True)
        except (OSError, ValueError, KeyError, AttributeError):   # absent or damaged: computed again
            return None
    hit = cached()
    if hit is not None:
        return hit
    with _lock(cache_dir, f"kin-{ckey}"):
        hit = cached()
        if hit is not None:
            return hit
        fit = rr.reduce_residual(kern, s.q, s.qd, s.qdd, s.w, s.p, s.rate, s.mass)
        summary = fit.summary()
        with atomic_write(npz) as f:
            np.savez(f, q=fit.q, qd=fit.qd, qdd=fit.qdd, w=fit.w)
        write_json(js, dict(summary, sha256=file_sha256(npz)))
    return dict(q=fit.q, qd=fit.qd, qdd=fit.qdd, w=fit.w), dict(summary, cached=False)


def _marker_rms_change(kern, path, s, c) -> dict:
    """The trial's marker RMS (mm, mean over frames) with the measured motion ``s`` (low-passed)
    and the changed one ``c``, at the IK's parameters; empty without markers (``.mot`` input)."""
    if not Path(path).exists():
        return {}
    with np.load(path) as z:
        A, Y, t, p = z["A"], z["positions"], z["time"], z["p"]
    try:
        before = marker_rms(kern, A, Y, s.q, p, positions_time=t, time=s.time)
        after = marker_rms(kern, A, Y, c.q, p, positions_time=t, time=c.time)
    except ValueError:
        return {}
    return dict(marker_rms_mm=round(1000 * before, 2), marker_rms_mm_consistent=round(1000 * after, 2))


def build(data_dir, out_dir, *, jobs: int = 2, trials: Optional[Seq[str]] = None,
          max_frames: Optional[int] = None, fit: bool = True, kinematics: bool = True,
          progress: bool = True, log=print, cache_dir=None) -> dict:
    """Build the dataset (module docstring).  ``trials``: only these names (tests);
    ``max_frames``: cut each processed sequence to its first frames (tests); ``fit``: the
    per-subject parameter fit; ``kinematics``: the residual-reduced motion of each measured
    trial; ``cache_dir``: the cache folder (default ``OUT/cache``; builds may share one).
    Returns the report dict (also written to ``OUT/report.json``)."""

    t_start = time.perf_counter()
    out = Path(out_dir)
    cache = Path(cache_dir) if cache_dir is not None else out / "cache"
    cache.mkdir(parents=True, exist_ok=True)
    model = symgait.load_model(DEFAULT_MODEL)
    specs = discover(data_dir)
    if trials is not None:
        specs = [t for t in specs if t["name"] in trials]
    todo, results = [], {}
    for t in specs:
        if t["refuse"]:
            continue
        t["options"] = dict(cutoff=KINEMATICS_CUTOFF_HZ[activity_class(t.get("activity") or "")])
        t["key"] = _trial_key(t, t["options"], model.source_hash)
        r = _cached_trial(cache, t["key"])
        if r is not None:
            results[t["key"]] = dict(r, cached=True)
        else:
            todo.append(t)
    if todo:
        args = [(t, t["key"], str(cache), t["options"]) for t in todo]
        bar = None
        if progress:
            from tqdm import tqdm
            bar = tqdm(total=len(args), desc="trials", unit="trial")
        try:
            if jobs > 1 and len(args) > 1:
                import multiprocessing as mp
                # workers start with SIGINT ignored (inherited; Python then installs no handler), so
                # Ctrl-C reaches this process alone, which stops them (Pool's exit terminates them)
                main_thread = threading.current_thread() is threading.main_thread()
                old = signal.signal(signal.SIGINT, signal.SIG_IGN) if main_thread else None
                try:
                    pool = mp.get_context("spawn").Pool(min(jobs, len(args)), initializer=_ignore_sigint)
                finally:
                    if main_thread:
                        signal.signal(signal.SIGINT, old)
                with pool:
                    for r in pool.imap_unordered(_process, args):
                        results[r["key"]] = r
                        bar and bar.update(1)
            else:
                for a in args:
                    r = _process(a)
                    results[r["key"]] = r
                    bar and bar.update(1)
        finally:
            bar and bar.close()
    kern = symgait.kernels(model)
    rows, seqs = [], {}
    for t in specs:
        row = {k: t[k] for k in ("name", "subject", "source", "activity", "speed", "mass", "height",
                                 "mass_from", "height_from", "population", "age")}
        row["files"] = {k: t[k] for k in ("motion", "forces", "external_loads") if t.get(k)}
        if t["refuse"]:
            row.update(status="refused", reason=t["refuse"])
            rows.append(row)
            continue
        r = results[t["key"]]
        row.update(status=r["status"], cached=r.get("cached", False), seconds=r.get("seconds"))
        if r["status"] != "usable":
            row["reason"] = r["reason"]
            rows.append(row)
            continue
        s = Sequence.load(cache / f"{t['key']}.npz")
        if max_frames:
            n = min(len(s), int(max_frames))
            s = dataclasses.replace(s, time=s.time[:n], q=s.q[:n], qd=s.qd[:n], qdd=s.qdd[:n],
                                    w=s.w[:n], tau=s.tau[:n], contact=s.contact[:n])
        s = dataclasses.replace(s, name=t["name"])
        row["mass"] = round(float(s.mass), 3)
        summ = dict(r["summary"], frames=len(s))
        row.update(summ, convention=summ["markerset"] or "OpenSim coordinates",
                   label_kind=s.label_kind, cutoff_hz=t["options"]["cutoff"],
                   role="labelled" if s.label_kind == "measured" else "motion_only",
                   notes=r.get("notes", []),
                   p_start=s.p.tolist())
        fb, mb = residual_rms(kern.root_residual(s.q, s.qd, s.qdd, s.w, s.p), s.mass)
        row.update(residual_force_rms_per_kg=round(fb, 4), residual_moment_rms_per_kg=round(mb, 4))
        if s.label_kind == "measured" and fb > MAX_RESIDUAL_FORCE:
            row.update(status="refused", reason=f"root-residual force RMS {fb:.1f} N/kg is above "
                       f"{MAX_RESIDUAL_FORCE:g} N/kg: the forces do not match the motion (a foot "
                       "off the plates, plates assigned to the wrong foot, or a wrong body mass)")
            rows.append(row)
            continue
        if s.label_kind == "measured":
            dc = stance_cop_distance(kern, s)
            row["cop_distance_m"] = None if not np.isfinite(dc) else round(dc, 4)
            if dc > MAX_COP_DISTANCE:
                row.update(status="refused", reason=f"the centres of pressure lie {dc:.2f} m (median over "
                           f"stance) from the loaded foot, more than {MAX_COP_DISTANCE:g} m: the forces do "
                           "not act under the feet (plate corners or origin misread, or a plate's force "
                           "given to the other foot)")
                rows.append(row)
                continue
        if row.get("dropped_markers"):
            log(f"{t['name']}: markers left out of the IK: " + "; ".join(row["dropped_markers"]))
        seqs[t["name"]] = (s, row, t["key"])
        rows.append(row)
    # per-subject consistency fit
    by_subject: Dict[str, list] = {}
    for name, (s, row, key) in seqs.items():
        if row["role"] == "labelled":
            by_subject.setdefault(row["subject"], []).append(name)
    for subj, names in sorted(by_subject.items()):
        if not fit:
            continue
        ss = [seqs[n][0] for n in names]
        try:
            res, cached = _fit_subject(kern, ss, ss[0].mass, cache, [seqs[n][2] + str(max_frames)
                                                                    for n in names])
        except Exception as e:  # noqa: BLE001
            for n in names:
                seqs[n][1]["fit_error"] = f"{type(e).__name__}: {e}"
            continue
        x = res.factors
        for n in names:
            s, row, key = seqs[n]
            p_new = s.p * x
            w = _moved_wrenches(kern, s, p_new)
            tau = kern.inverse_dynamics(s.q, s.qd, s.qdd, w, p_new)
            s = dataclasses.replace(s, p=p_new, w=w, tau=tau)
            fa, ma = residual_rms(kern.root_residual(s.q, s.qd, s.qdd, w, p_new), s.mass)
            row.update(residual_force_rms_per_kg_fitted=round(fa, 4),
                       residual_moment_rms_per_kg_fitted=round(ma, 4), p_fitted=p_new.tolist(),
                       fit_seconds=res.seconds, fit_cached=cached)
            seqs[n] = (s, row, key)
    for name, (s, row, key) in seqs.items():
        rel = Path("sequences") / re.sub(r"[^A-Za-z0-9_.-]+", "_", row["subject"]) / f"{name}.npz"
        s.save(out / rel)     # atomic: concurrent builds into one OUT both write whole files
        row["file"] = str(rel)
        if not (kinematics and s.label_kind == "measured"):
            continue
        # the motion changed within the marker error to agree with the plates, stored beside it
        try:
            k, summ = _reduce_kinematics(kern, s, cache, key + str(max_frames))
        except Exception as e:  # noqa: BLE001 — reported; the measured motion stays usable
            row["kinematics_error"] = f"{type(e).__name__}: {e}"
            continue
        tau = kern.inverse_dynamics(k["q"], k["qd"], k["qdd"], k["w"], s.p)
        c = dataclasses.replace(s, q=k["q"], qd=k["qd"], qdd=k["qdd"], w=k["w"], tau=tau)
        fc, mc = residual_rms(kern.root_residual(c.q, c.qd, c.qdd, c.w, c.p), c.mass)
        summ = dict(summ, **_marker_rms_change(kern, cache / f"{key}.markers.npz", s, c))
        relc = rel.with_name(f"{name}.consistent.npz")
        c.save(out / relc)
        row.update(file_consistent=str(relc), residual_force_rms_per_kg_consistent=round(fc, 4),
                   residual_moment_rms_per_kg_consistent=round(mc, 4), kinematic_change=summ)
    report = dict(model=DEFAULT_MODEL, parameter_names=list(model.parameter_names), data=str(data_dir),
                  jobs=jobs,
                  seconds=round(time.perf_counter() - t_start, 1), rows=rows,
                  usable=sum(r["status"] == "usable" for r in rows),
                  refused=sum(r["status"] == "refused" for r in rows))
    write_text(out / "report.json", json.dumps(report, indent=1))
    write_text(out / "report.md", report_markdown(report))
    write_text(out / INDEX, json.dumps(report, indent=1))   # last: the build is complete
    log(f"{report['usable']} usable, {report['refused']} refused trials; {len(by_subject)} subjects "
        f"with measured forces; {report['seconds']:.1f} s; wrote {out / INDEX}, {out / 'report.md'}")
    return report


def _fmt(v, f="{:.2f}"):
    return "–" if v is None else f.format(v)


def _chain(r, key):
    """``before → parameters → kinematics`` for the residual ``key`` of row ``r``."""
    return " → ".join(_fmt(r.get(k)) for k in (key, key + "_fitted", key + "_consistent"))


def _median(rows, key):
    v = [r[key] for r in rows if r.get(key) is not None]
    return float(np.median(v)) if v else None


def _change(rows) -> str:
    """``point RMS | marker RMS measured → changed`` medians (mm) over ``rows``."""
    kc = [r["kinematic_change"] for r in rows if r.get("kinematic_change")]
    pts = _median(kc, "point_rms_mm")
    mk = [k for k in kc if "marker_rms_mm" in k]
    markers = (f"{_fmt(_median(mk, 'marker_rms_mm'), '{:.1f}')} → "
               f"{_fmt(_median(mk, 'marker_rms_mm_consistent'), '{:.1f}')}") if mk else "–"
    return f"{_fmt(pts, '{:.1f}')} | {markers}"


def report_markdown(report: dict) -> str:
    """The report as Markdown: usable trials (with the residuals before the fits, after the
    parameter fit and after the kinematic change), refused trials with the reason, and the median
    residual force per source."""
    rows = report["rows"]
    out = [f"# Dataset report ({report['model']})", "",
           f"{report['usable']} usable and {report['refused']} refused trials, built in "
           f"{report['seconds']:.0f} s.  Residuals: RMS over frames of the root residual's force "
           "(N/kg) and moment (N·m/kg) norms: measured → after the per-subject parameter fit → after "
           "the kinematic change within the marker error (`*.consistent.npz`); the change as the RMS "
           "displacement of the model's points and the marker RMS (mm, mean over frames) of the "
           "low-passed measured motion → the changed one.", "",
           "| trial | subject | activity | convention | IK RMS (mm) | worst marker | frames | plates | "
           "force res. | moment res. | change (mm) | markers (mm) |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        if r["status"] != "usable":
            continue
        kc = r.get("kinematic_change") or {}
        mk = (f"{_fmt(kc['marker_rms_mm'], '{:.1f}')} → {_fmt(kc['marker_rms_mm_consistent'], '{:.1f}')}"
              if "marker_rms_mm" in kc else "–")
        out.append(f"| {r['name']} | {r['subject']} | {r['activity']} | {r['convention']} | "
                   f"{_fmt(r['ik_rms_mm'], '{:.1f}')} | {r['ik_worst_marker'] or '–'} | {r['frames']} | "
                   f"{r['plates_used']} | {_chain(r, 'residual_force_rms_per_kg')} | "
                   f"{_chain(r, 'residual_moment_rms_per_kg')} | {_fmt(kc.get('point_rms_mm'), '{:.1f}')} | "
                   f"{mk} |")
    out += ["", "## Median residual force per source (N/kg, labelled trials)", "",
            "| source | trials | measured | parameters | kinematics | change (mm) | markers (mm) |",
            "|---|---|---|---|---|---|---|"]
    lab = [r for r in rows if r["status"] == "usable" and r.get("role") == "labelled"]
    for s in sorted({r["source"] for r in lab}):
        rr = [r for r in lab if r["source"] == s]
        out.append(f"| {s} | {len(rr)} | {_fmt(_median(rr, 'residual_force_rms_per_kg'))} | "
                   f"{_fmt(_median(rr, 'residual_force_rms_per_kg_fitted'))} | "
                   f"{_fmt(_median(rr, 'residual_force_rms_per_kg_consistent'))} | "
                   f"{_change(rr)} |")
    out += ["", "## Refused", "", "| trial | source | reason |", "|---|---|---|"]
    for r in rows:
        if r["status"] == "refused":
            out.append(f"| {r['name']} | {r['source']} | {r['reason'].replace('|', '/')} |")
    return "\n".join(out) + "\n"


DOCS_SECTION = "## Dataset build and consistency fit"


def docs_section(report: dict, note: str = "") -> str:
    """The ``docs/data.md`` section: per source, trials usable / refused, median residual force
    and moment measured / after the per-subject parameter fit / after the kinematic change, the
    change itself, and the build time."""
    rows = report["rows"]
    out = [DOCS_SECTION, "",
           "Tables written by `python -m training dataset ... --docs docs/data.md`.  Per source: usable and "
           "refused trials; over the labelled trials the median root-residual force (N/kg) and moment "
           "(N·m/kg) RMS as measured → after the per-subject parameter fit "
           "(`symgait.trials.consistency`: segment masses ×[0.75, 1.25] with the total fixed, lengths "
           "×[0.95, 1.05], bounded Gauss-Newton on the generated root-residual VJP) → after the "
           "kinematic change within the marker error (`symgait.trials.residual_reduction`: per-frame "
           "coordinate corrections, Gauss-Newton on the root-residual VJP, prior 1 cm / 2°, the model's "
           "points moved by at most 1 cm RMS); the change as the median RMS displacement of the model's "
           "points, and the median marker RMS (mean over frames) of the low-passed measured motion → "
           "the changed one.", ""]
    if note:
        out += [note, ""]
    out += ["| source | usable | refused | labelled | force | moment | change (mm) | markers (mm) | "
            "fit (s/subject) |", "|---|---|---|---|---|---|---|---|---|"]
    for src in sorted({r["source"] for r in rows}):
        rr = [r for r in rows if r["source"] == src]
        lab = [r for r in rr if r.get("role") == "labelled" and r["status"] == "usable"]
        fs = [r["fit_seconds"] for r in lab if "fit_seconds" in r]
        med_f = " → ".join(_fmt(_median(lab, "residual_force_rms_per_kg" + k)) for k in ("", "_fitted", "_consistent"))
        med_m = " → ".join(_fmt(_median(lab, "residual_moment_rms_per_kg" + k)) for k in ("", "_fitted", "_consistent"))
        out.append(f"| {src} | {sum(r['status'] == 'usable' for r in rr)} | "
                   f"{sum(r['status'] == 'refused' for r in rr)} | {len(lab)} | "
                   f"{med_f if lab else '–'} | {med_m if lab else '–'} | "
                   f"{_change(lab) if lab else '– | –'} | "
                   f"{_fmt(np.median(fs) if fs else None, '{:.1f}')} |")
    out += ["", "Physics floor per activity (docs/data.md, \"Physics floor\"): the residual force of "
            "every labelled trial as measured, median (min–max) in N/kg (children apart):", ""]
    for pop in ("adults", "children"):
        for act in ("walking", "running"):
            v = [r["residual_force_rms_per_kg"] for r in rows if r["status"] == "usable"
                 and r.get("role") == "labelled" and activity_class(r["activity"]) == act
                 and r.get("population", "adults") == pop]
            if v:
                who = "" if pop == "adults" else f" ({pop})"
                out.append(f"* {act}{who}: {np.median(v):.2f} ({min(v):.2f}–{max(v):.2f}) over "
                           f"{len(v)} trials")
    out += ["", "Usable trials and their subjects per activity and population:", ""]
    for pop in ("adults", "children"):
        for act in ("walking", "running"):
            u = [r for r in rows if r["status"] == "usable" and activity_class(r["activity"]) == act
                 and r.get("population", "adults") == pop]
            if u:
                out.append(f"* {act}, {pop}: {len(u)} trials, {len({r['subject'] for r in u})} subjects")
    out += ["", f"{report['usable']} usable, {report['refused']} refused; built in "
            f"{report['seconds']:.0f} s with {report.get('jobs', 2)} processes."]
    return "\n".join(out) + "\n"


