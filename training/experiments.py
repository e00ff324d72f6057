"""The experiments of Zell et al. (2020) on our data: angle noise (table B2), reduced labels, domain transfer.

    python -m training experiment {noise,reduced,transfer} [--data DIR] --out DIR
                                  [--config CFG] [--set key=value ...] [--tiny]

Each writes ``results.md`` (markdown table), ``metrics.json`` and plots into ``--out``; every
trained model lives in a sub-folder (``runs/<name>``: checkpoint, ``log.jsonl``, loss plot).

* ``noise``: Gaussian noise σ ∈ {0.3, 0.6, 1.1, 2.3}° on the joint angles of the training and
  test motion (:func:`training.data.with_angle_noise`; cFI-net also gets contact-label noise:
  10 % of the labels chosen, each flipped with probability 50 %), F-net and cFI-net; columns as
  Zell et al. (2020)'s table B2 with its F-net figures beside ours.
* ``reduced``: labels kept on 100/50/25/10 % of the labelled training frames
  (:func:`training.data.reduce_labels`, 1 s chunks), the rest motion-only; baseline vs F-net.
* ``transfer``: labels from all force-plate trials, CMU motion-only walking in training; the
  vertical GRF predicted on a held-out CMU trial by baseline and F-net (plot), with the left/right
  symmetry of the prediction (correlation of the right foot's force with the left's shifted by
  half a gait cycle, peak ratio) and the mean |Fy| where the kinematic contact label says the
  foot is in the air (Zell et al. (2020), appendix C).

Data: ``--data DIR`` (default ``../shared/data`` / ``$SYMGAIT_DATA``): the dataset of that folder
(built once into the user cache, :func:`training.data.dataset_dir_for`) resampled to 60 Hz and split
by subject (:func:`training.data.load_dataset`); ``kfold``, ``unseen-lab`` and ``reduced-subjects``
are :mod:`training.protocol`'s; ``lab-torques`` (:mod:`training.lab_torques`) scores the k-fold
test predictions of ``--kfold RUN_DIR`` against OpenSim's inverse dynamics on each lab's own model.
``--tiny``: the same code on the built-in synthetic set (planar) with the ``tiny`` config and a
handful of steps: a smoke test that needs no data (numbers meaningless).
"""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Callable, Dict, Sequence as Seq

import numpy as np

from symgait.atomic import atomic_write, write_text
from .evaluate import COLS, REAL_RATE, format_value, evaluate, markdown_table, predict_all, write_json
from .metrics import G, PAPER_B2, symmetry_metrics
from .data import (dataset_dir_for, load_dataset, reduce_labels, synthetic_set, with_angle_noise, with_contact_label_noise,
                   without_subjects)
from .config import load_config
from .checkpoint import load
from .plots import plot_grf, plot_loss
from .trainer import train
import symgait
from .protocol import kfold_experiment, reduced_subjects_experiment, unseen_lab_experiment
from .lab_torques import lab_torques_experiment
from . import protocol

__all__ = ["run_experiment", "noise_experiment", "reduced_experiment",
           "transfer_experiment", "get_data", "SIGMAS", "FRACTIONS"]

SIGMAS = (0.3, 0.6, 1.1, 2.3)
FRACTIONS = (1.0, 0.5, 0.25, 0.1)
PAPER_NOTE = ("Zell, Rosenhahn & Wandt (ECCV 2020, table B2), F-net: σ = 0.3° → εf 0.626 N/kg "
             "(rRMSE 14.9 %), εm 0.058 N·m/kg (22.4 %), ετ 0.062 N·m/kg; σ = 2.3° → 1.096 / 0.073 / "
             "0.092.  cFI-net: figures not available here; Zell et al. report it slightly less robust "
             "on GRF than F-net.  Their data (their own force-plate set) differ from ours.")


# --- data and config ---------------------------------------------------------------------------

def get_data(tiny: bool, data_dir=None, model: str = "planar", *, log=print, cfg=None) -> Dict[str, list]:
    """``dict(train, val, test, motion_only, info)``: the synthetic set (``tiny``) or the dataset of
    ``data_dir`` (:func:`training.data.dataset_dir_for`) split by subject (a seeded fifth of the
    labelled subjects for test, a fifth of the rest for validation), with the config ``cfg``'s
    ``data.kinematics`` for the training subjects and its ``data.exclude_subjects`` left out."""
    if tiny:
        return synthetic_set(model, n_train=2, n_test=1, n_motion=2, seconds=1.5, rate=100.0, seed=0)
    kw = dict(train_kinematics=cfg.data.kinematics, exclude_subjects=cfg.data.exclude_subjects) if cfg else {}
    d = load_dataset(dataset_dir_for(data_dir, log=log), model=model, rate=REAL_RATE, log=log, **kw)
    if not d["train"] or not d["test"]:
        raise RuntimeError(f"real data incomplete under {data_dir}: train {len(d['train'])}, "
                           f"test {len(d['test'])} trials (use --tiny to run without data)")
    return d


def base_config(config=None, overrides: Seq[str] = (), tiny: bool = False):
    if tiny:
        ov = ["train.steps=4", "train.log_every=2", "train.ckpt_every=100", "data.window=12",
              "data.stride=6", "loss.horizon=4"] + list(overrides)
        return load_config(config or "tiny", ov)
    return load_config(config, list(overrides))


def _with(cfg, **kw):
    """A copy of ``cfg`` with top-level fields replaced (``variant=...``)."""
    import copy
    c = copy.deepcopy(cfg)
    for k, v in kw.items():
        setattr(c, k, v)
    return c.validate() if hasattr(c, "validate") else c


def _train(cfg, seqs, run_dir: Path, log: Callable, val=None):
    """Train into ``run_dir``; with validation sequences ``val`` the returned network is the one of
    ``best.pt`` (chosen on them, with early stopping per ``train.patience``)."""
    run_dir.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    n_lab = sum(len(s) for s in seqs if s.label_kind != "none")
    n_all = sum(len(s) for s in seqs)
    log(f"[{run_dir.name}] train {cfg.variant}: {len(seqs)} sequences, {n_lab}/{n_all} labelled frames, "
        f"{cfg.train.steps} steps")
    bundle = train(cfg, list(seqs), out_dir=run_dir, log=lambda *a: None, val_sequences=list(val or []) or None)
    sec = time.perf_counter() - t0
    if val and (run_dir / "best.pt").exists():
        bundle = load(run_dir / "best.pt")
    lj = run_dir / "log.jsonl"
    if lj.exists():
        try:
            plot_loss(run_dir / "loss.png", lj, title=run_dir.name)
        except Exception as e:  # noqa: BLE001 — a plot must not fail the experiment
            log(f"  (loss plot failed: {e})")
    return bundle, sec


def _row(m: dict, **extra) -> dict:
    r = {k: m.get(k) for k, _ in COLS}
    r.update(extra)
    return r


# --- experiments -------------------------------------------------------------------------------

def noise_experiment(cfg, data, out: Path, *, sigmas=SIGMAS, variants=("fnet", "cfinet"),
                     seed: int = 0, log=print) -> dict:
    model = symgait.load_model(cfg.model)
    rows, res = {}, []
    train_all = list(data["train"]) + list(data["motion_only"])
    for si, sigma in enumerate(sigmas):
        tr = with_angle_noise(train_all, sigma, seed=1000 + si, model=model)
        te = with_angle_noise(data["test"], sigma, seed=2000 + si, model=model)
        va = with_angle_noise(data.get("val") or [], sigma, seed=5000 + si, model=model)
        for v in variants:
            trv, tev, vav = tr, te, va
            if v == "cfinet":
                trv = with_contact_label_noise(tr, seed=3000 + si)
                tev = with_contact_label_noise(te, seed=4000 + si)
                vav = with_contact_label_noise(va, seed=6000 + si)
            name = f"{v}_sigma{sigma:g}"
            bundle, sec = _train(_with(cfg, variant=v), trv, out / "runs" / name, log, val=vav)
            preds = predict_all(bundle, tev)
            ev = evaluate(bundle, tev, predictions=preds)
            m = ev["pooled"]
            ref = PAPER_B2.get(sigma, {}) if v == "fnet" else {}
            label = f"{v} σ={sigma:g}°"
            rows[label] = _row(m, paper_ef=ref.get("ef"), paper_rf=ref.get("rf"), paper_em=ref.get("em"),
                               paper_rm=ref.get("rm"), paper_et=ref.get("et"))
            res.append(dict(variant=v, sigma=sigma, metrics=m, per_sequence=ev["per_sequence"],
                            seconds=round(sec, 1)))
            if tev:
                plot_grf(out / f"grf_{name}.png", tev[0], {v: preds[0]["w"]},
                         title=f"{tev[0].name}, σ = {sigma:g}°: {v} vs labels")
            log(f"  {label}: " + ", ".join(f"{h} {format_value(m.get(k))}" for k, h in COLS))
    _plot_curves(out / "noise.png", res, "sigma", "angle noise σ (°)", "variant")
    cols = COLS + (("paper_ef", "paper εf"), ("paper_rf", "paper rRMSE f"), ("paper_em", "paper εm"),
                   ("paper_rm", "paper rRMSE m"), ("paper_et", "paper ετ"))
    md = ["# Angle-noise robustness (seed table B2)", "",
          "Gaussian noise on the joint angles (root rotations excluded) of training and test motion; "
          "velocities/accelerations recomputed from the noisy angles; labels noise-free. cFI-net "
          "also gets contact-label noise (10 % of labels chosen, flipped with p = 0.5).", "",
          markdown_table(rows, cols, "run"), "", PAPER_NOTE, "", "![noise](noise.png)", ""]
    return dict(rows=rows, results=res, markdown="\n".join(md))


def reduced_experiment(cfg, data, out: Path, *, fractions=FRACTIONS, variants=("baseline", "fnet"),
                       seed: int = 0, log=print) -> dict:
    rows, res = {}, []
    for f in fractions:
        tr = reduce_labels(data["train"], f, seed=seed, min_chunk_frames=cfg.data.window)
        n_lab = sum(len(s) for s in tr if s.label_kind != "none")
        n_tot = sum(len(s) for s in tr)
        tr = tr + list(data["motion_only"])
        for v in variants:
            name = f"{v}_labels{int(round(100 * f))}"
            bundle, sec = _train(_with(cfg, variant=v), tr, out / "runs" / name, log, val=data.get("val"))
            ev = evaluate(bundle, data["test"])
            m = ev["pooled"]
            label = f"{v} {100 * f:g} %"
            rows[label] = _row(m, labelled=f"{n_lab}/{n_tot}")
            res.append(dict(variant=v, fraction=f, labelled_frames=n_lab, frames=n_tot, metrics=m,
                            per_sequence=ev["per_sequence"], seconds=round(sec, 1)))
            log(f"  {label} ({n_lab}/{n_tot} labelled frames): " +
                ", ".join(f"{h} {format_value(m.get(k))}" for k, h in COLS))
    _plot_curves(out / "reduced.png", res, "fraction", "labelled fraction", "variant")
    md = ["# Reduced labels", "",
          "Labels kept on a seeded random subset of 1 s chunks of the labelled training trials "
          "(the rest become motion-only), plus the motion-only trials; test = held-out trials.", "",
          markdown_table(rows, COLS + (("labelled", "labelled / labelled-trial frames"),), "run"), "",
          "![reduced](reduced.png)", ""]
    return dict(rows=rows, results=res, markdown="\n".join(md))


def transfer_experiment(cfg, data, out: Path, *, variants=("baseline", "fnet"), log=print) -> dict:
    motion = list(data["motion_only"])
    if len(motion) < 2:
        raise RuntimeError("transfer needs at least 2 motion-only sequences (one held out)")
    target = motion[-1]                    # held-out motion-only trial (CMU 08_11 on real data)
    train = list(data["train"]) + list(data["test"]) + motion[:-1]
    rows, res, preds = {}, [], {}
    for v in variants:
        bundle, sec = _train(_with(cfg, variant=v), train, out / "runs" / f"{v}_transfer", log, val=data.get("val"))
        p = bundle.predict(target)
        w = np.asarray(p["w"], float)
        preds[v] = w
        sym = symmetry_metrics(w, target.rate, target.contact, target.mass) if w.shape[1] == 2 else {}
        rows[v] = dict(sym, mean_fy=float(w[..., 1].sum(1).mean() / (target.mass * G)))
        res.append(dict(variant=v, target=target.name, symmetry=sym, seconds=round(sec, 1)))
        log(f"  {v} on {target.name}: " + ", ".join(f"{k} {format_value(x)}" for k, x in rows[v].items()))
    plot_grf(out / "transfer_grf.png", target, preds,
             title=f"{target.name} (motion only, held out): vertical GRF, " + " vs ".join(variants))
    cols = (("corr_shifted", "corr R vs L (½-cycle shift)"), ("peak_ratio", "peak R / L"),
            ("swing_mean", "mean abs Fy in swing (N/kg)"), ("mean_fy", "mean ΣFy (body weights)"),
            ("period", "cycle (s)"))
    md = ["# Domain transfer (seed appendix C)", "",
          f"Labels: all force-plate trials; motion-only walking in training except `{target.name}`, "
          "on which the vertical GRF is predicted (no labels there: symmetry and swing-phase "
          "force instead of errors; a symmetric gait gives corr ≈ 1 and peak ratio ≈ 1, and "
          "Fy ≈ 0 where the kinematic contact label says the foot is in the air).", "",
          markdown_table(rows, cols, "variant"), "", "![transfer](transfer_grf.png)", ""]
    return dict(rows=rows, results=res, markdown="\n".join(md))


def _plot_curves(path, res, xkey, xlabel, group):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(1, 3, figsize=(11, 3.2))
    groups = sorted({r[group] for r in res})
    for i, g in enumerate(groups):
        rr = sorted([r for r in res if r[group] == g], key=lambda r: r[xkey])
        x = [r[xkey] for r in rr]
        for j, (k, h) in enumerate((("ef", "εf (N/kg)"), ("em", "εm (N·m/kg)"), ("et", "ετ (N·m/kg)"))):
            y = [r["metrics"].get(k, np.nan) if r["metrics"] else np.nan for r in rr]
            ax[j].plot(x, y, "-o", color=f"C{i}", label=g)
            ax[j].set_xlabel(xlabel)
            ax[j].set_ylabel(h)
            ax[j].grid(alpha=0.3)
    ax[0].legend(fontsize=8)
    fig.tight_layout()
    try:
        with atomic_write(path) as f:
            fig.savefig(f, dpi=90, format=Path(path).suffix[1:].lower() or None)
    finally:
        plt.close(fig)
    return path


EXPERIMENTS = {"noise": noise_experiment, "reduced": reduced_experiment, "transfer": transfer_experiment}


def _kfold(cfg, items, out, **kw):
    return kfold_experiment(cfg, items, out, **kw)


def _unseen_lab(cfg, items, out, **kw):
    return unseen_lab_experiment(cfg, items, out, **kw)


def _reduced_subjects(cfg, items, out, **kw):
    return reduced_subjects_experiment(cfg, items, out, **kw)


def _lab_torques(cfg, items, out, **kw):
    return lab_torques_experiment(cfg, items, out, **kw)


SUBJECT_WISE = {"kfold": _kfold, "unseen-lab": _unseen_lab, "reduced-subjects": _reduced_subjects,
                "lab-torques": _lab_torques}   # over a built dataset (training.protocol, training.lab_torques)


def run_experiment(name: str, out, *, data_dir=None, config=None, overrides: Seq[str] = (),
                   tiny: bool = False, log=print, **kw) -> dict:
    """Run experiment ``name`` into ``out`` (see the module docstring); returns its results."""
    if name not in EXPERIMENTS and name not in SUBJECT_WISE:
        raise ValueError(f"experiment must be one of {sorted(EXPERIMENTS) + sorted(SUBJECT_WISE)}, got {name!r}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    if name == "lab-torques" and config is None:
        config = "real"            # gait3d at the training rate: the k-fold runs it scores
    cfg = base_config(config, overrides, tiny)
    if name in SUBJECT_WISE:
        if tiny and name == "lab-torques":
            raise ValueError("lab-torques scores trials against OpenSim on their labs' own models: it needs the "
                             "built dataset of the shared data (--data DATASET --kfold RUN_DIR), not --tiny")
        items = protocol.experiment_items(tiny, data_dir, cfg.model, log=log)
        if cfg.data.exclude_subjects:
            items = without_subjects(items, cfg.data.exclude_subjects, data_dir or "the synthetic set", log=log)
        if tiny:
            if name == "kfold":
                kw.setdefault("folds", 2)
            kw.setdefault("variants", ("baseline", "pcnet") if name != "reduced-subjects" else ("baseline", "fnet"))
            if name == "unseen-lab":
                kw.setdefault("train_labs", ("synthetic_a",))
            if name == "reduced-subjects":
                kw.pop("folds", None)
                kw.setdefault("fractions", (1.0, 0.5))
        r = SUBJECT_WISE[name](cfg, items, out, log=log, **kw)
        info = [dict(name=f"{row['name']} ({row['subject']})", role=row.get("role", ""), frames=len(seq),
                     rate=float(seq.rate), label_kind=seq.label_kind, mass=seq.mass, height=seq.height)
                for row, seq in items]
        return _write(name, out, r, cfg, tiny, data_dir, info, t0, log)
    data = get_data(tiny, data_dir, cfg.model, log=log, cfg=cfg)
    log(f"experiment {name}: model {cfg.model}, {len(data['train'])} labelled training, "
        f"{len(data['test'])} test, {len(data['motion_only'])} motion-only sequences"
        f"{' (tiny, synthetic)' if tiny else ''}")
    if tiny:
        if name == "noise":
            kw.setdefault("sigmas", (0.3, 2.3))
        if name == "reduced":
            kw.setdefault("fractions", (1.0, 0.25))
    r = EXPERIMENTS[name](cfg, data, out, log=log, **kw)
    return _write(name, out, r, cfg, tiny, data_dir, data.get("info", []), t0, log)


def _write(name, out: Path, r: dict, cfg, tiny: bool, data_dir, info: list, t0: float, log) -> dict:
    """``results.md`` and ``metrics.json`` of experiment ``name`` into ``out``."""
    secs = time.perf_counter() - t0
    data_md = ["", "## Data", "",
               "| sequence | role | frames | rate (Hz) | labels | mass (kg) | height (m) |",
               "|---|---|---|---|---|---|---|"]
    for i in info:
        data_md.append(f"| {i['name']} | {i['role']} | {i['frames']} | {i['rate']:g} | {i['label_kind']} "
                       f"| {i['mass']:.1f} | {i['height']:.3f} |")
    src = "built-in synthetic set (planar), tiny run: numbers are a smoke test only" if tiny else \
        f"real trials under {data_dir or 'the default data folder'} resampled to {REAL_RATE:g} Hz"
    attribution = "" if tiny else (
        "\nData: OpenSim example data (CC BY 3.0, Delp et al. 2007, Hamner et al. 2010); c3d.org "
        "sample files (Motion Lab Systems and contributing manufacturers); CMU Graphics Lab Motion "
        "Capture Database (mocap.cs.cmu.edu, NSF EIA-0196217)" + (
            "; Hamner & Delp (2013), Schreiber & Moissenet (2019) and the more/ trials, attributed in "
            "the data folder's README" if name in SUBJECT_WISE else "") + ".\n")
    md = r["markdown"] + "\n" + "\n".join(data_md) + \
        f"\n\nData: {src}. Config: `{json.dumps(cfg.to_dict())}`. Total {secs:.0f} s.\n" + attribution
    write_text(out / "results.md", md)
    write_json(out / "metrics.json", dict(experiment=name, tiny=tiny, config=cfg.to_dict(),
                                          data=info, rows=r["rows"],
                                          results=r["results"], seconds=round(secs, 1)))
    log(f"wrote {out / 'results.md'} ({secs:.0f} s)")
    r["seconds"] = secs
    return r


