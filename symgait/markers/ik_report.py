"""The IK report of a trial (RMS per marker, mean RMS, worst frame, worst marker, markers dropped)
and the fit check: a mean RMS above a threshold (default 40 mm) is an :class:`IKFitError` naming
the likely cause (units, left/right labels swapped, wrong marker set), never a silent result.

Bad markers (:func:`bad_marker`): a marker whose residual stays far above the others' -- its
moving RMS over :data:`DROP_WINDOW` s above :data:`DROP_FACTOR` times the median marker RMS and
above :data:`DROP_MIN` for :data:`DROP_PERSIST` s or more in all, or briefly
:data:`DROP_GROSS` times over -- is mislabelled, slipping or swapped; the IK leaves it out over the frames
where it is bad (:class:`DroppedMarker`, over the whole trial when that is most of its frames or
it is bad more than once) and solves again (:func:`symgait.markers.ik.retarget`).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Dict, List, Optional

import numpy as np

from ..errors import InputError
from ..signals.runs import true_runs

__all__ = ["DEFAULT_MAX_RMS", "IKReport", "IKFitError", "ik_report", "swap_side", "swap_sides",
           "unit_ratio", "DroppedMarker", "bad_marker", "DROP_FACTOR", "DROP_MIN", "DROP_WINDOW",
           "DROP_WHOLE", "DROP_PERSIST", "DROP_GROSS"]

DEFAULT_MAX_RMS = 0.040   # m: mean IK RMS above this is an error
DROP_FACTOR = 3.0         # a marker is bad where its residual exceeds this x the median marker RMS
DROP_MIN = 0.030          # m ... and this
DROP_WINDOW = 0.1         # s: residuals judged as moving RMS over this window
DROP_PERSIST = 0.2        # s: ... staying above the bound this long (shorter excursions kept
DROP_GROSS = 3.0          #    unless they exceed the bound this many times over)
DROP_WHOLE = 0.5          # bad over more than this fraction of its frames: left out of the whole trial


class IKFitError(InputError):
    """The markers do not fit the model (mean IK RMS above the threshold); the message names the
    likely cause.  ``report`` is the :class:`IKReport`."""

    def __init__(self, message: str, report: "IKReport"):
        super().__init__(message)
        self.report = report


@dataclass
class IKReport:
    """Per trial: ``markerset`` (name) and why it was chosen (``choice``), ``frames``,
    ``marker_rms_mm`` per target, ``ik_rms_mm`` (mean over frames of the per-frame RMS),
    ``worst_frame`` (index into the fitted frames), ``worst_frame_time`` (s),
    ``worst_frame_rms_mm``, ``ik_worst_marker`` and its RMS, ``threshold_mm``, the RMS the
    threshold is checked on (``checked_rms_mm``: 3-D, or the sagittal X-Y plane for a model
    without lateral motion, ``checked_on``), ``unused_labels``, ``assignment`` (registered
    markers: label → body and offset), ``notes``, ``dropped`` (markers left out as bad:
    :meth:`DroppedMarker.to_dict` each)."""
    markerset: str
    choice: str
    frames: int
    marker_rms_mm: Dict[str, float]
    ik_rms_mm: float
    worst_frame: int
    worst_frame_time: float
    worst_frame_rms_mm: float
    ik_worst_marker: str
    ik_worst_marker_rms_mm: float
    threshold_mm: Optional[float]
    checked_rms_mm: float = float("nan")
    checked_on: str = "3-D"
    unused_labels: List[str] = field(default_factory=list)
    assignment: Dict[str, dict] = field(default_factory=dict)
    notes: List[str] = field(default_factory=list)
    dropped: List[dict] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.threshold_mm is None or self.checked_rms_mm <= self.threshold_mm

    def to_dict(self) -> dict:
        return asdict(self)

    def text(self) -> str:
        """A few lines for a terminal or a markdown report."""
        worst = sorted(self.marker_rms_mm.items(), key=lambda kv: -kv[1])[:5]
        lines = [f"marker set: {self.markerset} ({self.choice})",
                 f"IK RMS {self.ik_rms_mm:.1f} mm mean over {self.frames} frames; worst frame "
                 f"{self.worst_frame} (t = {self.worst_frame_time:.3f} s) {self.worst_frame_rms_mm:.1f} mm; "
                 f"worst marker {self.ik_worst_marker} {self.ik_worst_marker_rms_mm:.1f} mm",
                 "per-marker RMS (largest): " + ", ".join(f"{n} {v:.1f} mm" for n, v in worst)]
        if self.assignment:
            lines.append("registered: " + ", ".join(f"{k} -> {v['body']}" for k, v in self.assignment.items()))
        for d in self.dropped:
            lines.append(DroppedMarker(**d).text())
        return "\n".join(lines)


def ik_report(ik, choice: str = "", threshold: Optional[float] = DEFAULT_MAX_RMS,
              assignment: Optional[Dict[str, dict]] = None, planar: bool = False) -> IKReport:
    """:class:`IKReport` of an :class:`~symgait.markers.ik.IKResult` (``threshold`` in m).
    ``planar``: the model moves in the X-Y plane only, so the threshold is checked on the
    in-plane error (its out-of-plane error is the markers' lateral motion, not a misfit)."""
    rms = np.asarray(ik.rms, float)
    ok = np.isfinite(rms)
    if planar:
        e = np.asarray(ik.fitted, float)[..., :2] - np.asarray(ik.targets.positions, float)[..., :2]
        with np.errstate(invalid="ignore"):
            checked = float(1000 * np.nanmean(np.sqrt(np.nanmean(np.sum(e ** 2, -1), 1))))
    else:
        checked = float(1000 * np.nanmean(rms)) if ok.any() else float("nan")
    wf = int(np.nanargmax(rms)) if ok.any() else 0
    mr = {n: 1000.0 * v for n, v in ik.target_rms.items() if np.isfinite(v)}
    wm = max(mr, key=mr.get) if mr else ""
    return IKReport(markerset=ik.targets.markerset, choice=choice, frames=int(rms.size),
                    marker_rms_mm=mr, ik_rms_mm=float(1000 * np.nanmean(rms)) if ok.any() else float("nan"),
                    worst_frame=wf, worst_frame_time=float(ik.time[wf]) if rms.size else float("nan"),
                    worst_frame_rms_mm=float(1000 * rms[wf]) if rms.size else float("nan"),
                    ik_worst_marker=wm, ik_worst_marker_rms_mm=float(mr.get(wm, float("nan"))),
                    threshold_mm=None if threshold is None else 1000.0 * float(threshold),
                    checked_rms_mm=checked, checked_on="sagittal plane" if planar else "3-D",
                    unused_labels=list(ik.targets.unused_labels), assignment=dict(assignment or {}),
                    notes=list(ik.notes))


_SIDE_PREFIXES = (("R_", "L_"), ("R.", "L."), ("Right", "Left"), ("R", "L"), ("r", "l"))
_SIDE_SUFFIXES = (("_r", "_l"), ("_R", "_L"), (".R", ".L"))


def swap_side(label: str) -> str:
    """The mirror label: ``RASI`` ↔ ``LASI``, ``R_FLE`` ↔ ``L_FLE``, ``R.Heel`` ↔ ``L.Heel``,
    ``rfemur`` ↔ ``lfemur``, ``calcn_r`` ↔ ``calcn_l``; labels without a side unchanged
    (use :func:`swap_sides` on a trial's labels: it swaps only pairs present in the trial)."""
    for a, b in _SIDE_SUFFIXES:
        for x, y in ((a, b), (b, a)):
            if label.endswith(x) and len(label) > len(x):
                return label[:-len(x)] + y
    for a, b in _SIDE_PREFIXES:
        for x, y in ((a, b), (b, a)):
            if label.startswith(x) and len(label) > len(x):
                rest = label[len(x):]
                if len(x) == 1 and x.isupper() and not rest[0].isupper():
                    continue       # "Rear" is not a right-side "ear"
                return y + rest
    return label


def swap_sides(labels) -> List[str]:
    """``labels`` with every left/right pair (both present) exchanged."""
    have = set(labels)
    return [m if (m := swap_side(x)) in have and m != x else x for x in labels]


def unit_ratio(source_positions, model_positions) -> float:
    """Median over frames of the source's spread (RMS distance from its centroid) divided by
    that of the same targets on the model (``model_positions`` (m, 3) or (T, m, 3), e.g. at
    q = 0): about 1000 for millimetres read as metres, 0.001 the other way."""
    Y = np.asarray(source_positions, float)
    F = np.broadcast_to(np.asarray(model_positions, float), Y.shape)
    ok = np.all(np.isfinite(Y), axis=-1) & np.all(np.isfinite(F), axis=-1)
    s = []
    for t in range(Y.shape[0]):
        m = ok[t]
        if m.sum() >= 3:
            a = np.sqrt(np.mean(np.sum((Y[t, m] - Y[t, m].mean(0)) ** 2, -1)))
            b = np.sqrt(np.mean(np.sum((F[t, m] - F[t, m].mean(0)) ** 2, -1)))
            if b > 0:
                s.append(a / b)
    return float(np.median(s)) if s else float("nan")


@dataclass
class DroppedMarker:
    """A marker left out of the IK: ``marker`` (the target's name), ``rms_mm`` its residual RMS
    over the frames left out, in the fit that still had it, ``median_mm`` the median marker RMS of
    that fit, ``offset_rms_mm`` and ``offset_median_mm`` the same about each marker's best
    body-fixed offset (what was judged: :func:`bad_marker`), ``frames`` the ``(start, stop)``
    ranges left out (indices into the fitted frames, stop exclusive), ``times`` their
    ``(first, last)`` times (s), ``whole`` left out of every frame."""
    marker: str
    rms_mm: float
    median_mm: float
    offset_rms_mm: float
    offset_median_mm: float
    frames: List[tuple]
    times: List[tuple]
    whole: bool

    def to_dict(self) -> dict:
        return asdict(self)

    def text(self) -> str:
        where = "all frames" if self.whole else "frames " + ", ".join(
            f"{a}-{b - 1} ({t0:.2f}-{t1:.2f} s)" for (a, b), (t0, t1) in zip(self.frames, self.times))
        return (f"dropped marker {self.marker}: residual {self.rms_mm:.0f} mm RMS (median marker "
                f"{self.median_mm:.0f} mm), {self.offset_rms_mm:.0f} mm about its best body-fixed "
                f"offset (median {self.offset_median_mm:.0f} mm), over {where}; IK solved again "
                "without it")


def _moving_rms(err, n: int):
    """Centred moving RMS over ``n`` frames of ``err`` (T, m), NaN-aware; NaN where no sample."""
    e2 = np.where(np.isfinite(err), err ** 2, 0.0)
    c = np.isfinite(err).astype(float)
    k = np.ones(n)
    num = np.apply_along_axis(lambda x: np.convolve(x, k, "same"), 0, e2)
    den = np.apply_along_axis(lambda x: np.convolve(x, k, "same"), 0, c)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.sqrt(num / den)
    return np.where(np.isfinite(err), out, np.nan)


def _excess(err, rate, factor, minimum, window):
    """(T, m) moving RMS over ``window`` s divided by the bound (``factor`` x the median over
    targets of their RMS over the trial, at least ``minimum``); and that median (m)."""
    present = np.isfinite(err)
    n_ok = present.sum(0)
    rms = np.sqrt(np.nansum(err ** 2, axis=0) / np.maximum(n_ok, 1))
    if (n_ok > 0).sum() < 3:
        return None, float("nan")
    med = float(np.median(rms[n_ok > 0]))
    n = max(3, int(round(window * rate)))
    return np.nan_to_num(_moving_rms(err, n), nan=0.0) / max(factor * med, minimum), med


def bad_marker(err, rate: float, skip=(), offset_err=None, *, factor: float = DROP_FACTOR,
               minimum: float = DROP_MIN, window: float = DROP_WINDOW, persist: float = DROP_PERSIST,
               whole: float = DROP_WHOLE):
    """The worst bad marker of a fit: ``(index, frames (T,) bool, rms (m), median (m))`` or None.

    ``err`` (T, m): distance (m) between each target and its fitted model point (NaN where
    missing).  Bad: its moving RMS over ``window`` s exceeds ``factor`` x the median over targets
    of their RMS over the trial, and ``minimum``, in runs of a window or longer that add up to
    ``persist`` s or more (or one that exceeds the bound :data:`DROP_GROSS` times over) -- and so
    does
    ``offset_err`` (the same distances about each target's best body-fixed offset), when given;
    the frames returned are those runs widened by half a window, or every frame when they recur
    (two runs or more: a marker swapped or mislabelled, bad wherever the pose shows it) or hold
    more than ``whole`` of its present frames.  Worst: the largest RMS of ``err`` over those
    frames.  ``skip``: indices not to return (markers that cannot be left out)."""
    err = np.asarray(err, float)
    T, m = err.shape
    present = np.isfinite(err)
    ratio, med = _excess(err, rate, factor, minimum, window)
    if ratio is None:
        return None
    if offset_err is not None:
        ratio = np.minimum(ratio, _excess(np.asarray(offset_err, float), rate, factor, minimum,
                                          window)[0])
    over = ratio > 1.0
    n = max(3, int(round(window * rate)))
    n_persist = max(n, int(round(persist * rate)))
    best = None
    for i in range(m):
        if i in skip or not present[:, i].any():
            continue
        runs = [(a, b) for a, b in true_runs(over[:, i]) if b - a >= n]
        gross = any(ratio[a:b, i].max() > DROP_GROSS for a, b in runs)
        if not gross and sum(b - a for a, b in runs) < n_persist:
            continue
        fr = np.zeros(T, bool)
        for a, b in runs:
            fr[max(0, a - n // 2):min(T, b + n // 2)] = True
        if len(runs) > 1 or (fr & present[:, i]).sum() > whole * present[:, i].sum():
            fr[:] = True
        r = float(np.sqrt(np.nanmean(err[fr & present[:, i], i] ** 2)))
        if best is None or r > best[2]:
            best = (i, fr, r, med)
    return best
