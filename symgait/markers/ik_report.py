"""The IK report of a trial (RMS per marker, mean RMS, worst frame, worst marker) and the fit
check: a mean RMS above a threshold (default 40 mm) is an :class:`IKFitError` naming the likely
cause (units, left/right labels swapped, wrong marker set), never a silent result.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Dict, List, Optional

import numpy as np

from ..errors import InputError

__all__ = ["DEFAULT_MAX_RMS", "IKReport", "IKFitError", "ik_report", "swap_side", "swap_sides",
           "unit_ratio"]

DEFAULT_MAX_RMS = 0.040   # m: mean IK RMS above this is an error


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
    markers: label → body and offset), ``notes``."""
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
