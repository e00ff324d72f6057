"""One call from a trial's markers to model coordinates and an IK report — what the dataset
build and the command-line tools use:

    ik, report = fit_trial_markers(model, source, height=1.80, mass=72.6)

The marker set is the OpenSim model's MarkerSet (``osim``), else ``markerset``, else the
built-in set that matches the labels best; with ``register="auto"`` the labels it leaves
unmapped are registered (:mod:`symgait.markers.registration`) when it maps fewer than half of the
trial's labels.  :func:`subject_osim` finds the subject's scaled OpenSim model stored with a
trial (the dataset build passes it as ``osim``).  A mean IK RMS above ``max_rms`` (40 mm) raises
:class:`~symgait.markers.ik_report.IKFitError` naming the likely cause.

Bad markers (mislabelled, swapped, slipping: :func:`symgait.markers.ik.retarget`) are screened
first, by an IK with the marker set alone on at most :data:`SCREEN_FRAMES` frames: those off by
more than :data:`SCREEN_MIN` (beyond what the set's generic offsets explain) are left out over the
frames where they are bad before registration re-fits any offset (a bad marker's offset re-fitted
pulls the others' with it).  The final IK looks again with the usual bound (30 mm); a marker it
leaves out after offsets were re-fitted makes the fit run once more without it.  The report's
``dropped`` names every marker left out, its residual and its frames.
"""
from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import List, Optional

import numpy as np

from .ik import choose_markerset, retarget
from .ik_report import DEFAULT_MAX_RMS, DroppedMarker
from ..errors import SymgaitError
from .markersets import resolve, strip_prefix
from .sources import Source
from ..io.osim import read_osim_markers
import symgait
from .registration import register_markers

__all__ = ["fit_trial_markers", "subject_osim", "REGISTER_BELOW", "OSIM_MIN_MARKERS", "SCREEN_FRAMES"]

REGISTER_BELOW = 0.5   # register="auto": when the set maps less than this fraction of the labels
OSIM_MIN_MARKERS = 4   # subject_osim: a model with fewer markers in its MarkerSet is not used
SCREEN_FRAMES = 200    # the bad-marker screen fits every k-th frame, at most this many
SCREEN_MIN = 0.080     # m: the screen (generic offsets) leaves out only markers this far off


def _osim_candidates(folder: Path) -> list:
    """``.osim`` files in ``folder`` and its immediate subfolders with a MarkerSet of at least
    :data:`OSIM_MIN_MARKERS` markers."""
    out = []
    for f in sorted(list(folder.glob("*.osim")) + list(folder.glob("*/*.osim"))):
        try:
            n = len(read_osim_markers(f))
        except Exception:  # noqa: BLE001 — an unreadable model is not a candidate
            continue
        if n >= OSIM_MIN_MARKERS:
            out.append(f)
    return out


def subject_osim(motion, root=None) -> Optional[Path]:
    """The subject's OpenSim model stored with a trial: looking in the motion file's folder, then
    in its parent (the subject's folder: ``subjectNN/expData/Run_5.trc`` finds
    ``subjectNN/model/*.osim``, ``<id>/dynamic/x.c3d`` finds ``<id>/scaling/*.osim``), each with
    its immediate subfolders, never above ``root``; at the nearest level with a candidate (an
    ``.osim`` with a MarkerSet), that model if it is the only one there, else None (several
    models: which one is the subject's is not known)."""
    m = Path(motion).resolve()
    top = None if root is None else Path(root).resolve()
    folder = m.parent
    for _ in range(2):
        if top is not None and folder != top and top not in folder.parents:
            break
        found = _osim_candidates(folder)
        if found:
            return found[0] if len(found) == 1 else None
        if top is not None and folder == top:
            break
        folder = folder.parent
    return None


def _as_source(markers, rate) -> Source:
    if isinstance(markers, Source):
        return markers
    labels, positions = markers
    positions = np.asarray(positions, float)
    if positions.ndim != 3 or positions.shape[1:] != (len(labels), 3):
        raise ValueError(f"markers: positions must be (T, {len(labels)}, 3) m, got {positions.shape}")
    if rate is None or not rate > 0:
        raise ValueError("markers given as (labels, positions): pass rate= (Hz)")
    T = positions.shape[0]
    return Source(labels=list(labels), positions=positions, time=np.arange(T) / float(rate),
                  rate=float(rate), kind="markers", markerset="", R=np.eye(3), origin=np.zeros(3),
                  path="<array>")


def _screen(model, kern, src: Source, ms, choice, height, mass, retarget_kwargs) -> List[DroppedMarker]:
    """Grossly bad markers of ``src`` under marker set ``ms`` alone, before any offset is re-fitted
    (module docstring), with times in the source's clock."""
    T = src.positions.shape[0]
    k = max(1, math.ceil(T / SCREEN_FRAMES))
    sub = dataclasses.replace(src, positions=src.positions[::k], time=np.asarray(src.time)[::k],
                              rate=float(src.rate) / k)
    kw = {key: v for key, v in retarget_kwargs.items() if key not in ("drop_bad", "drop_min")}
    try:
        ik, _, _ = retarget(model, kern, sub, height=height, mass=mass, markerset=ms, choice=choice,
                            max_rms=None, drop_bad=True, drop_min=SCREEN_MIN, **kw)
    except (ValueError, SymgaitError):   # the fit itself says why, later
        return []
    return [DroppedMarker(**d) for d in ik.report.dropped]


def _left_out(src: Source, dropped, step: float) -> Source:
    """``src`` with the markers of ``dropped`` NaN over their times (widened by ``step`` s)."""
    T = src.positions.shape[0]
    pos = src.positions.copy()
    t = np.asarray(src.time, float)
    plain = [strip_prefix(x) for x in src.labels]
    for d in dropped:
        cols = [i for i, lab in enumerate(plain) if lab in d.marker.split("+")]
        sel = np.ones(T, bool) if d.whole else np.zeros(T, bool)
        for t0, t1 in ([] if d.whole else d.times):
            sel |= (t >= t0 - step - 1e-9) & (t <= t1 + step + 1e-9)
        for c in cols:
            pos[sel, c] = np.nan
    return dataclasses.replace(src, positions=pos)


def _in_frames(d: DroppedMarker, time) -> dict:
    """``d`` with its frames as indices into ``time`` (the final fit's frames)."""
    time = np.asarray(time, float)
    if d.whole:
        fr = [(0, int(time.size))]
    else:
        fr = [(int(np.searchsorted(time, t0 - 1e-9)), int(np.searchsorted(time, t1 + 1e-9)))
              for t0, t1 in d.times]
    return dict(d.to_dict(), frames=fr)


def _fit_once(model, kern, src, ms, choice, height, mass, register, refine_offsets, max_rms,
              drop_bad, retarget_kwargs):
    """Registration (unknown labels, re-fitted offsets) and IK of ``src``: ``(IKResult, reg)``."""
    reg = None
    tg = resolve(ms, src.labels, src.positions, model, model.parameters(height=height, mass=mass))
    labs = {strip_prefix(x) for x in src.labels}
    frac = 1.0 - len(tg.unused_labels) / max(1, len(labs))
    unknown = register is True or (register == "auto" and frac < REGISTER_BELOW)
    if unknown or refine_offsets:
        reg = register_markers(model, kern, src.labels, src.positions, height=height, mass=mass,
                               known=ms, unknown=unknown, refine="auto" if refine_offsets else ())
    if reg is not None:
        parts = [f"{len(reg.assignment)} markers registered"] if unknown else []
        refit = [e.source for e in reg.markerset.entries if e.body is not None and not e.scaled
                 and e.source not in reg.assignment]
        if refit:
            parts.append(f"{len(refit)} offsets re-fitted")
        choice = f"{choice}; " + ", ".join(parts) + f"; height {reg.height:.3f} m"
        ms, height = reg.markerset, reg.height
    ik, _, _ = retarget(model, kern, src, height=height, mass=mass, markerset=ms, choice=choice,
                        max_rms=max_rms, drop_bad=drop_bad, **retarget_kwargs)
    return ik, reg


def fit_trial_markers(model, markers, rate: Optional[float] = None, *, height: float, mass: float,
                      osim=None, markerset=None, kern=None, register="auto", refine_offsets: bool = True,
                      max_rms: Optional[float] = DEFAULT_MAX_RMS, drop_bad: bool = True,
                      **retarget_kwargs):
    """Fit ``model`` to a trial's markers; returns ``(IKResult, IKReport)``.

    ``markers``: a :class:`~symgait.markers.sources.Source` (:func:`~symgait.markers.sources.load_source`)
    or ``(labels, positions (T, n, 3) m in OpenSim axes)`` with ``rate`` (Hz).  ``register``:
    True, False or ``"auto"`` (see the module docstring); ``refine_offsets``: re-fit the offsets
    of body-fixed markers that fit worse than
    :data:`~symgait.markers.registration.REFINE_ABOVE` (cluster markers), with the height scaling.
    The result's ``q`` (T', nq) are the coordinates over the kept frames ``time``; ``p`` the
    parameters (the report's notes give the fitted height factor); ``offset`` the shift applied
    to the source (apply it to the force plates too).  ``retarget_kwargs`` go to
    :func:`~symgait.markers.ik.retarget`.  ``drop_bad``: leave out bad markers (module
    docstring); the report's ``dropped`` lists them with frames in the fitted frames.
    """

    src = _as_source(markers, rate)
    kern = symgait.kernels(model) if kern is None else kern
    seen = [lab for i, lab in enumerate(src.labels) if np.isfinite(src.positions[:, i]).any()]
    ms, choice = choose_markerset(model, seen, markerset, osim)
    earlier: List[DroppedMarker] = []
    if drop_bad:
        earlier = _screen(model, kern, src, ms, choice, height, mass, retarget_kwargs)
        if earlier:
            step = math.ceil(src.positions.shape[0] / SCREEN_FRAMES) / float(src.rate)
            src = _left_out(src, earlier, step)
    for attempt in range(2):
        try:
            ik, reg = _fit_once(model, kern, src, ms, choice, height, mass, register, refine_offsets,
                                max_rms, drop_bad, retarget_kwargs)
        except SymgaitError as e:
            if earlier and e.args:
                e.args = (f"{e.args[0]} (left out before: "
                          + ", ".join(f"{d.marker} {d.rms_mm:.0f} mm" for d in earlier) + ")",) + e.args[1:]
            raise
        new = [DroppedMarker(**d) for d in ik.report.dropped]
        if not new or reg is None or attempt == 1:
            break
        # offsets were re-fitted with these markers in: fit again without them
        src = _left_out(src, new, 1.0 / float(src.rate))
        earlier += new
    if earlier:
        conv = [_in_frames(d, ik.time) for d in earlier]
        ik.report.dropped = conv + ik.report.dropped
        texts = [DroppedMarker(**d).text() for d in conv]
        ik.notes = ik.notes[:1] + texts + ik.notes[1:]
        ik.report.notes = ik.report.notes[:1] + texts + ik.report.notes[1:]
    if reg is not None:
        ik.report.assignment = dict(reg.assignment)
        ik.report.notes = reg.notes + ik.report.notes
    return ik, ik.report
