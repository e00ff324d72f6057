"""Timing between the motion and the measured forces, read off the root residual.

With measured contact wrenches, the root residual (world force the motion implies minus the
forces the plates measured, per kg) is the physics check of a trial. Its time-constant part is
what segment parameters can change (:mod:`symgait.trials.consistency`); the rest varies within the
gait cycle: marker noise and filtering, and any delay between the force and the motion recording.
:func:`residual_parts` splits the residual force into the two; :func:`force_shift_scan` evaluates
it with the wrenches moved in time by fractions of a frame (linear interpolation), so that a delay
shows as a minimum away from zero. ``python -m symgait.cli.synchrony DIR`` prints both per source
for the sequences of a dataset build (``python -m training dataset --out DIR``).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .consistency import residual_rms

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


def trial_source(path: str) -> str:
    parts = Path(path).parts
    for i, part in enumerate(parts):
        if part == "data" and i + 1 < len(parts):
            rest = parts[i + 1:]
            return "/".join(rest[:2]) if rest[0] == "more" and len(rest) > 2 else rest[0]
    return Path(path).parent.name

