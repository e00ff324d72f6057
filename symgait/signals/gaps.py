"""Marker gaps: fill short ones, drop markers too sparse to use, and report both.

Optical motion capture loses markers for a few frames (occlusion) and some for most of
a trial.  :func:`fill_gaps` interpolates interior gaps up to ``max_gap`` seconds
(default 0.1 s: about a tenth of a walking stride, shorter than a stance phase) from the
marker's own valid samples, leaves longer gaps and the ends NaN, and drops markers valid
in less than ``min_valid`` of the *active window* (the frames from the first to the last
in which at least half of the markers are seen, counting those seen anywhere in the trial;
capture volumes are often entered and left within a trial).  Nothing is printed: the returned :class:`GapReport` says what was
done, for the caller to print or store.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import List, Sequence, Tuple

import numpy as np
from scipy.interpolate import CubicSpline, PchipInterpolator

from ..errors import InputError
from .runs import true_runs

__all__ = ["MarkerGaps", "GapReport", "fill_gaps", "fill_interior_gaps", "fill_marker_gaps", "active_window",
           "MAX_GAP_S", "MIN_VALID"]

MAX_GAP_S = 0.1     # longest gap filled by default, seconds
MIN_VALID = 0.5     # least fraction of the active window a kept marker must be seen in
_METHODS = ("cubic", "pchip", "linear")


@dataclass(frozen=True)
class MarkerGaps:
    """What :func:`fill_gaps` did to one marker (counts in frames of the active window)."""

    name: str
    valid_fraction: float        # seen / window frames, before filling
    gaps_filled: int             # interior gaps filled
    frames_filled: int
    gaps_left: int               # interior gaps longer than max_gap, left NaN
    longest_gap_s: float         # longest interior gap (filled or not), seconds
    dropped: bool
    reason: str = ""


@dataclass(frozen=True)
class GapReport:
    """Per-marker outcome of :func:`fill_gaps` and the settings used."""

    rate: float
    max_gap_s: float
    min_valid: float
    method: str
    window: Tuple[int, int]      # active window, frames [start, stop)
    markers: Tuple[MarkerGaps, ...]

    @property
    def dropped(self) -> Tuple[str, ...]:
        return tuple(m.name for m in self.markers if m.dropped)

    @property
    def kept(self) -> Tuple[str, ...]:
        return tuple(m.name for m in self.markers if not m.dropped)

    @property
    def filled(self) -> Tuple[str, ...]:
        return tuple(m.name for m in self.markers if m.frames_filled and not m.dropped)

    def lines(self) -> List[str]:
        """Readable summary, one line per marker that was filled, left with gaps or dropped."""
        out = [f"markers: {len(self.kept)} kept, {len(self.dropped)} dropped; active window "
               f"frames {self.window[0]}-{self.window[1] - 1}; gaps up to {self.max_gap_s:g} s "
               f"filled ({self.method})"]
        for m in self.markers:
            if m.dropped:
                out.append(f"  {m.name}: dropped ({m.reason})")
            elif m.frames_filled or m.gaps_left:
                s = f"  {m.name}: {m.gaps_filled} gap(s), {m.frames_filled} frame(s) filled"
                if m.gaps_left:
                    s += f"; {m.gaps_left} longer gap(s) left missing (longest {m.longest_gap_s:.3g} s)"
                out.append(s)
        return out

    def __str__(self) -> str:
        return "\n".join(self.lines())


def active_window(valid: np.ndarray, fraction: float = 0.5) -> Tuple[int, int]:
    """[start, stop) from the first to the last frame in which at least ``fraction`` of the
    markers seen anywhere in the trial are valid (``valid`` (T, n) bool); (0, 0) when no
    marker is ever seen."""
    seen = valid.any(axis=0) if valid.size else np.zeros(0, bool)
    if not seen.any():
        return (0, 0)
    good = np.flatnonzero(valid[:, seen].mean(axis=1) >= fraction)
    if good.size == 0:
        return (0, 0)
    return int(good[0]), int(good[-1]) + 1


def _interpolate(t, y, t_new, method):
    if method == "linear" or t.size < 4:
        return np.stack([np.interp(t_new, t, y[:, k]) for k in range(3)], axis=1)
    f = PchipInterpolator(t, y, axis=0) if method == "pchip" else CubicSpline(t, y, axis=0)
    return f(t_new)


def _short_interior_gaps(valid: np.ndarray, max_frames: int) -> List[Tuple[int, int]]:
    """[start, stop) of the runs of missing frames between two valid ones, at most ``max_frames`` long."""
    idx = np.flatnonzero(valid)
    if idx.size < 2:
        return []
    return [(a, b) for a, b in true_runs(~valid) if a > idx[0] and b <= idx[-1] and b - a <= max_frames]


def fill_interior_gaps(positions, rate: float, max_gap: float = 0.25, method: str = "pchip"):
    """Fill the interior gaps (NaN runs between two valid samples) of at most ``max_gap`` s in
    (T, m, 3) trajectories from each marker's valid samples (``method`` as in :func:`fill_gaps`;
    linear where a marker has fewer than 4); the ends stay NaN.  Returns ``(filled copy, samples
    filled)``.  :func:`fill_gaps` adds dropping of sparse markers and a report."""
    X = np.array(positions, dtype=float, copy=True)
    t = np.arange(X.shape[0])
    nmax = int(round(max_gap * rate))
    filled = 0
    for j in range(X.shape[1]):
        ok = np.all(np.isfinite(X[:, j]), axis=1)
        gaps = _short_interior_gaps(ok, nmax)
        if gaps:
            fill = np.concatenate([np.arange(a, b) for a, b in gaps])
            X[fill, j] = _interpolate(t[ok], X[ok, j], fill, method)
            filled += fill.size
    return X, filled


def fill_gaps(positions: np.ndarray, rate: float, names: Sequence[str], *,
              max_gap: float = MAX_GAP_S, min_valid: float = MIN_VALID,
              method: str = "cubic") -> Tuple[np.ndarray, Tuple[str, ...], GapReport]:
    """Fill short interior gaps and drop sparse markers.

    Parameters
    ----------
    positions : (T, n, 3) array, NaN where a marker is missing (any unit)
    rate : Hz;  names : the n marker labels
    max_gap : seconds; interior gaps of at most ``round(max_gap * rate)`` frames are filled
    min_valid : markers seen in less than this fraction of the active window are dropped
    method : "cubic" (a cubic spline through the marker's valid samples), "pchip"
        (shape-preserving cubic: no overshoot, less accurate across uneven spacing) or
        "linear"; the ends are never extrapolated

    Returns
    -------
    (positions of the kept markers (T, k, 3), their names, :class:`GapReport`)
    """
    pos = np.asarray(positions, dtype=np.float64)
    names = tuple(names)
    if pos.ndim != 3 or pos.shape[2] != 3 or pos.shape[1] != len(names):
        raise InputError(f"marker positions of shape {pos.shape} with {len(names)} names; "
                         "expected (T, n, 3) with one name per marker")
    if method not in _METHODS:
        raise InputError(f"method {method!r}; expected one of {_METHODS}")
    if not (rate > 0 and max_gap >= 0 and 0 <= min_valid <= 1):
        raise InputError(f"rate {rate}, max_gap {max_gap}, min_valid {min_valid}: expected "
                         "rate > 0, max_gap >= 0, 0 <= min_valid <= 1")
    T, n = pos.shape[:2]
    valid = np.isfinite(pos).all(axis=2)
    w0, w1 = active_window(valid)
    nwin = max(w1 - w0, 0)
    max_frames = int(round(max_gap * rate))
    out = pos.copy()
    out[~valid] = np.nan
    t = np.arange(T) / rate
    keep: List[int] = []
    report: List[MarkerGaps] = []
    for j, name in enumerate(names):
        v = valid[:, j]
        frac = float(v[w0:w1].mean()) if nwin else 0.0
        idx = np.flatnonzero(v)
        interior = [(a, b) for a, b in true_runs(~v) if idx.size and a > idx[0] and b <= idx[-1]]
        longest = max((b - a for a, b in interior), default=0) / rate
        if frac < min_valid or idx.size < 2:
            reason = ("never seen" if idx.size == 0 else "fewer than 2 valid samples"
                      if idx.size < 2 else
                      f"seen in {frac:.0%} of the active window, below {min_valid:.0%}")
            report.append(MarkerGaps(name, frac, 0, 0, len(interior), longest, True, reason))
            continue
        short = _short_interior_gaps(v, max_frames)
        if short:
            fill = np.concatenate([np.arange(a, b) for a, b in short])
            out[fill, j] = _interpolate(t[idx], pos[idx, j], t[fill], method)
        report.append(MarkerGaps(name, frac, len(short), int(sum(b - a for a, b in short)),
                                 len(interior) - len(short), longest, False))
        keep.append(j)
    rep = GapReport(rate=float(rate), max_gap_s=float(max_gap), min_valid=float(min_valid),
                    method=method, window=(w0, w1), markers=tuple(report))
    return out[:, keep], tuple(names[j] for j in keep), rep


def fill_marker_gaps(markers, **kwargs):
    """:func:`fill_gaps` on a :class:`symgait.io.Markers`; returns ``(Markers, GapReport)``."""
    pos, names, rep = fill_gaps(markers.positions, markers.rate, markers.names, **kwargs)
    return replace(markers, positions=pos, names=names), rep


