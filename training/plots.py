"""Figures: predicted vs true vertical ground reaction force (as Zell et al. (2020), fig. 1), loss curves.

All functions write a PNG (matplotlib, Agg backend) and return its path.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Dict, Optional, Sequence as Seq

import numpy as np

from .metrics import G
from symgait.atomic import atomic_write
from symgait.signals.runs import true_runs

__all__ = ["plot_grf", "plot_loss", "read_log"]


def _plt():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def _shade(ax, t, on, color):
    """Shade the runs where ``on`` is True."""
    dt = (t[1] - t[0]) if t.size > 1 else 0.0
    for a, b in true_runs(on):
        ax.axvspan(t[a] - dt / 2, t[b - 1] + dt / 2, color=color, alpha=0.12, lw=0)


def plot_grf(path, seq, predictions: Dict[str, np.ndarray], *, title: str = "",
             body_weight: bool = True, contact=None) -> Path:
    """Vertical GRF (Y up) of each contact (one panel per foot) over ``seq``: the true force
    (when ``seq`` has labels) and one line per entry of ``predictions`` (name → (T, nc, 6)
    wrenches in N), with the contact labels shaded (``contact``, default ``seq.contact``).
    ``body_weight``: in body weights (else N/kg)."""
    plt = _plt()
    t = np.asarray(seq.time, float)
    nc = len(seq.contacts) or np.asarray(seq.w).shape[1]
    scale = seq.mass * (G if body_weight else 1.0)
    unit = "body weights" if body_weight else "N/kg"
    contact = np.asarray(seq.contact if contact is None else contact, bool)
    fig, axes = plt.subplots(nc, 1, figsize=(9, 2.3 * nc + 0.6), sharex=True, squeeze=False)
    for j in range(nc):
        ax = axes[j, 0]
        _shade(ax, t, contact[:, j], "C2")
        name = seq.contacts[j] if j < len(seq.contacts) else f"contact {j}"
        if seq.label_kind != "none" and np.isfinite(seq.w[:, j, 1]).any():
            ax.plot(t, seq.w[:, j, 1] / scale, "k-", lw=2.0, label=f"true ({seq.label_kind})")
        for k, (lab, w) in enumerate(predictions.items()):
            w = np.asarray(w, float)
            ax.plot(t[:w.shape[0]], w[:, j, 1] / scale, color=f"C{k}", lw=1.4,
                    ls="-" if k == 0 else "--", label=lab)
        ax.set_ylabel(f"{name} Fy ({unit})", fontsize=8)
        ax.axhline(0, color="0.6", lw=0.6)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="upper right")
    axes[-1, 0].set_xlabel("time (s)  — shaded: contact label")
    fig.suptitle(title or f"{seq.name}: vertical ground reaction force", fontsize=10)
    return _save(fig, path)


def read_log(path) -> list:
    """The dict lines of a ``log.jsonl`` (lines that do not parse are skipped)."""
    out = []
    for line in Path(path).read_text().splitlines():
        line = line.strip()
        if not line:
            continue
        try:
            d = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(d, dict):
            out.append(d)
    return out


def plot_loss(path, log_path, *, keys: Optional[Seq[str]] = None, title: str = "") -> Path:
    """Loss curves from ``log_path`` (``log.jsonl``: dicts with ``step`` and numeric loss
    entries); ``keys`` default: every numeric key except ``step``/time-like ones.  Log scale when
    all plotted values are positive."""
    plt = _plt()
    rows = [r for r in read_log(log_path) if "step" in r]
    skip = {"step", "time", "seconds", "elapsed", "lr", "epoch", "wall", "bad_steps", "steps_per_s",
            "skipped", "best_step"}
    if keys is None:
        keys = []
        for r in rows:
            for k, v in r.items():
                if k not in skip and k not in keys and isinstance(v, (int, float)) and not isinstance(v, bool):
                    keys.append(k)
    fig, ax = plt.subplots(figsize=(7, 4))
    allpos = True
    for i, k in enumerate(keys):
        pts = [(r["step"], r[k]) for r in rows if isinstance(r.get(k), (int, float))
               and np.isfinite(r[k])]
        if not pts:
            continue
        x, y = np.array(pts).T
        allpos &= bool((y > 0).all())
        ax.plot(x, y, "-o" if len(x) < 30 else "-", ms=3, color=f"C{i % 10}", label=k)
    if allpos and keys:
        ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.grid(alpha=0.3)
    if keys:
        ax.legend(fontsize=7)
    ax.set_title(title or Path(log_path).parent.name, fontsize=10)
    return _save(fig, path)


def _save(fig, path) -> Path:
    import matplotlib.pyplot as plt
    fig.tight_layout()
    path = Path(path)
    try:
        with atomic_write(path) as f:    # the format from the name's suffix, as savefig(path) does
            fig.savefig(f, dpi=90, format=path.suffix[1:].lower() or None)
    finally:
        plt.close(fig)
    return path
