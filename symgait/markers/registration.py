"""Automatic registration of markers with unknown labels (in the spirit of AddBiomechanics,
Werling et al. 2023): each unknown marker is assigned to the body it moves rigidly with and its
offset in that body's frame is fitted, jointly with the subject's height scaling.

1. The labels a marker set knows (a partial match of a built-in set, a map, an .osim) give a
   first IK over a block of consecutive frames (the IK tracks from frame to frame).
2. For every unknown marker and every body with usable anchors
   (:mod:`symgait.markers.body_markers`), the marker's coordinates in that body's frame are
   computed per frame; the body where they stay most constant (smallest RMS scatter) is the
   assignment and their mean the offset (the least-squares offset for those poses).
3. IK with all markers and the offset fit alternate a few times; a height factor is chosen by a
   golden-section search on the final RMS.

Markers whose scatter stays above ``max_scatter`` on every body (arm markers on a model without
arms, loose markers) are left out and reported.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence

import numpy as np

from .body_markers import body_anchors, body_poses
from .markersets import Entry, MarkerSet, load_markerset, resolve, strip_prefix
from .ik import solve_ik
from .body_markers import point_locals
from .markersets import detect

__all__ = ["Registration", "register_markers", "REFINE_ABOVE"]

REFINE_ABOVE = 0.020   # m: body-fixed markers fitting worse than this get their offsets re-fitted


@dataclass
class Registration:
    """``markerset``: the known entries plus one body-fixed entry (metres) per registered
    marker; ``assignment``: label → ``{"body", "offset_m", "scatter_mm"}``; ``rejected``: label →
    best scatter (mm); ``height`` (m) and ``p`` the fitted scaling; ``rms_mm`` the mean IK RMS
    of each iteration on the frames used."""
    markerset: MarkerSet
    assignment: Dict[str, dict]
    rejected: Dict[str, float]
    height: float
    p: np.ndarray
    rms_mm: List[float] = field(default_factory=list)
    notes: List[str] = field(default_factory=list)


def _local_coordinates(model, kern, p, q, Y):
    """``{body: (T, m, 3)}`` coordinates of world points ``Y`` (T, m, 3) in each usable body's
    frame at poses ``q``."""
    an = body_anchors(model, p)
    P = kern.points(q, p)
    out = {}
    for b, a in an.items():
        if not a.usable:
            continue
        R, o = body_poses(a, P)
        out[b] = np.einsum("tji,tmj->tmi", R, Y - o[:, None])
    return out


def _assign(local, mask, max_scatter):
    """Best body per marker from per-body local coordinates: ``(assignment, rejected)``."""
    assign, rejected = {}, {}
    m = mask.shape[1]
    for j in range(m):
        ok = mask[:, j]
        best, best_s, best_c = None, np.inf, None
        for b, C in local.items():
            c = C[ok, j]
            if c.shape[0] < 3:
                continue
            mean = c.mean(0)
            s = float(np.sqrt(np.mean(np.sum((c - mean) ** 2, -1))))
            if s < best_s:
                best, best_s, best_c = b, s, mean
        if best is not None and best_s <= max_scatter:
            assign[j] = (best, best_c, best_s)
        else:
            rejected[j] = best_s
    return assign, rejected


FIT_STEP = 4   # frames: largest step between the frames the fit uses


def _fit_frames(ok, n):
    """``n`` frames at most :data:`FIT_STEP` apart from the middle of the longest run of usable
    frames ``ok`` (sorted frame indices): the fit's IK tracks from frame to frame, and frames
    far apart (half a stride in a run) start it from a pose far from the next one's."""
    runs = np.split(ok, np.nonzero(np.diff(ok) != 1)[0] + 1)
    run = max(runs, key=len)
    step = int(min(FIT_STEP, max(1, (len(run) - 1) // max(1, n - 1))))
    i = max(0, (len(run) - 1 - step * (n - 1)) // 2)
    return run[i:i + step * (n - 1) + 1:step]


def _fit(model, kern, p, known_entries, unknown, refine, labels, positions, frames, iterations,
         max_scatter, q_start=None):
    ms0 = MarkerSet("known", list(known_entries))
    tg = resolve(ms0, labels, positions, model, p)
    tg.positions = tg.positions[frames]
    ik = solve_ik(model, kern, p, tg, mode="sequential", q_init=q_start)
    q = ik.q
    q_known = q
    idx = {lab: i for i, lab in enumerate(labels)}
    refine = [e for e in refine if e.source in idx]  # a mean of labels ("LPSI+RPSI") keeps its offset
    cols = unknown + [idx[e.source] for e in refine]
    Yu = positions[frames][:, cols]
    mask = np.all(np.isfinite(Yu), axis=-1)
    Yz = np.where(mask[..., None], Yu, 0.0)
    nu = len(unknown)
    hist = [float(1000 * np.nanmean(ik.rms))]
    assign, rejected, ms = {}, {}, ms0
    refined = {e.source for e in refine}
    fixed = [e for e in known_entries if e.source not in refined]
    for _ in range(iterations):
        local = _local_coordinates(model, kern, p, q, Yz)
        assign, rejected = _assign({b: C[:, :nu] for b, C in local.items()}, mask[:, :nu], max_scatter)
        extra = [Entry(strip_prefix(labels[unknown[j]]), "", 1.0, body=b, offset=tuple(map(float, c)),
                       scaled=False) for j, (b, c, _) in assign.items()]
        for r, e in enumerate(refine):   # offsets re-fitted on the entry's own body
            C = local.get(e.body)
            ok = mask[:, nu + r]
            if C is None or ok.sum() < 3:
                extra.append(e)
                continue
            extra.append(Entry(e.source, "", 1.0, body=e.body,
                               offset=tuple(map(float, C[ok, nu + r].mean(0))), scaled=False))
        ms = MarkerSet("registered", fixed + extra)
        tg = resolve(ms, labels, positions, model, p)
        tg.positions = tg.positions[frames]
        ik = solve_ik(model, kern, p, tg, q_init=q)
        q = ik.q
        hist.append(float(1000 * np.nanmean(ik.rms)))
    return ms, assign, rejected, hist, q_known


def _as_body_entries(model, p, entries):
    """Body-fixed versions of ``entries``: a single-model-point entry becomes its point's body
    and position (metres at ``p``); averaged points are left out."""
    loc = point_locals(model, p)
    pidx = {n: i for i, n in enumerate(model.points)}
    out = []
    for e in entries:
        if len(e.source_labels) != 1:        # a mean of labels is no single marker to place
            continue
        if e.body is not None:
            out.append(e)
            continue
        name = next((a for a in e.point.split("|") if a in pidx), None)
        if name is not None:
            i = pidx[name]
            out.append(Entry(e.source, "", e.weight, body=model.spec.points[i].body,
                             offset=tuple(map(float, loc[i])), scaled=False))
    return out


def register_markers(model, kern, labels: Sequence[str], positions, *, height: float, mass: float,
                     known=None, refine="auto", unknown: bool = True, frames: int = 15,
                     iterations: int = 2, max_scatter: float = 0.015, fit_height: bool = True,
                     height_range: float = 0.12) -> Optional[Registration]:
    """Register the labels of a trial (``labels``, ``positions`` (T, n, 3) m, OpenSim axes) that
    ``known`` (a marker set; default: the best built-in match) does not map, and re-fit the
    offsets of the body-fixed ``known`` entries named in ``refine`` (cluster markers, whose
    placement varies between subjects) on their bodies.  ``frames``: how many consecutive
    frames (the middle of the longest run with 3 or more known markers) the fit uses.  ``max_scatter`` (m): largest RMS scatter of a marker
    in its body's frame for it to be kept.  With ``fit_height`` the height factor in
    ``1 ± height_range`` that gives the lowest RMS is searched (golden section).
    ``refine="auto"``: the body-fixed or single-model-point entries whose RMS in a first IK
    exceeds :data:`REFINE_ABOVE` (a model point becomes a marker on its body); ``unknown=False``: leave unmapped labels alone.  Returns None when
    there is nothing to register or re-fit."""

    positions = np.asarray(positions, float)
    labs = [strip_prefix(x) for x in labels]
    ms = detect(labs).markerset if known is None else load_markerset(known)
    tg = resolve(ms, labs, positions, model, model.parameters(height=height, mass=mass))
    used = set(labs) - set(tg.unused_labels)
    unknown_i = [i for i, lab in enumerate(labs) if lab not in used and np.isfinite(positions[:, i]).any()] \
        if unknown else []
    known_entries = [e for e in ms.entries if all(s in used for s in e.source_labels)]
    ok = np.nonzero(np.isfinite(tg.positions).all(-1).sum(1) >= 3)[0]
    if ok.size == 0:
        raise ValueError("registration: no frame has 3 or more known markers")
    fr = _fit_frames(ok, frames)
    r0 = None
    if isinstance(refine, str) and refine == "auto":
        t0 = resolve(ms, labs, positions, model, model.parameters(height=height, mass=mass))
        t0.positions = t0.positions[fr]
        r0 = solve_ik(model, kern, model.parameters(height=height, mass=mass), t0, mode="sequential")
        refine = [n for n, b, row in zip(t0.names, t0.bodies, t0.A)
                  if (b is not None or np.count_nonzero(row) == 1) and r0.target_rms.get(n, 0.0) > REFINE_ABOVE]
    refine_e = _as_body_entries(model, model.parameters(height=height, mass=mass),
                                [e for e in known_entries if e.source in set(refine)])
    if not unknown_i and not refine_e:
        return None
    unknown = unknown_i
    notes = [f"known markers from {ms.name}: {len(tg.names)}; to register: {len(unknown)}"
             + (f"; offsets re-fitted: {', '.join(e.source for e in refine_e)}" if refine_e else "")]

    start = {} if r0 is None else {"q": r0.q}

    def run(h):   # later heights start from the first one's poses
        p = model.parameters(height=h, mass=mass)
        out = _fit(model, kern, p, known_entries, unknown, refine_e, labs, positions, fr,
                   iterations, max_scatter, start.get("q"))
        start.setdefault("q", out[-1])
        return (p,) + out[:-1]

    if fit_height and (unknown or refine_e):
        g = (np.sqrt(5) - 1) / 2
        a, b = height * (1 - height_range), height * (1 + height_range)
        c, d = b - g * (b - a), a + g * (b - a)
        rc, rd = run(c), run(d)
        for _ in range(4):
            if rc[-1][-1] < rd[-1][-1]:
                b, d, rd = d, c, rc
                c = b - g * (b - a)
                rc = run(c)
            else:
                a, c, rc = c, d, rd
                d = a + g * (b - a)
                rd = run(d)
        h, res = (c, rc) if rc[-1][-1] < rd[-1][-1] else (d, rd)
        notes.append(f"height factor {h / height:.3f} (golden section over ±{100 * height_range:.0f} %)")
    else:
        h, res = height, run(height)
    p, ms_out, assign, rejected, hist = res
    assignment = {labs[unknown[j]]: {"body": b, "offset_m": [float(v) for v in c], "scatter_mm": 1000 * s}
                  for j, (b, c, s) in assign.items()}
    rej = {labs[unknown[j]]: 1000 * s for j, s in rejected.items()}
    if rej:
        notes.append("not rigid with any body (left out): " + ", ".join(f"{k} {v:.0f} mm" for k, v in rej.items()))
    ms_out = MarkerSet(f"{ms.name}+registered", ms_out.entries, notes)
    return Registration(markerset=ms_out, assignment=assignment, rejected=rej, height=float(h),
                        p=np.asarray(p, float), rms_mm=hist, notes=notes)
