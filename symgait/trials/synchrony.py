"""Timing between the motion and the measured forces, read off the root residual.

With measured contact wrenches, the root residual (world force the motion implies minus the
forces the plates measured, per kg) is the physics check of a trial. Its time-constant part is
what segment parameters can change (:mod:`symgait.trials.consistency`); the rest varies within the
gait cycle: marker noise and filtering, and any delay between the force and the motion recording.
:func:`residual_parts` splits the residual force into the two; :func:`force_shift_scan` evaluates
it with the wrenches moved in time by fractions of a frame (linear interpolation), so that a delay
shows as a minimum away from zero. ``python -m symgait.trials.synchrony DIR`` prints both per source
for the sequences of a dataset build (``python -m training dataset --out DIR``).
"""
from __future__ import annotations

import argparse
import collections
import json
from pathlib import Path

import numpy as np

from .consistency import residual_rms
import symgait

__all__ = ["residual_parts", "shifted", "force_shift_scan", "DEFAULT_SHIFTS"]

DEFAULT_SHIFTS = tuple(np.round(np.arange(-2.0, 2.01, 0.25), 2))


def residual_parts(kern, q, qd, qdd, w, p, mass) -> dict:
    """Root-residual force per kg: ``rms`` (of its norm over frames), ``mean`` (norm of its time mean)
    and ``varying`` (RMS norm of what is left: rms² = mean² + varying²)."""
    r = np.asarray(kern.root_residual(q, qd, qdd, w, p))
    F = r[:, :3] / mass
    mean = F.mean(0)
    return {"rms": residual_rms(r, mass)[0], "mean": float(np.linalg.norm(mean)),
            "varying": float(np.sqrt(((F - mean) ** 2).sum(1).mean()))}


def shifted(w: np.ndarray, shift: float) -> np.ndarray:
    """``w`` read ``shift`` frames earlier (w(t - shift)), linear interpolation, ends held."""
    T = len(w)
    x = np.clip(np.arange(T) - shift, 0, T - 1)
    i0 = np.floor(x).astype(int)
    i1 = np.minimum(i0 + 1, T - 1)
    a = (x - i0).reshape((T,) + (1,) * (w.ndim - 1))
    return (1 - a) * w[i0] + a * w[i1]


def force_shift_scan(kern, q, qd, qdd, w, p, mass, shifts=DEFAULT_SHIFTS) -> dict:
    """{shift (frames): residual force RMS per kg with the wrenches shifted}. Frames within the
    largest shift of either end are left out of every evaluation, so all are over the same frames."""
    edge = int(np.ceil(max(abs(s) for s in shifts)))
    T = len(q)
    if T <= 2 * edge + 2:
        raise ValueError(f"{T} frames are too few to scan shifts of up to {edge} frames")
    sl = slice(edge, T - edge)
    return {float(s): residual_rms(kern.root_residual(q[sl], qd[sl], qdd[sl], shifted(w, s)[sl], p), mass)[0]
            for s in shifts}


def _source(path: str) -> str:
    parts = Path(path).parts
    for i, part in enumerate(parts):
        if part == "data" and i + 1 < len(parts):
            rest = parts[i + 1:]
            return "/".join(rest[:2]) if rest[0] == "more" and len(rest) > 2 else rest[0]
    return Path(path).parent.name


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m symgait.trials.synchrony", description=__doc__.split("\n\n")[0])
    ap.add_argument("dataset", type=Path, help="a dataset build's --out folder (its .npz sequences are read)")
    ap.add_argument("--json", type=Path, help="also write the per-trial figures here")
    ap.add_argument("--max-residual", type=float, help="leave out trials whose residual force (N/kg) is above "
                    "this (the dataset build refuses them above its MAX_RESIDUAL_FORCE, 6 N/kg)")
    a = ap.parse_args(argv)
    files = sorted(a.dataset.rglob("*.npz"))
    rows, kernels = [], {}
    for f in files:
        status = f.with_suffix(".json")
        if status.is_file() and json.loads(status.read_text()).get("status", "usable") != "usable":
            continue  # refused by the build (the reason is in its report)
        z = np.load(f)
        meta = json.loads(str(z["meta"]))
        if meta.get("label_kind") != "measured":
            continue
        name = meta.get("model", "gait3d")
        if name not in kernels:
            kernels[name] = symgait.kernels(symgait.load_model(name))
        k, p, mass = kernels[name], z["p"][None], float(meta["mass"])
        parts = residual_parts(k, z["q"], z["qd"], z["qdd"], z["w"], p, mass)
        if a.max_residual is not None and parts["rms"] > a.max_residual:
            continue
        scan = force_shift_scan(k, z["q"], z["qd"], z["qdd"], z["w"], p, mass)
        best = min(scan, key=scan.get)
        rows.append({"trial": meta.get("name", f.stem), "source": _source(meta.get("source", str(f))),
                     "rate": meta.get("rate"), **parts, "best_shift_frames": best, "rms_at_best": scan[best],
                     "rms_at_zero": scan[0.0]})
    by = collections.defaultdict(list)
    for r in rows:
        by[r["source"]].append(r)
    print("| source | trials | residual force (N/kg) | time-mean part | varying part | median best shift (frames) "
          "| residual at that shift |")
    print("|---|---|---|---|---|---|---|")
    for s, rs in sorted(by.items()):
        med = lambda key: float(np.median([r[key] for r in rs]))  # noqa: E731
        print(f"| {s} | {len(rs)} | {med('rms'):.2f} | {med('mean'):.2f} | {med('varying'):.2f} | "
              f"{med('best_shift_frames'):+.2f} | {med('rms_at_best'):.2f} |")
    if rows:
        med = lambda key: float(np.median([r[key] for r in rows]))  # noqa: E731
        print(f"| all | {len(rows)} | {med('rms'):.2f} | {med('mean'):.2f} | {med('varying'):.2f} | "
              f"{med('best_shift_frames'):+.2f} | {med('rms_at_best'):.2f} |")
    if a.json:
        a.json.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
