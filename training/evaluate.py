"""Evaluate a trained model: Zell et al. (2020)'s errors (:mod:`training.metrics`) per sequence and pooled,
a markdown table, GRF plots.

    python -m training evaluate --checkpoint CKPT [--data synthetic|DIR] --out DIR

``--data synthetic`` (default): the held-out sequences of the built-in synthetic set of the
checkpoint's config; ``DIR``: the held-out real force-plate trials (:func:`training.data.load_real`).
"""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Dict, List, Optional

import numpy as np

from .metrics import STANCE_N, gait_metrics, symmetry_metrics
from symgait.atomic import write_text
import symgait
from symgait.errors import SymgaitError
from .plots import plot_grf
from .provenance import seen_role, subjects
from .data import REAL_RATE, load_data
from .data import load_real

__all__ = ["evaluate", "metrics_of", "evaluate_and_report", "predict_all", "markdown_table", "eval_sequences", "contact_origins", "split_seen", "SeenSubjectsError", "format_value", "REAL_RATE", "COLS", "EXT_COLS"]

COLS = (("ef", "εf (N/kg)"), ("rf", "rRMSE f (%)"), ("em", "εm (N·m/kg)"), ("rm", "rRMSE m (%)"),
        ("et", "ετ (N·m/kg)"), ("rt", "rRMSE τ (%)"))
# the metrics beyond the paper's (training/metrics.py)
EXT_COLS = (("f_bw", "εf (% BW)"), ("ef_v", "vertical εf (N/kg)"), ("cop_mm", "COP stance (mm)"),
            ("e_free", "free moment (N·m/kg)"), ("em", "moment about foot origin (N·m/kg)"),
            ("fy_bw", "mean total Fy, cycles (BW)"), ("fy_bw_true", "labels (BW)"))


def predict_all(bundle, sequences) -> List[dict]:
    """``bundle.predict`` on every sequence (numpy float arrays)."""
    out = []
    for s in sequences:
        p = bundle.predict(s)
        out.append({k: np.asarray(v, float) for k, v in p.items() if k in ("w", "JT")})
    return out


def contact_origins(kernels, seq) -> np.ndarray:
    """(T, nc, 3) world positions of the contact bodies' origins over ``seq``."""
    p = np.broadcast_to(np.asarray(seq.p, float), (len(seq), len(seq.p))).copy()
    return np.asarray(kernels.contact_points(np.asarray(seq.q, float), p))


def evaluate(bundle, sequences, *, predictions: Optional[List[dict]] = None) -> Dict[str, object]:
    """Metrics of ``bundle`` on ``sequences``.

    Returns ``dict(per_sequence={name: metrics}, pooled=metrics, unlabelled={name: symmetry})``:
    labelled sequences get εf/εm/ετ and rRMSE (+ ``f_swing``, the mean |predicted vertical
    force| on frames the contact labels call swing, and the extended metrics with the centre of
    pressure: ``EXT_COLS``); motion-only ones the left/right symmetry of
    the predicted vertical force (:func:`training.metrics.symmetry_metrics`)."""
    sequences = list(sequences)
    preds = predictions if predictions is not None else predict_all(bundle, sequences)
    return metrics_of(bundle.model, sequences, preds)


def metrics_of(model, sequences, preds) -> Dict[str, object]:
    """:func:`evaluate`'s result for predictions ``preds`` (``{"w", "JT"}`` per sequence) of
    ``model`` on ``sequences``."""
    kern = symgait.kernels(model)
    per, uns, items, origins = {}, {}, [], []
    for s, p in zip(sequences, preds):
        if s.label_kind == "none":
            if p["w"].shape[1] == 2:
                uns[s.name] = symmetry_metrics(p["w"], s.rate, s.contact, s.mass)
            continue
        o = contact_origins(kern, s)
        m = gait_metrics(p, s, s.mass, s.contact, o)
        m.update(label_kind=s.label_kind, mass=s.mass)
        per[s.name] = m
        items.append((p, s, s))
        origins.append(o)
    pooled = {}
    if items:
        pooled = gait_metrics([i[0] for i in items], [i[1] for i in items],
                              [i[2].mass for i in items], [i[2].contact for i in items], origins)
    return dict(per_sequence=per, pooled=pooled, unlabelled=uns)


def format_value(v, digits=3):
    """A table cell: "–" for None or non-finite, ``digits`` decimals below 100, else one."""
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "–"
    if isinstance(v, float):
        return f"{v:.{digits}f}" if abs(v) < 100 else f"{v:.1f}"
    return str(v)


def markdown_table(rows: Dict[str, dict], cols=COLS, first: str = "sequence") -> str:
    """A markdown table: one row per entry of ``rows`` (name → metrics), ``cols`` (key, header)."""
    head = "| " + first + " | " + " | ".join(h for _, h in cols) + " |"
    sep = "|---" * (len(cols) + 1) + "|"
    lines = [head, sep]
    for name, m in rows.items():
        lines.append("| " + str(name) + " | " + " | ".join(
            format_value(m.get(k), 1 if k.split("_")[-1] in ("rf", "rm", "rt") else 3) for k, _ in cols) + " |")
    return "\n".join(lines)


def _clean(x):
    """JSON-safe (NaN → None, numpy → python)."""
    if isinstance(x, dict):
        return {str(k): _clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_clean(v) for v in x]
    if isinstance(x, (np.floating, float)):
        return float(x) if math.isfinite(float(x)) else None
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, np.ndarray):
        return _clean(x.tolist())
    return x


def write_json(path, obj) -> Path:
    return write_text(path, json.dumps(_clean(obj), indent=2))


class SeenSubjectsError(SymgaitError, ValueError):
    """Every sequence to evaluate belongs to a subject (or trial) the model trained or validated on."""


def split_seen(bundle, sequences, *, allow_seen: bool = False, log=print):
    """``(unseen, seen)`` sequences by what ``bundle`` trained and validated on
    (:mod:`training.provenance`).  Seen ones are dropped with a loud warning unless ``allow_seen``;
    a checkpoint that records nothing is said to be unchecked."""
    unseen, seen = [], []
    for s in sequences:
        role = seen_role(getattr(bundle, "seen", None), s)
        (seen if role else unseen).append((s, role))
    if getattr(bundle, "seen", None) is None:
        log("WARNING: this checkpoint does not record the subjects it trained on (written before they were "
            "recorded): it cannot be checked that the sequences below are new to it")
    if seen:
        names = ", ".join(f"{s.name} ({s.subject or s.name}, {role})" for s, role in seen)
        if allow_seen:
            log(f"WARNING: {len(seen)} sequence(s) belong to subjects the model {'/'.join({r for _, r in seen})} "
                f"on; they are scored as SEEN (in-sample), apart from the unseen ones: {names}")
        else:
            log(f"WARNING: left out {len(seen)} sequence(s) of subjects the model trained or validated on "
                f"(their errors would be in-sample): {names}. Pass --allow-seen to score them, labelled seen")
    if not unseen and not (allow_seen and seen):
        raise SeenSubjectsError("every sequence to evaluate belongs to a subject the model trained or validated "
                                "on: evaluate it on other subjects, or pass --allow-seen to score them as seen")
    return [s for s, _ in unseen], ([s for s, _ in seen] if allow_seen else [])


def evaluate_and_report(bundle, sequences, out_dir, *, title: str = "", max_plots: int = 8,
                        log=print, allow_seen: bool = False) -> Dict[str, object]:
    """:func:`evaluate`, then ``metrics.json``, ``metrics.md`` (one row per labelled sequence and
    the pooled row) and ``grf_<sequence>.png`` (at most ``max_plots``) in ``out_dir``.

    Sequences of subjects the model trained or validated on are left out (:func:`split_seen`), or
    with ``allow_seen`` scored apart: their rows are marked *seen* and pooled separately, never with
    the unseen ones."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    unseen, seen = split_seen(bundle, list(sequences), allow_seen=allow_seen, log=log)
    sequences = unseen + seen
    preds = predict_all(bundle, sequences)
    res = evaluate(bundle, unseen, predictions=preds[:len(unseen)])
    cfg = getattr(bundle, "cfg", None)
    res["model"] = getattr(cfg, "model", None)
    res["variant"] = getattr(cfg, "variant", None)
    res["subjects_seen_by_model"] = subjects(getattr(bundle, "seen", None))
    res["unseen_sequences"] = [s.name for s in unseen]
    rows = dict(res["per_sequence"])
    if res["pooled"]:
        rows["**pooled (unseen subjects)**"] = res["pooled"]
    if seen:
        rs = evaluate(bundle, seen, predictions=preds[len(unseen):])
        res["seen"] = rs
        rows.update({f"{k} (seen)": v for k, v in rs["per_sequence"].items()})
        if rs["pooled"]:
            rows["**pooled (seen: in-sample)**"] = rs["pooled"]
    md = [f"# Evaluation{': ' + title if title else ''}", "",
          f"variant `{res['variant']}`, model `{res['model']}`; errors per kg of body mass, "
          "rRMSE = RMSE / label range per component, averaged (see training/metrics.py).", "",
          f"Subjects the model trained on: {', '.join(res['subjects_seen_by_model']['trained']) or 'not recorded'}; "
          f"validated on: {', '.join(res['subjects_seen_by_model']['validated']) or 'none recorded'}. "
          + ("Rows marked *seen* are of those subjects (in-sample) and are pooled apart." if seen else
             "Every row below is of a subject the model never saw."), "",
          markdown_table(rows, COLS + (("f_swing", "swing mean abs Fy (N/kg)"), ("frames", "frames"))), "",
          "Beyond the seed: GRF in % body weight, vertical force only, centre of pressure and free moment "
          f"in stance (labelled Fy > {STANCE_N:g} N), mean total vertical force over whole cycles.", "",
          markdown_table(rows, EXT_COLS)]
    if res["unlabelled"]:
        md += ["", "Motion-only sequences (no labels): predicted vertical-force symmetry", "",
               markdown_table(res["unlabelled"], (("corr_shifted", "corr R vs L shifted ½ cycle"),
                                                  ("peak_ratio", "peak R/L"),
                                                  ("swing_mean", "swing mean abs Fy (N/kg)"),
                                                  ("period", "cycle (s)")))]
    plots = []
    for s, p in list(zip(sequences, preds))[:max_plots]:
        f = out / f"grf_{s.name.replace('#', '_').replace('/', '_')}.png"
        plot_grf(f, s, {str(res["variant"] or "prediction"): p["w"]},
                 title=f"{s.name}: vertical GRF, {res['variant']} vs {s.label_kind} labels")
        plots.append(f.name)
    res["plots"] = plots
    md += ["", *[f"![{p}]({p})" for p in plots], ""]
    write_text(out / "metrics.md", "\n".join(md))
    write_json(out / "metrics.json", res)
    log(f"wrote {out / 'metrics.md'}, {out / 'metrics.json'} and {len(plots)} plots")
    return res


def eval_sequences(cfg, data: str = "synthetic", *, log=print) -> list:
    """The held-out sequences for ``cfg``: the synthetic test split (``data="synthetic"``) or the
    real test trials under the folder ``data``."""
    if data in (None, "synthetic"):  # the split the training command uses
        return list(load_data(cfg, "synthetic", log=lambda *a: None)["test"])
    r = load_real(data, cfg.model, motion_only=False, rate=REAL_RATE, log=log)
    return r["test"]


