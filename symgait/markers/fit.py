"""One call from a trial's markers to model coordinates and an IK report — what the dataset
build and the command-line tools use:

    ik, report = fit_trial_markers(model, source, height=1.80, mass=72.6)

The marker set is the OpenSim model's MarkerSet (``osim``), else ``markerset``, else the
built-in set that matches the labels best; with ``register="auto"`` the labels it leaves
unmapped are registered (:mod:`symgait.markers.registration`) when it maps fewer than half of the
trial's labels.  :func:`subject_osim` finds the subject's scaled OpenSim model stored with a
trial (the dataset build passes it as ``osim``).  A mean IK RMS above ``max_rms`` (40 mm) raises
:class:`~symgait.markers.ik_report.IKFitError` naming the likely cause.
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import numpy as np

from .ik import choose_markerset, retarget
from .ik_report import DEFAULT_MAX_RMS
from .markersets import resolve, strip_prefix
from .sources import Source
from ..io.osim import read_osim_markers
import symgait
from .registration import register_markers

__all__ = ["fit_trial_markers", "subject_osim", "REGISTER_BELOW", "OSIM_MIN_MARKERS"]

REGISTER_BELOW = 0.5   # register="auto": when the set maps less than this fraction of the labels
OSIM_MIN_MARKERS = 4   # subject_osim: a model with fewer markers in its MarkerSet is not used


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


def fit_trial_markers(model, markers, rate: Optional[float] = None, *, height: float, mass: float,
                      osim=None, markerset=None, kern=None, register="auto", refine_offsets: bool = True,
                      max_rms: Optional[float] = DEFAULT_MAX_RMS, **retarget_kwargs):
    """Fit ``model`` to a trial's markers; returns ``(IKResult, IKReport)``.

    ``markers``: a :class:`~symgait.markers.sources.Source` (:func:`~symgait.markers.sources.load_source`)
    or ``(labels, positions (T, n, 3) m in OpenSim axes)`` with ``rate`` (Hz).  ``register``:
    True, False or ``"auto"`` (see the module docstring); ``refine_offsets``: re-fit the offsets
    of body-fixed markers that fit worse than
    :data:`~symgait.markers.registration.REFINE_ABOVE` (cluster markers), with the height scaling.
    The result's ``q`` (T', nq) are the coordinates over the kept frames ``time``; ``p`` the
    parameters (the report's notes give the fitted height factor); ``offset`` the shift applied
    to the source (apply it to the force plates too).  ``retarget_kwargs`` go to
    :func:`~symgait.markers.ik.retarget`.
    """

    src = _as_source(markers, rate)
    kern = symgait.kernels(model) if kern is None else kern
    seen = [lab for i, lab in enumerate(src.labels) if np.isfinite(src.positions[:, i]).any()]
    ms, choice = choose_markerset(model, seen, markerset, osim)
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
    ik, p, _ = retarget(model, kern, src, height=height, mass=mass, markerset=ms, choice=choice,
                        max_rms=max_rms, **retarget_kwargs)
    if reg is not None:
        ik.report.assignment = dict(reg.assignment)
        ik.report.notes = reg.notes + ik.report.notes
    return ik, ik.report
