"""Subject-wise evaluation over a built dataset: k-fold over subjects, and training on some labs
while testing on the others.

    python -m training experiment kfold      --data DATASET --config real --out DIR [--folds 5]
    python -m training experiment unseen-lab --data DATASET --config real --out DIR

``DATASET`` is a folder written by ``python -m training dataset`` (a raw data folder such as
``../shared/data`` is built into the user cache first, :func:`training.data.dataset_dir_for`).

* ``kfold``: the labelled subjects are dealt into ``folds`` folds, walking and running subjects
  each spread evenly (:func:`subject_folds`); fold ``i`` tests on its subjects and trains on the
  others, of which a seeded ``data.val_fraction`` are validation subjects (``best.pt`` and early
  stopping); motion-only sequences of training subjects join the training set. Every labelled
  subject is tested exactly once, by a network that never saw any of its trials.
* ``reduced-subjects``: fold 0's test and validation subjects; labels kept on 100/50/25/10 % of
  the training subjects (seeded), every trial of the others motion-only (baseline vs F-net).
* ``unseen-lab``: train (and validate) on the subjects of ``train_labs`` (default: Hamner et al.
  2013 and Schreiber & Moissenet 2019), test on every labelled subject of the other labs.

Per variant the predictions on all test subjects are pooled per activity (walking, running) and
scored with :mod:`training.metrics` (εf, εm, ετ, rRMSE, % body weight, vertical error, centre of
pressure in stance, free moment, mean total vertical force over whole cycles); the spread of εf
over folds is given beside it. Where an activity's test subjects come from more than one
population (the index rows' ``population``: adults, children; :mod:`symgait.datasets.discover`),
each population is also scored apart (rows ``walking (adults)``, ``walking (children)``); the
activity's own row keeps pooling them all. The *physics floor* is the error the motion alone leaves for the
total external force: the root residual force of inverse dynamics with the measured wrenches, on
the sequence's parameters (RMS over frames of its norm, per kg), pooled the same way. The row
``floor (pcnet's best)`` (:func:`distribution_floor`) scores the motion's total force distributed
exactly as the measured forces are: what a perfect physics-consistent network would reach.

Beside the networks every experiment but ``reduced-subjects`` scores two baselines that learn
nothing (:mod:`training.baselines`), on the same test sequences: ``ZMP (physics only)``
(Dijkstra & Gutierrez-Farewik 2015: the motion's total force split between the feet by a
smooth transition over kinematic double support) and ``mean curve`` (the training subjects'
mean stance force curve per activity, on the test trial's kinematic stance phases).
``--variants`` may name only these (``zmp,meancurve``): then nothing is trained.

Runs go in parallel over ``--jobs`` processes (one torch and Numba thread each); every run
writes its folder (``runs/<variant>_<split>``: ``best.pt``, ``last.pt``, ``log.jsonl``,
``loss.png``, ``run.json``). A run whose ``run.json`` records the same :func:`run_key` (config
and data) is not trained again: a repeated command re-scores the finished runs and trains the
missing ones.
"""
from __future__ import annotations

import json
import math
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence as Seq

import numpy as np

from symgait.atomic import write_json
from symgait.datasets.discover import activity_class
from .evaluate import format_value, metrics_of, predict_all
from .data import (changed_motion, dataset_dir_for, dataset_sequences, split_role, subject_split, synthetic_set, without_labels)
from .evaluate import REAL_RATE, contact_origins
from .checkpoint import load
from .config import Config
from .plots import plot_grf, plot_loss, read_log
from .trainer import train
from .metrics import STANCE_N, centre_of_pressure
from .pcnet import COP_BOUND
from .baselines import BASELINES, predictions_of
import symgait

__all__ = ["subject_folds", "kfold_splits", "lab_splits", "run_splits", "physics_floor",
           "kfold_experiment", "unseen_lab_experiment", "reduced_subjects_experiment", "reduced_splits", "run_key", "distribution_floor", "FLOOR", "experiment_items", "lab_of", "ACTIVITIES", "TRAIN_LABS",
           "split_parts", "baseline_results", "groups", "in_group", "population_of"]

ACTIVITIES = ("walking", "running")
TRAIN_LABS = ("hamner2013", "schreiber2019")
VARIANTS = ("baseline", "fnet", "cfinet", "pcnet")
FLOOR = "floor (pcnet's best)"   # the row of distribution_floor

# (metric key, heading) of the subject-wise tables
TABLE = (("ef", "εf (N/kg)"), ("f_bw", "εf (% BW)"), ("ef_v", "vertical εf (N/kg)"), ("ef_ap", "AP εf (N/kg)"),
         ("ef_ml", "ML εf (N/kg)"), ("rf", "rRMSE f (%)"),
         ("em", "εm (N·m/kg)"), ("e_free", "free moment (N·m/kg)"), ("cop_mm", "COP stance (mm)"),
         ("et", "ετ (N·m/kg)"), ("rt", "rRMSE τ (%)"), ("fy_bw", "mean ΣFy cycles (BW)"),
         ("fy_bw_true", "labels ΣFy (BW)"))


def lab_of(subject: str) -> str:
    """The lab (data source) part of a dataset subject id ``lab:subject``."""
    return subject.split(":", 1)[0]


def subject_folds(subject_activity: Dict[str, str], k: int, seed: int = 0) -> List[List[str]]:
    """``k`` disjoint lists of subjects covering all of ``subject_activity`` ({subject: activity
    class}): per activity the subjects are shuffled (seeded) and dealt round-robin, continuing
    where the previous activity stopped, so every fold gets its share of walkers and runners and
    the fold sizes differ by at most one."""
    subs = sorted(subject_activity)
    if k < 2 or k > len(subs):
        raise ValueError(f"folds must be between 2 and the number of labelled subjects ({len(subs)}), got {k}")
    rng = np.random.default_rng(seed)
    folds: List[List[str]] = [[] for _ in range(k)]
    i = 0
    for act in sorted({subject_activity[s] for s in subs}):
        group = [s for s in subs if subject_activity[s] == act]
        for j in rng.permutation(len(group)):
            folds[i % k].append(group[j])
            i += 1
    return [sorted(f) for f in folds]


def _subject_activity(items) -> Dict[str, str]:
    """{labelled subject: its activity class (the most frequent over its labelled sequences)}."""
    votes: Dict[str, Dict[str, int]] = {}
    for r, _ in items:
        if r.get("role") == "labelled":
            a = activity_class(r.get("activity", ""))
            votes.setdefault(r["subject"], {}).setdefault(a, 0)
            votes[r["subject"]][a] += 1
    return {s: max(sorted(v), key=v.get) for s, v in votes.items()}


def _val_subjects(candidates: Seq[str], fraction: float, seed: int) -> List[str]:
    return sorted(subject_split(candidates, fraction, seed)) if fraction > 0 else []


def kfold_splits(items, k: int, *, val_fraction: float = 0.2, seed: int = 0) -> List[dict]:
    """The ``k`` splits of :func:`subject_folds`: ``[dict(name, test, val)]`` (subject lists)."""
    sa = _subject_activity(items)
    out = []
    for i, test in enumerate(subject_folds(sa, k, seed)):
        rest = [s for s in sa if s not in set(test)]
        out.append(dict(name=f"fold{i}", test=test, val=_val_subjects(rest, val_fraction, seed + 1 + i)))
    return out


def lab_splits(items, train_labs: Seq[str] = TRAIN_LABS, *, val_fraction: float = 0.2,
               seed: int = 0) -> List[dict]:
    """One split: test = the labelled subjects of labs not in ``train_labs``."""
    sa = _subject_activity(items)
    missing = [lab for lab in train_labs if not any(lab_of(s) == lab for s in sa)]
    if missing:
        raise ValueError(f"no labelled subjects of {missing} in the dataset (labs present: "
                         f"{sorted({lab_of(s) for s in sa})})")
    test = sorted(s for s in sa if lab_of(s) not in train_labs)
    if not test:
        raise ValueError(f"every labelled subject is from {list(train_labs)}: nothing to test on")
    rest = [s for s in sa if s not in set(test)]
    return [dict(name="unseen_lab", test=test, val=_val_subjects(rest, val_fraction, seed + 1))]


def _assign(items, split: dict, kinematics: str = "measured"):
    test, val = set(split["test"]), set(split["val"])
    unlabel = set(split.get("unlabel", ()))
    out = dict(train=[], val=[], test=[], test_rows=[], train_rows=[])
    for r, seq in items:
        role = split_role(r, test, val)
        if role is None:
            continue
        if role == "train" and kinematics == "consistent":
            seq = changed_motion(r, seq)
        if role == "train" and r["subject"] in unlabel:
            seq = without_labels(seq)
        if role == "motion_only":
            role = "train"
        out[role].append(seq)
        if role in ("test", "train"):
            out[f"{role}_rows"].append(r)
    return out


def experiment_items(tiny: bool, data_dir=None, model: str = "gait3d", *, log: Callable = print) -> list:
    """``[(index row, Sequence)]`` for the subject-wise experiments: the built dataset of
    ``data_dir`` at the training frame rate, or (``tiny``) six synthetic labelled subjects of two
    pretend labs ("synthetic_a", "synthetic_b"; one of the walkers a pretend child) and two
    motion-only sequences."""
    if not tiny:
        d = dataset_dir_for(data_dir, log=log)
        return dataset_sequences(d, model=model, rate=REAL_RATE)
    syn = synthetic_set(model, n_train=5, n_test=1, n_motion=2, seconds=1.5, rate=100.0, seed=0)
    items = []
    for i, seq in enumerate(syn["train"] + syn["test"]):
        lab = "synthetic_a" if i % 2 == 0 else "synthetic_b"
        items.append((dict(name=seq.name, subject=f"{lab}:{i}", role="labelled",
                           activity="running" if i in (1, 4) else "walking",
                           population="children" if i == 2 else "adults"), seq))
    for seq in syn["motion_only"]:
        items.append((dict(name=seq.name, subject="synthetic_motion:0", role="motion_only",
                           activity="walking"), seq))
    return items


# --- one training run (in a worker process) ----------------------------------------------------

def run_key(job: dict) -> str:
    """SHA-256 of what a run depends on: its config (less the ``predict`` section, which does not
    change training) and its training and validation sequences (names and data); a finished run
    with the same key is reused, not trained again."""
    import hashlib
    trained = {k: v for k, v in job["cfg"].items() if k != "predict"}
    h = hashlib.sha256(json.dumps(trained, sort_keys=True).encode())
    for part in ("train", "val"):
        for seq in job[part]:
            h.update(f"{part}:{seq.name}:{seq.label_kind}:{len(seq)}".encode())
            for x in (seq.q, seq.w):
                h.update(np.ascontiguousarray(x).tobytes())
    return h.hexdigest()


def _run(job: dict) -> dict:
    """Train ``job['cfg']`` on ``job['train']`` (validation ``job['val']``) into ``job['dir']`` and
    predict ``job['test']`` with the best validation checkpoint."""
    cfg = Config.from_dict(job["cfg"])
    out = Path(job["dir"])
    out.mkdir(parents=True, exist_ok=True)
    key = run_key(job)
    done = out / "run.json"
    record = json.loads(done.read_text()) if done.exists() else {}
    if record.get("key") == key and (out / "best.pt").exists():
        seconds = record.get("seconds")     # the same run, finished before
        bundle = load(out / "best.pt")
    else:
        t0 = time.perf_counter()
        bundle = train(cfg, job["train"], out_dir=out, val_sequences=job["val"] or None, log=lambda *a: None)
        seconds = round(time.perf_counter() - t0, 1)
        if (out / "best.pt").exists():
            bundle = load(out / "best.pt")
        try:
            plot_loss(out / "loss.png", out / "log.jsonl", title=out.name)
        except Exception:  # noqa: BLE001 — a plot must not fail the run
            pass
        write_json(done, dict(key=key, seconds=seconds))
    hist = read_log(out / "log.jsonl") if (out / "log.jsonl").exists() else []
    last = hist[-1] if hist else {}
    return dict(preds=predict_all(bundle, job["test"]), seconds=seconds,
                steps=last.get("step"), best_step=last.get("best_step"))


def ensemble_name(variant: str, members: int) -> str:
    """The results row of ``members`` runs of ``variant`` averaged (:func:`run_splits`)."""
    return f"{variant} (mean of {members} seeds)"


def mean_prediction(preds: Seq[dict]) -> dict:
    """The mean of several predictions (dicts of ``w``, ``JT`` arrays) of one sequence."""
    return {k: np.mean([p[k] for p in preds], axis=0) for k in preds[0]}


def run_splits(cfg, items, splits: Seq[dict], variants: Seq[str], out: Path, *, jobs: int = 2,
               log: Callable = print, parts: Optional[dict] = None, members: int = 1) -> Dict[str, list]:
    """Train every variant on every split (``jobs`` processes); returns {variant: [dict(split,
    seq, row, pred)] over all test sequences of all splits} and writes the runs under
    ``out/runs``. ``parts``: the splits' sequences (:func:`split_parts`), when already made.

    ``members`` > 1: each variant is also trained with ``train.seed`` + 1 … + ``members`` − 1
    (runs ``<variant>_<split>_seed<i>``; same subjects, other initial weights and batch order), and
    the mean of the members' predictions is a further row, :func:`ensemble_name` — an ensemble
    scored on subjects none of its members saw."""
    if members < 1:
        raise ValueError(f"members must be >= 1, got {members}")
    parts = parts if parts is not None else split_parts(cfg, items, splits)
    if cfg.data.kinematics == "consistent":
        n = sum(1 for r, _ in items if r.get("role") == "labelled" and not r.get("file_consistent"))
        if n:
            log(f"  data.kinematics=consistent: {n} labelled trials have no changed motion (dataset "
                "built with --no-kinematics?); where they train, their measured motion is used")
    todo = []
    for s in splits:
        p = parts[s["name"]]
        if not p["test"]:
            log(f"  {s['name']}: no test sequences, skipped")
            continue
        for v in variants:
            for i in range(members):
                c = cfg.to_dict()
                c["variant"] = v
                c["train"]["num_threads"] = 1
                c["train"]["seed"] = cfg.train.seed + i
                name = f"{v}_{s['name']}" + (f"_seed{i}" if i else "")
                todo.append(dict(variant=v, split=s["name"], member=i, cfg=c, train=p["train"], val=p["val"],
                                 test=p["test"], dir=str(out / "runs" / name)))
    log(f"  {len(todo)} runs ({len(variants)} variants x {len(splits)} splits"
        f"{f' x {members} seeds' if members > 1 else ''}), {jobs} at a time")
    done: Dict[tuple, dict] = {}
    t0 = time.perf_counter()

    def record(job, r):
        done[(job["variant"], job["split"], job["member"])] = r
        log(f"  [{time.perf_counter() - t0:6.0f} s] {job['variant']} {job['split']}"
            f"{' seed ' + str(job['member']) if job['member'] else ''}: {r['steps']} steps, "
            f"best at {r['best_step']}, {r['seconds']:.0f} s")

    if jobs <= 1:
        for job in todo:
            record(job, _run(job))
    else:
        with ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("spawn")) as ex:
            futures = [(job, ex.submit(_run, job)) for job in todo]
            for job, f in futures:
                record(job, f.result())
    results: Dict[str, list] = {v: [] for v in variants}
    if members > 1:
        results.update({ensemble_name(v, members): [] for v in variants})
    for job in todo:
        if job["member"]:
            continue
        v, split = job["variant"], job["split"]
        runs = [done[(v, split, j)] for j in range(members)]
        r, p = runs[0], parts[split]
        for k, (seq, row, pred) in enumerate(zip(p["test"], p["test_rows"], r["preds"])):
            entry = dict(split=split, seq=seq, row=row, seconds=r["seconds"], steps=r["steps"],
                         best_step=r["best_step"])
            results[v].append(dict(entry, pred=pred))
            if members > 1:
                results[ensemble_name(v, members)].append(dict(
                    entry, pred=mean_prediction([m["preds"][k] for m in runs]),
                    seconds=sum(m["seconds"] or 0 for m in runs)))
    return results


def split_parts(cfg, items, splits: Seq[dict]) -> Dict[str, dict]:
    """{split name: its ``train``, ``val``, ``test`` sequences and the ``train_rows``, ``test_rows``
    of the dataset index}."""
    return {s["name"]: _assign(items, s, cfg.data.kinematics) for s in splits}


def baseline_results(model, kern, parts: Dict[str, dict], *, log: Callable = print) -> Dict[str, list]:
    """{baseline label (:data:`training.baselines.BASELINES`): [dict(split, seq, row, pred)]} on
    every split's test sequences, the ``meancurve`` averaging the split's labelled training
    sequences; nothing is trained, ``seconds`` is the time the baseline took on the split."""
    out: Dict[str, list] = {}
    for name, label in BASELINES.items():
        out[label] = []
        for split, p in parts.items():
            if not p["test"]:
                continue
            t0 = time.perf_counter()
            preds = predictions_of(name, model, kern, list(zip(p["test_rows"], p["test"])),
                                   list(zip(p["train_rows"], p["train"])))
            sec = round(time.perf_counter() - t0, 1)
            out[label] += [dict(split=split, seq=seq, row=row, pred=pred, seconds=sec, steps=None, best_step=None)
                           for seq, row, pred in zip(p["test"], p["test_rows"], preds)]
        log(f"  {label}: {sum(e['seconds'] for e in {e['split']: e for e in out[label]}.values()):.0f} s "
            f"on {len(out[label])} test sequences")
    return out


# --- scoring -----------------------------------------------------------------------------------

def physics_floor(kern, seq) -> float:
    """RMS over frames of the norm of the root residual force per kg of a labelled sequence: the
    error in the total external force that the motion alone leaves (N/kg)."""
    p = np.broadcast_to(np.asarray(seq.p, float), (len(seq), len(seq.p))).copy()
    w = np.nan_to_num(np.asarray(seq.w, float))
    res = np.asarray(kern.root_residual(np.asarray(seq.q, float), np.asarray(seq.qd, float),
                                        np.asarray(seq.qdd, float), w, p))
    ok = np.isfinite(np.asarray(seq.w, float)).reshape(len(seq), -1).all(1)
    f = np.linalg.norm(res[ok, :3], axis=1) / seq.mass
    return float(np.sqrt(np.mean(f ** 2))) if len(f) else math.nan


def distribution_floor(kern, seq) -> dict:
    """The best any physics-consistent prediction (``pcnet``) can do on a labelled sequence: the
    motion's total external force (the root residual with zero contact wrenches, as ``pcnet``)
    distributed over the contacts as the measured forces are (vertical-force shares, the measured
    centres of pressure and free moments); joint torques by inverse dynamics with those wrenches.
    ``{"w", "JT"}`` like a network's prediction: its errors against the labels are what the
    motion's own inconsistency costs.

    The force the motion adds to the labels acts at the measured centre of pressure where the
    contact is in stance (vertical force above ``STANCE_N``), no farther from the contact body's
    origin than ``pcnet`` can place one (``COP_BOUND``: the disc inside its per-axis bound), and
    under the origin elsewhere: the centre of pressure of a vertical force near zero (a plate's
    noise in flight) lies arbitrarily far away, and a force there would add arbitrary torques."""
    import dataclasses
    T = len(seq)
    p = np.broadcast_to(np.asarray(seq.p, float), (T, len(seq.p))).copy()
    w = np.nan_to_num(np.asarray(seq.w, float))
    q, qd, qdd = (np.asarray(x, float) for x in (seq.q, seq.qd, seq.qdd))
    total = np.asarray(kern.root_residual(q, qd, qdd, np.zeros_like(w), p))[:, :3]
    extra = total - w[..., :3].sum(1)                                 # (T, 3) what the motion adds
    fy = np.clip(w[..., 1], 0.0, None)
    load = fy.sum(1, keepdims=True)
    share = np.where(load > 1e-9, fy / np.where(load > 1e-9, load, 1.0), 1.0 / w.shape[1])
    o = contact_origins(kern, seq)
    cop, _ = centre_of_pressure(w, o)
    arm = np.where((w[..., 1] > STANCE_N)[..., None], np.nan_to_num(cop - o), 0.0)
    arm[..., 1] = 0.0
    reach = np.linalg.norm(arm, axis=-1, keepdims=True)
    arm *= np.minimum(1.0, COP_BOUND / np.maximum(reach, 1e-12))
    arm[..., 1] = -o[..., 1]                                          # on the ground
    df = share[..., None] * extra[:, None, :]
    out = w.copy()
    out[..., :3] += df
    out[..., 3:] += np.cross(arm, df)
    tau = np.asarray(kern.inverse_dynamics(q, qd, qdd, out, p))
    return dict(w=out, JT=np.asarray(dataclasses.replace(seq, tau=tau).JT, float))


def _score(model, entries) -> dict:
    """Pooled metrics of ``entries`` (dicts with seq, pred) and per split."""
    if not entries:
        return {}
    pooled = metrics_of(model, [e["seq"] for e in entries], [e["pred"] for e in entries])["pooled"]
    per_split = {}
    for name in sorted({e["split"] for e in entries}):
        sub = [e for e in entries if e["split"] == name]
        per_split[name] = metrics_of(model, [e["seq"] for e in sub], [e["pred"] for e in sub])["pooled"]
    ef = [m.get("ef") for m in per_split.values() if m.get("ef") is not None]
    pooled["ef_split_sd"] = float(np.std(ef)) if len(ef) > 1 else None
    pooled["subjects"] = len({e["row"]["subject"] for e in entries})
    pooled["sequences"] = len(entries)
    return dict(pooled=pooled, per_split=per_split)


def population_of(row: dict) -> str:
    """The population of a dataset row (``"adults"`` where the row names none)."""
    return row.get("population") or "adults"


def groups(rows: Seq[dict]) -> List[str]:
    """The table rows for dataset rows ``rows``: ``"all"``, each activity, and ``"<activity>
    (<population>)"`` for each population of an activity that has more than one."""
    out = ["all"]
    for act in ACTIVITIES:
        out.append(act)
        pops = sorted({population_of(r) for r in rows if activity_class(r.get("activity", "")) == act})
        if len(pops) > 1:
            out += [f"{act} ({pop})" for pop in pops]
    return out


def in_group(row: dict, group: str) -> bool:
    """Whether dataset row ``row`` belongs to table row ``group`` (:func:`groups`)."""
    if group == "all":
        return True
    act, _, pop = group.partition(" (")
    return activity_class(row.get("activity", "")) == act and (not pop or population_of(row) == pop[:-1])


def score(model, results: Dict[str, list]) -> Dict[str, Dict[str, dict]]:
    """{variant: {"all" | activity | "activity (population)": score}} of :func:`run_splits`'
    results (:func:`groups`)."""
    out = {}
    for v, entries in results.items():
        out[v] = {g: _score(model, [e for e in entries if in_group(e["row"], g)])
                  for g in groups([e["row"] for e in entries])}
    return out


def floors(kern, items, subjects: Seq[str]) -> Dict[str, Optional[float]]:
    """Pooled physics floor (N/kg) of the labelled sequences of ``subjects``: all, per activity and
    per activity and population (:func:`groups`)."""
    subjects = set(subjects)
    rows = [(r, seq) for r, seq in items if r.get("role") == "labelled" and r["subject"] in subjects]
    acc: Dict[str, list] = {g: [] for g in groups([r for r, _ in rows])}
    for r, seq in rows:
        f = physics_floor(kern, seq)
        if math.isfinite(f):
            for g in acc:
                if in_group(r, g):
                    acc[g].append((f, len(seq)))
    return {k: float(np.sqrt(sum(f * f * n for f, n in v) / sum(n for _, n in v))) if v else None
            for k, v in acc.items()}


def _table(scores, floor) -> str:
    head = "| variant | activity | subjects | " + " | ".join(h for _, h in TABLE) + " | εf sd over splits |"
    lines = [head, "|" + "---|" * (len(TABLE) + 4)]
    for v, by in scores.items():
        for act in by:
            m = (by.get(act) or {}).get("pooled")
            if not m:
                continue
            lines.append(f"| {v} | {act} | {m['subjects']} | " +
                         " | ".join(format_value(m.get(k)) for k, _ in TABLE) +
                         f" | {format_value(m.get('ef_split_sd'))} |")
    lines += ["", "Physics floor (root residual force with the measured wrenches, RMS of its norm, N/kg): " +
              ", ".join(f"{k} {format_value(x)}" for k, x in floor.items())]
    return "\n".join(lines)


def _plots(out: Path, results, variants) -> List[str]:
    names = []
    for act in ACTIVITIES:
        first = {v: next((e for e in results[v] if activity_class(e["row"].get("activity", "")) == act), None)
                 for v in variants}
        ref = next((e for e in first.values() if e is not None), None)
        if ref is None:
            continue
        preds = {v: e["pred"]["w"] for v, e in first.items() if e is not None and e["seq"].name == ref["seq"].name}
        name = f"grf_{act}.png"
        plot_grf(out / name, ref["seq"], preds, title=f"{ref['seq'].name} ({act}, held-out subject "
                                                      f"{ref['row']['subject']}): vertical GRF")
        names.append(name)
    return names


def _experiment(title: str, intro: str, cfg, items, splits, out: Path, variants, jobs, log, members: int = 1) -> dict:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    model = symgait.load_model(cfg.model)
    kern = symgait.kernels(model)
    for s in splits:
        log(f"  {s['name']}: test {len(s['test'])} subjects, validation {len(s['val'])}")
    nets = [v for v in variants if v not in BASELINES]        # the baselines are always scored
    parts = split_parts(cfg, items, splits)
    results = run_splits(cfg, items, splits, nets, out, jobs=jobs, log=log, parts=parts, members=members) if nets else {}
    results.update(baseline_results(model, kern, parts, log=log))
    shown = list(results)
    results[FLOOR] = [dict(e, pred=distribution_floor(kern, e["seq"])) for e in results[BASELINES["zmp"]]]
    scores = score(model, results)
    tested = sorted({e["row"]["subject"] for es in results.values() for e in es})
    floor = floors(kern, items, tested)
    plots = _plots(out, results, shown)
    md = [f"# {title}", "", intro, "", _table(scores, floor), ""] + [f"![{p}]({p})" for p in plots] + \
         ["", "Splits (test / validation subjects):", ""] + \
         [f"* {s['name']}: test {', '.join(s['test'])}; validation {', '.join(s['val']) or '–'}" for s in splits]
    seconds = {v: sorted({(e["split"], e["seconds"]) for e in es}) for v, es in results.items()}
    rows = {f"{v} {act}": (scores[v].get(act) or {}).get("pooled") for v in results
            for act in scores[v]}
    res = dict(splits=splits, floor=floor, seconds=seconds,
               per_sequence={v: [dict(split=e["split"], name=e["seq"].name, subject=e["row"]["subject"],
                                      activity=activity_class(e["row"].get("activity", "")),
                                      population=population_of(e["row"]),
                                      best_step=e["best_step"], steps=e["steps"]) for e in es]
                             for v, es in results.items()},
               scores={v: {a: (s or {}).get("per_split") for a, s in by.items()} for v, by in scores.items()})
    for v in shown:
        m = (scores[v].get("all") or {}).get("pooled") or {}
        log(f"  {v}: " + ", ".join(f"{h} {format_value(m.get(k))}" for k, h in TABLE[:1] + TABLE[7:8]))
    return dict(rows=rows, results=res, markdown="\n".join(md))


def reduced_splits(items, fractions: Seq[float], *, folds: int = 5, val_fraction: float = 0.2,
                   seed: int = 0) -> List[dict]:
    """Fold 0 of :func:`kfold_splits` once per fraction ``f``: labels kept on a seeded ``f`` of
    the training subjects (at least one), the others' sequences motion-only (``unlabel``)."""
    base = kfold_splits(items, folds, val_fraction=val_fraction, seed=seed)[0]
    held = set(base["test"]) | set(base["val"])
    train = sorted(s for s in _subject_activity(items) if s not in held)
    order = [train[i] for i in np.random.default_rng(seed + 100).permutation(len(train))]
    out = []
    for f in fractions:
        if not 0 < f <= 1:
            raise ValueError(f"labelled fractions must be in (0, 1], got {f}")
        keep = max(1, int(round(f * len(train))))
        out.append(dict(base, name=f"labels{int(round(100 * f))}", fraction=f, unlabel=sorted(order[keep:]),
                        labelled_subjects=keep, training_subjects=len(train)))
    return out


def reduced_subjects_experiment(cfg, items, out: Path, *, fractions: Seq[float] = (1.0, 0.5, 0.25, 0.1),
                                variants: Seq[str] = ("baseline", "fnet"), jobs: int = 2, seed: int = 0,
                                log: Callable = print) -> dict:
    """Labels on a fraction of the training subjects (Zell et al. (2020)'s reduced-label setting,
    by subject), the rest of their trials motion-only; tested on fold 0's subjects."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    model = symgait.load_model(cfg.model)
    splits = reduced_splits(items, fractions, val_fraction=cfg.data.val_fraction, seed=seed)
    results = run_splits(cfg, items, splits, variants, out, jobs=jobs, log=log)
    rows, per = {}, {}
    for sp in splits:
        for v in variants:
            es = [e for e in results[v] if e["split"] == sp["name"]]
            sc = {a: _score(model, [e for e in es if a == "all" or
                                    activity_class(e["row"].get("activity", "")) == a])
                  for a in ("all",) + ACTIVITIES}
            for a, x in sc.items():
                if x:
                    rows[f"{v} {100 * sp['fraction']:g} % {a}"] = dict(x["pooled"], labelled_subjects=sp["labelled_subjects"])
            per[f"{v} {sp['name']}"] = {a: (x or {}).get("pooled") for a, x in sc.items()}
    head = "| run | activity | labelled training subjects | " + " | ".join(h for _, h in TABLE) + " |"
    lines = [head, "|" + "---|" * (len(TABLE) + 3)]
    for k, m in rows.items():
        name, act = k.rsplit(" ", 1)
        lines.append(f"| {name} | {act} | {m['labelled_subjects']}/{splits[0]['training_subjects']} | " +
                     " | ".join(format_value(m.get(key)) for key, _ in TABLE) + " |")
    md = ["# Reduced labels, by subject", "",
          f"Test and validation subjects: fold 0 of the subject k-fold ({len(splits[0]['test'])} test, "
          f"{len(splits[0]['val'])} validation subjects); labels kept on a seeded fraction of the "
          f"{splits[0]['training_subjects']} training subjects, every trial of the others motion-only.", "",
          "\n".join(lines), ""]
    return dict(rows=rows, results=dict(splits=splits, scores=per), markdown="\n".join(md))


def kfold_experiment(cfg, items, out: Path, *, folds: int = 5, variants: Seq[str] = VARIANTS,
                     jobs: int = 2, seed: int = 0, members: int = 1, log: Callable = print) -> dict:
    """k-fold over subjects (module docstring); ``members``: seeds per variant (:func:`run_splits`)."""
    splits = kfold_splits(items, folds, val_fraction=cfg.data.val_fraction, seed=seed)
    intro = (f"{folds}-fold cross-validation over the labelled subjects (walkers and runners dealt evenly); "
             f"each subject tested once by a network that never saw it; validation subjects choose "
             f"best.pt and stop training. Config: variant per row, otherwise `{json.dumps(cfg.to_dict())}`.")
    return _experiment("Subject-wise k-fold", intro, cfg, items, splits, out, variants, jobs, log, members)


def unseen_lab_experiment(cfg, items, out: Path, *, train_labs: Seq[str] = TRAIN_LABS,
                          variants: Seq[str] = VARIANTS, jobs: int = 2, seed: int = 0, members: int = 1,
                          log: Callable = print) -> dict:
    """Train on ``train_labs``, test on every other lab's labelled subjects."""
    splits = lab_splits(items, train_labs, val_fraction=cfg.data.val_fraction, seed=seed)
    intro = (f"Trained and validated on the subjects of {', '.join(train_labs)}; tested on every labelled "
             f"subject of the other labs. Config: variant per row, otherwise `{json.dumps(cfg.to_dict())}`.")
    return _experiment("Unseen labs", intro, cfg, items, splits, out, variants, jobs, log, members)
