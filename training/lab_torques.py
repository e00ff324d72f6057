"""Joint torques scored against OpenSim's inverse dynamics on each lab's own model, and each lab
model's physics floor beside gait3d's.

    python -m training experiment lab-torques --data DATASET --kfold RUN_DIR --out DIR

``DATASET``: a dataset built by ``python -m training dataset``; ``RUN_DIR``: the output folder of
``python -m training experiment kfold`` on it (``runs/<variant>_fold<i>/best.pt``).

The reference (:mod:`symgait.datasets.lab_reference`): OpenSim 4.6's InverseDynamicsTool on the
lab's scaled model with the lab's kinematics (its IK result, or OpenSim's IK on its markers) and
the measured forces. Every labelled trial whose lab ships a model of the subject is scored on the
frames of the dataset's sequence at the training rate (60 Hz) whose time stamps lie within the
reference's time range, less half a period of the 6 Hz cut-off at each end where OpenSim's filter
padding shapes the accelerations (:func:`symgait.datasets.lab_reference.scored_frames`), with the
loads complete. Both are on the lab files' own clock (the dataset keeps the trial's time stamps
through its resampling; the reference is interpolated at them by a cubic spline), and
:func:`lag_frames` checks it: the shift that best lines up the lab's knee angle with gait3d's.
The rows, all on exactly the same frames:

* ``pcnet`` and ``baseline network``: the k-fold test predictions, each trial predicted by the one
  fold model whose checkpoint records neither its subject nor its data
  (:func:`training.provenance.seen_role`);
* ``gait3d ID (labels)``: gait3d's inverse dynamics with the measured plates on the dataset's
  kinematics, what the networks' torque labels are: the model-and-kinematics floor of our torques;
* ``ZMP (physics only)``: :mod:`training.baselines`' zero-moment-point baseline.

Coordinates: hip flexion, knee angle, ankle angle (sagittal), hip adduction, hip rotation and
subtalar angle, OpenSim's names in both models, left and right pooled. The sign of each lab
coordinate against gait3d's is measured, not assumed, once per lab model (a source and its set of
coordinates) over all its trials and both sides (:func:`signs`: the correlation of the two angle
curves; for a coordinate the lab's IK holds fixed, such as the subtalar joint of the
Rajagopal-type models, of the torques instead), and the reference torque multiplied by it: a knee
that flexes positive in the lab's model has a knee moment of the opposite sign. Errors are RMSE per
kg (the dataset's subject mass) over the pooled frames and sides, and the same in % of the
reference's range (max − min per trial and side, averaged over them weighted by frames).

The own-model floor (:func:`symgait.datasets.lab_reference.lab_floor_rows`): the root residual
force of the lab's model (OpenSim's ``pelvis_tx/ty/tz`` generalized forces) beside gait3d's with
the measured wrenches, on the same trials and frames of the built sequences (their own rate).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence as Seq, Tuple

import numpy as np

from symgait.datasets.discover import activity_class
from symgait.datasets.lab_reference import (at_times, lab_files, lab_floor_rows, lab_floor_table, pool_floor,
                                            reference, scored_frames)
from symgait.errors import InputError
from symgait.paths import default_data_dir
import symgait
from .baselines import zmp_prediction
from .checkpoint import load
from .evaluate import predict_all
from .provenance import seen_role

__all__ = ["COORDINATES", "ROWS", "fold_models", "pick_model", "sign_evidence", "signs", "lag_frames", "trial_errors",
           "label_errors", "pool", "torque_table", "lab_torques_experiment"]

# (OpenSim coordinate without side, heading); the first three are sagittal
COORDINATES = (("hip_flexion", "hip flexion"), ("knee_angle", "knee angle"), ("ankle_angle", "ankle angle"),
               ("hip_adduction", "hip adduction"), ("hip_rotation", "hip rotation"), ("subtalar_angle", "subtalar"))
NETS = (("pcnet", "pcnet"), ("baseline", "baseline network"))
LABELS = "gait3d ID, measured plates (labels)"
ZMP = "ZMP (physics only)"
ROWS = tuple(label for _, label in NETS) + (LABELS, ZMP)
_LOCKED_DEG = 0.5          # an angle curve with less spread than this (deg) is held fixed by the lab's IK


def fold_models(run_dir, variant: str) -> List[Tuple[Path, object]]:
    """``[(checkpoint, Bundle)]`` of ``run_dir/runs/<variant>_fold*/best.pt``."""
    paths = sorted(Path(run_dir).glob(f"runs/{variant}_fold*/best.pt"))
    if not paths:
        raise InputError(f"{run_dir}: no runs/{variant}_fold*/best.pt; give the --out folder of "
                         f"`python -m training experiment kfold --variants {variant},...`")
    return [(p, load(p)) for p in paths]


def pick_model(models: Seq[Tuple[Path, object]], seq):
    """The one model of ``models`` that never saw ``seq`` (its subject, its file or its motion),
    by the subjects and trials its checkpoint records; an error when none or several did not."""
    unseen = [(p, b) for p, b in models if b.seen and seen_role(b.seen, seq) is None]
    if len(unseen) != 1:
        raise InputError(f"{seq.name} ({seq.subject}): {len(unseen)} of the {len(models)} fold models never "
                         f"saw it ({[str(p) for p, _ in unseen]}); a k-fold over subjects has exactly one")
    return unseen[0]


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a - a.mean(), b - b.mean()
    d = float(np.sqrt(np.sum(a * a) * np.sum(b * b)))
    return float(np.sum(a * b) / d) if d > 0 else 0.0


def sign_evidence(ref, seq, idx: np.ndarray, labels_jt: np.ndarray) -> Dict[str, dict]:
    """{coordinate without side: {"angle": [(lab, gait3d)], "torque": [(lab, gait3d)]}} over the
    frames ``idx`` of ``seq`` and both sides: the lab model's coordinate and gait3d's (radians),
    the reference torque and gait3d's (``labels_jt``, the actuated torques at those frames)."""
    t = np.asarray(seq.time)[idx]
    out: Dict[str, dict] = {}
    for c, _ in COORDINATES:
        for s in ("r", "l"):
            name = f"{c}_{s}"
            if name not in ref.names or name not in seq.coordinates:
                continue
            e = out.setdefault(c, dict(angle=[], torque=[]))
            e["angle"].append((at_times(ref, ref.angle(name), t),
                               np.asarray(seq.q)[idx, list(seq.coordinates).index(name)]))
            e["torque"].append((at_times(ref, ref.column(name), t), labels_jt[:, list(seq.actuated).index(name)]))
    return out


def _pooled_corr(pairs) -> float:
    """Correlation over several curve pairs, each centred on its own mean."""
    a = [x - x.mean() for x, _ in pairs]
    b = [y - y.mean() for _, y in pairs]
    d = float(np.sqrt(sum(np.sum(x * x) for x in a) * sum(np.sum(y * y) for y in b)))
    return float(sum(np.sum(x * y) for x, y in zip(a, b)) / d) if d > 0 else 0.0


def signs(evidence: Seq[Dict[str, dict]]) -> Dict[str, Tuple[int, float, str]]:
    """{coordinate without side: (sign, correlation, "angle" | "torque")} of one lab model (the
    :func:`sign_evidence` of its trials, both sides pooled; a left coordinate of an OpenSim model
    means the mirror of the right one, as in gait3d): the sign that maps the lab model's coordinate
    onto gait3d's, from the correlation of the angle curves, or, where the lab's IK holds the
    coordinate fixed (its angle spreads less than 0.5°), of the torques."""
    out = {}
    for c, _ in COORDINATES:
        ev = [e[c] for e in evidence if c in e]
        if not ev:
            continue
        ang = [p for e in ev for p in e["angle"]]
        if max(np.degrees(np.ptp(x)) for x, _ in ang) > _LOCKED_DEG:
            r, how = _pooled_corr(ang), "angle"
        else:
            r, how = _pooled_corr([p for e in ev for p in e["torque"]]), "torque"
        out[c] = (1 if r >= 0 else -1, r, how)
    return out


def lag_frames(ref, seq, coordinate: str = "knee_angle_r", max_lag: int = 6) -> int:
    """The shift (frames of ``seq``, −``max_lag``…``max_lag``) that best lines up the lab's
    ``coordinate`` curve with gait3d's over the shared frames (absolute correlation): 0 when both
    are on one clock."""
    t = np.asarray(seq.time, float)
    dt = 1.0 / float(seq.rate)
    j = list(seq.coordinates).index(coordinate)
    best, lag = -1.0, 0
    for k in range(-max_lag, max_lag + 1):
        ts = t + k * dt
        sel = (ts >= ref.time[0]) & (ts <= ref.time[-1])
        if sel.sum() < 10:
            continue
        r = abs(_corr(at_times(ref, ref.angle(coordinate), ts[sel]), np.asarray(seq.q)[sel, j]))
        if r > best:
            best, lag = r, k
    return lag


def trial_errors(ref, seq, preds: Dict[str, np.ndarray], idx: np.ndarray, sgn: Dict[str, tuple]) -> dict:
    """Per row of ``preds`` ({row: joint torques (T, n_actuated), N·m}) and coordinate: the sum of
    squared errors per kg against the reference over the frames ``idx`` of ``seq``, both sides,
    their count and the reference's range per side (per kg); ``sgn``: :func:`signs` of the lab
    model, by which the reference is multiplied."""
    t = np.asarray(seq.time)[idx]
    act = list(seq.actuated)
    out = {row: {} for row in preds}
    ranges = {}
    for c, _ in COORDINATES:
        names = [f"{c}_{s}" for s in ("r", "l") if f"{c}_{s}" in ref.names and f"{c}_{s}" in act]
        if not names or c not in sgn:
            continue
        refs = {n: sgn[c][0] * at_times(ref, ref.column(n), t) / seq.mass for n in names}
        ranges[c] = [float(np.ptp(refs[n])) for n in names]
        for row, jt in preds.items():
            sq = sum(float(np.sum((jt[idx, act.index(n)] / seq.mass - refs[n]) ** 2)) for n in names)
            out[row][c] = (sq, idx.size * len(names))
    return dict(errors=out, ranges=ranges, frames=int(idx.size))


def label_errors(seq, preds: Dict[str, np.ndarray], idx: np.ndarray) -> Dict[str, float]:
    """{row: (sum of squared errors per kg, count)} of each network row against gait3d's torque
    labels over the frames ``idx`` and the six coordinates, both sides: the usual ετ restricted to
    the frames and joints of the table."""
    act = list(seq.actuated)
    cols = [act.index(f"{c}_{s}") for c, _ in COORDINATES for s in ("r", "l") if f"{c}_{s}" in act]
    lab = preds[LABELS][np.ix_(idx, cols)] / seq.mass
    return {label: (float(np.sum((preds[label][np.ix_(idx, cols)] / seq.mass - lab) ** 2)), lab.size)
            for _, label in NETS}


def pool(trials: Seq[dict]) -> Dict[str, Dict[str, dict]]:
    """{row: {coordinate: dict(rmse, percent, n, range, sq)}} over ``trials`` (:func:`trial_errors`
    results): RMSE over all their frames and sides; % of the frame-weighted mean range; ``"all"``:
    the RMSE over the six coordinates together."""
    out: Dict[str, Dict[str, dict]] = {}
    for row in ROWS:
        out[row] = {}
        for c, _ in COORDINATES:
            have = [tr for tr in trials if c in tr["errors"].get(row, {})]
            if not have:
                continue
            sq = sum(tr["errors"][row][c][0] for tr in have)
            n = sum(tr["errors"][row][c][1] for tr in have)
            rng = sum(sum(tr["ranges"][c]) * tr["frames"] for tr in have) / sum(len(tr["ranges"][c]) * tr["frames"]
                                                                              for tr in have)
            rmse = float(np.sqrt(sq / n))
            out[row][c] = dict(rmse=rmse, percent=100.0 * rmse / rng, n=n, range=rng, sq=sq)
        got = [out[row][c] for c, _ in COORDINATES if c in out[row]]
        if got:
            out[row]["all"] = dict(rmse=float(np.sqrt(sum(g["sq"] for g in got) / sum(g["n"] for g in got))),
                                   n=sum(g["n"] for g in got))
    return out


def torque_table(trials: Seq[dict]) -> str:
    """Markdown: per activity and source (and all sources), per row the RMSE (N·m/kg) and % of the
    reference's range of each coordinate, and the RMSE over the six together."""
    head = ("| activity | source | trials | frames | row | " + " | ".join(h for _, h in COORDINATES) +
            " | all six (networks: against the labels) |")
    lines = [head, "|" + "---|" * (6 + len(COORDINATES))]
    for act in ("walking", "running"):
        sub = [t for t in trials if t["activity"] == act]
        groups = [(s, [t for t in sub if t["source"] == s]) for s in sorted({t["source"] for t in sub})]
        if len(groups) > 1:
            groups.append((f"**all {act}**", sub))
        for src, ts in groups:
            if not ts:
                continue
            p = pool(ts)
            for row in ROWS:
                cells = [f"{p[row][c]['rmse']:.3f} ({p[row][c]['percent']:.0f} %)" if c in p[row] else "–"
                         for c, _ in COORDINATES]
                six = f"{p[row]['all']['rmse']:.3f}" if "all" in p[row] else "–"
                if row in dict(NETS).values():
                    sq = sum(t["against_labels"][row][0] for t in ts)
                    n = sum(t["against_labels"][row][1] for t in ts)
                    six += f" ({np.sqrt(sq / n):.3f})"
                lines.append(f"| {act} | {src} | {len(ts)} | {sum(t['frames'] for t in ts)} | {row} | "
                             + " | ".join(cells) + f" | {six} |")
    return "\n".join(lines)


def _data_root(items) -> Tuple[Path, Optional[str]]:
    """The raw data folder of the dataset of ``items`` (the one its build recorded, else the default
    data folder) and the recorded name (the prefix of its rows' file names)."""
    r = items[0][0]
    idx = json.loads((Path(r["dataset"]) / "index.json").read_text())
    p = Path(idx.get("data", ""))
    return (p if p.is_dir() else default_data_dir()), idx.get("data")


def lab_torques_experiment(cfg, items, out: Path, *, kfold=None, data_root=None, cache_dir=None,
                           log: Callable = print) -> dict:
    """The torque table and the own-model floor table (module docstring) into ``out``;
    ``items``: the dataset's ``[(index row, Sequence)]`` at the training rate
    (:func:`training.protocol.experiment_items`), ``kfold``: the k-fold run folder."""
    if kfold is None:
        raise InputError("lab-torques needs --kfold RUN_DIR: the --out folder of `python -m training experiment "
                         "kfold` on the same dataset (its runs/<variant>_fold<i>/best.pt predict the trials)")
    if not items or "dataset" not in items[0][0]:
        raise InputError("lab-torques needs a built dataset (--data DATASET written by `python -m training dataset`), "
                         "not the synthetic set")
    root, index_data = _data_root(items)
    root = Path(data_root) if data_root is not None else root
    model = symgait.load_model(cfg.model)
    kern = symgait.kernels(model)
    models = {v: fold_models(kfold, v) for v, _ in NETS}
    todo, skipped = [], []
    for r, seq in items:
        if r.get("role") != "labelled":
            continue
        files, why = lab_files(r, root, index_data)
        if files is None:
            skipped.append(dict(trial=r["name"], source=r["source"], reason=why))
            continue
        ref = reference(files, cache_dir=cache_dir, log=log)
        idx = scored_frames(ref, seq.time)
        if idx.size < 2:
            skipped.append(dict(trial=r["name"], source=r["source"], reason="no frame within the reference"))
            continue
        preds, chosen = {}, {}
        for v, label in NETS:
            path, bundle = pick_model(models[v], seq)
            preds[label] = predict_all(bundle, [seq])[0]["JT"]
            chosen[label] = path.parent.name
        preds[LABELS] = np.asarray(seq.JT, float)
        preds[ZMP] = np.asarray(zmp_prediction(model, kern, seq)["JT"], float)
        todo.append((r, seq, ref, idx, preds, chosen, sign_evidence(ref, seq, idx, preds[LABELS][idx])))
    # one sign per coordinate of each lab model (its source and its coordinates), over all its trials
    family = {}
    for r, seq, ref, idx, preds, chosen, ev in todo:
        family.setdefault((r["source"], ref.names), []).append(ev)
    model_signs = {k: signs(v) for k, v in family.items()}
    trials = []
    for r, seq, ref, idx, preds, chosen, ev in todo:
        sgn = model_signs[(r["source"], ref.names)]
        res = trial_errors(ref, seq, preds, idx, sgn)
        res["against_labels"] = label_errors(seq, preds, idx)
        res.update(trial=r["name"], source=r["source"], subject=r["subject"],
                   activity=activity_class(r.get("activity", "")), models=chosen, lag=lag_frames(ref, seq),
                   signs={k: list(v) for k, v in sgn.items()}, model=Path(ref.files["model"]).name,
                   t0=float(seq.time[idx[0]]), t1=float(seq.time[idx[-1]]), kinematics=ref.kinematics,
                   notes=ref.notes)
        trials.append(res)
        log(f"  {r['name']}: {idx.size} frames, lag {res['lag']} frames, models {chosen}")
    floor_rows, floor_skipped = lab_floor_rows(Path(items[0][0]["dataset"]), data_root=root, model=model, kern=kern,
                                               cache_dir=cache_dir, log=log)
    md = ["# Joint torques against OpenSim on each lab's own model", "",
          "RMSE per kg (N·m/kg) of each row's joint torques against OpenSim's InverseDynamicsTool on the lab's "
          "scaled model with the measured forces (in brackets: % of the reference's range), left and right "
          "pooled, on the same frames for every row.", "", torque_table(trials), "",
          "## Own model vs gait3d floor per source", "",
          "Root residual force with the measured forces, RMS per frame per kg (N/kg): vertical / AP / ML / 3-D.",
          "", lab_floor_table(floor_rows), "", "Trials without a reference:", ""]
    md += [f"* {s['source']} {s['trial']}: {s['reason']}" for s in skipped]
    rows = {f"{act} {src} {row}": v for act in ("walking", "running")
            for src in sorted({t["source"] for t in trials if t["activity"] == act}) + ["all"]
            for row, v in pool([t for t in trials if t["activity"] == act and src in ("all", t["source"])]).items()}
    floors = {f"{a} {s}": e for (a, s), e in pool_floor(floor_rows).items()}
    return dict(rows=rows, results=dict(trials=trials, skipped=skipped, floor=floor_rows, floor_pooled=floors,
                                        floor_skipped=floor_skipped),
                markdown="\n".join(md))
