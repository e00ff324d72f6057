"""A prediction scored against the force plates of the same trial: per foot and force component, the
RMSE (N/kg and % body weight), Pearson's correlation and the error of the peak, over the frames where
the plates measure every loaded foot (:attr:`symgait.trials.pipeline.Trial.covered`).

Components are those of OpenSim's ground frame: x anterior-posterior (walking direction), y vertical,
z medio-lateral.
"""
from __future__ import annotations

from pathlib import Path
from typing import Dict, Optional

import numpy as np

from symgait.atomic import atomic_write
from symgait.signals.runs import true_runs

from .metrics import G

COMPONENTS = (("x", "anterior-posterior"), ("y", "vertical"), ("z", "medio-lateral"))


def _corr(a: np.ndarray, b: np.ndarray) -> Optional[float]:
    if a.size < 3 or np.std(a) == 0 or np.std(b) == 0:
        return None
    return float(np.corrcoef(a, b)[0, 1])


def score_forces(pred_w, meas_w, mass: float, contacts, frames) -> Dict[str, object]:
    """Scores of predicted against measured contact forces.

    ``pred_w``, ``meas_w``: (T, nc, 6) wrenches (N, N·m; the force in the first three columns);
    ``frames``: (T,) bool, the frames to score (the plates measure every loaded foot).  Returns
    ``{"frames": n, "per_foot": {contact: {component: {rmse_n_per_kg, rmse_bw_percent, r,
    peak_error_n_per_kg, peak_error_bw_percent}}}, "overall": {...}}``; the peak error is the
    predicted maximum minus the measured maximum of that component over the scored frames."""
    P = np.asarray(pred_w, float)[..., :3]
    M = np.asarray(meas_w, float)[..., :3]
    sel = np.asarray(frames, bool) & np.isfinite(P).all((1, 2)) & np.isfinite(M).all((1, 2))
    bw = mass * G
    out: Dict[str, object] = {"frames": int(sel.sum()), "mass_kg": float(mass), "per_foot": {}}
    if not sel.any():
        out["overall"] = None
        return out
    for j, c in enumerate(contacts):
        comps = {}
        for k, (axis, name) in enumerate(COMPONENTS):
            p, m = P[sel, j, k], M[sel, j, k]
            e = float(np.sqrt(np.mean((p - m) ** 2)))
            peak = float(p.max() - m.max())
            comps[name] = {"rmse_n_per_kg": e / mass, "rmse_bw_percent": 100 * e / bw, "r": _corr(p, m),
                           "peak_error_n_per_kg": peak / mass, "peak_error_bw_percent": 100 * peak / bw}
        out["per_foot"][c] = comps
    d = P[sel] - M[sel]
    out["overall"] = {"force_rmse_n_per_kg": float(np.sqrt(np.mean(np.sum(d ** 2, -1)))) / mass,
                      **{f"{name}_rmse_n_per_kg": float(np.sqrt(np.mean(d[..., k] ** 2))) / mass
                         for k, (_, name) in enumerate(COMPONENTS)}}
    return out


def score_table(score: Dict[str, object]) -> str:
    """The scores as a plain-text table (one row per foot and component)."""
    if not score["frames"]:
        return "no frame where the plates measure every loaded foot: nothing scored"
    rows = [f"scored over {score['frames']} frames where the plates measure every loaded foot",
            f"{'foot':10s} {'component':20s} {'RMSE N/kg':>10s} {'RMSE %BW':>9s} {'r':>6s} {'peak err %BW':>13s}"]
    for c, comps in score["per_foot"].items():
        for name, v in comps.items():
            r = "  -" if v["r"] is None else f"{v['r']:6.3f}"
            rows.append(f"{c:10s} {name:20s} {v['rmse_n_per_kg']:10.3f} {v['rmse_bw_percent']:9.1f} {r:>6s} "
                        f"{v['peak_error_bw_percent']:13.1f}")
    o = score["overall"]
    rows.append(f"{'both':10s} {'force (norm)':20s} {o['force_rmse_n_per_kg']:10.3f} "
                f"{100 * o['force_rmse_n_per_kg'] / G:9.1f}")
    return "\n".join(rows)


def plot_score(path, time, pred_w, meas_w, mass: float, contacts, frames, title: str = "") -> Path:
    """Predicted against measured force per foot (rows) and component (columns), per kg; the frames
    not scored are shaded grey."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    t = np.asarray(time, float)
    fig, axes = plt.subplots(len(contacts), 3, figsize=(12, 2.6 * len(contacts)), sharex=True, squeeze=False)
    for j, c in enumerate(contacts):
        for k, (_, name) in enumerate(COMPONENTS):
            ax = axes[j, k]
            ax.plot(t, np.asarray(meas_w)[:, j, k] / mass, "k-", lw=1.2, label="plates")
            ax.plot(t, np.asarray(pred_w)[:, j, k] / mass, "C3--", lw=1.2, label="predicted")
            dt = (t[1] - t[0]) if t.size > 1 else 0.0
            for a, b in true_runs(~np.asarray(frames, bool)):
                ax.axvspan(t[a] - dt / 2, t[b - 1] + dt / 2, color="0.5", alpha=0.15, lw=0)
            ax.set_title(f"{c}: {name}", fontsize=9)
            if k == 0:
                ax.set_ylabel("N/kg")
            if j == len(contacts) - 1:
                ax.set_xlabel("time (s)")
    axes[0, 0].legend(fontsize=8)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    path = Path(path)
    with atomic_write(path) as f:  # the format from the name's suffix, as savefig(path) does
        fig.savefig(f, dpi=110, format=path.suffix[1:].lower() or None)
    plt.close(fig)
    return path
