"""Every trial in a data folder: find, read, check, and tabulate it.

A *trial* is one motion file: markers (``.trc``, ``.c3d``) or generalized coordinates
(``.mot``/``.sto`` of joint angles, e.g. an inverse-kinematics or Moco result).  Its forces
are the C3D file's force platforms, or for a ``.trc``/coordinate file the ground-reaction
table (``.mot``/``.sto`` with ``*force*v{x,y,z}`` columns) of the same trial: same name
up to a suffix (``_grf``, ``_forces``, ``_ik``, ``_new``) in the same or a sibling folder,
else the table an ExternalLoads ``.xml`` beside it names, else the only force table in the
folder; a coordinate file without one takes the force platforms of its C3D recording or
the force table of the recording it was cut from (a Moco cycle of a run).  Inverse-dynamics results (``*_moment``/``*_force`` columns) are references, not
trials.

:func:`walk` reads every trial with the :mod:`symgait.io` readers and checks what it
read (finite markers, increasing time, a force peak below 10 kN, each loaded C3D plate's
centre of pressure under a marker near the floor): a trial is ``usable``,
``motion only`` (its forces are refused, with the reason) or ``refused`` (the
:class:`~symgait.io.DataFormatError` message).  Any other exception is a bug and
propagates.  ``python -m symgait.cli.inventory`` rewrites the "Every trial" section of
``docs/data.md``.
"""

from __future__ import annotations

import re
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np

from ..io import DataFormatError, read_external_loads, read_table, read_trc
from ..signals.gaps import fill_gaps
from ..io import read_c3d

__all__ = ["TrialFile", "TrialResult", "find_trials", "read_trial", "walk", "classify_table",
           "markdown_table", "cop_marker_distance", "SECTION", "MAX_FORCE",
           "MAX_COP_DISTANCE"]

SECTION = "## Every trial"
MAX_FORCE = 10_000.0            # N: no human ground reaction reaches this (sprint peaks ~5 kN)
# m: a loaded plate's centre of pressure lies under the foot; across the shared C3D files the
# median distance to the nearest marker within 0.2 m of the plate is 8-117 mm for plates a
# foot stands on, 0.34-3 m for misplaced or noise-only plates
MAX_COP_DISTANCE = 0.25
MOTION_SUFFIXES = (".c3d", ".trc", ".mot", ".sto")
_TRIAL_SUFFIX = re.compile(r"(_grf|_forces|_ik|_new|_mocokinematics|_id|_ik_solution)$")


@dataclass(frozen=True)
class TrialFile:
    """One trial found by :func:`find_trials` (paths relative to the data folder)."""

    path: Path
    kind: str                          # "markers" (trc, c3d) or "coordinates" (mot/sto)
    source: str                        # dataset folder: "hamner2013_running", "more/c3dio", ...
    forces: Optional[Path] = None      # force table of a trc / coordinate trial
    forces_note: str = ""              # how the force table was found, or why none


@dataclass
class TrialResult:
    """What :func:`read_trial` found: one row of the table."""

    trial: TrialFile
    status: str                        # "usable", "motion only", "refused"
    reason: str = ""
    channels: int = 0                  # markers, or coordinates
    rate: float = float("nan")
    frames: int = 0
    plates: int = 0                    # force platforms / force sets used
    peak_force: float = float("nan")   # N, largest total vertical force
    gaps: str = ""                     # summary of fill_gaps on the markers
    seconds: float = 0.0
    notes: List[str] = field(default_factory=list)


def _source(rel: Path) -> str:
    parts = rel.parts
    return "/".join(parts[:2]) if parts[0] == "more" and len(parts) > 2 else parts[0]


def _key(stem: str) -> str:
    s = stem.lower()
    while True:
        t = _TRIAL_SUFFIX.sub("", s)
        if t == s:
            return s
        s = t


def _table_columns(path: Path) -> List[str]:
    """The column labels of a .mot/.sto (the line after ``endheader``), without parsing rows."""
    with open(path, "rb") as fh:
        for raw in fh:
            if raw.strip().lower() == b"endheader":
                break
        for raw in fh:
            line = raw.decode("latin-1").strip()
            if line:
                return line.split("\t") if "\t" in line else line.split()
    return []


def classify_table(columns: Sequence[str]) -> str:
    """``"forces"`` (ground-reaction columns ``*force*v[xyz]``), ``"reference"``
    (inverse-dynamics output ``*_moment``/``*_force``) or ``"coordinates"``."""
    cols = [c.strip().lower() for c in columns[1:]]
    if any("force" in c and re.search(r"v[xyz]$", c) for c in cols):
        return "forces"
    if cols and sum(c.endswith(("_moment", "_force")) for c in cols) >= len(cols) / 2:
        return "reference"
    return "coordinates"


def _pick_forces(trial: Path, root: Path, forces: Dict[Path, List[Path]]) -> Tuple[Optional[Path], str]:
    d = trial.parent
    key = _key(trial.stem)
    near = [p for p in forces.get(d, [])]
    sib = [p for dd in d.parent.iterdir() if dd.is_dir() and dd != d for p in forces.get(dd, [])] \
        if d != root else []
    for cand in (near, sib):
        hit = [p for p in cand if _key(p.stem) == key]
        if len(hit) == 1:
            return hit[0], "same trial name"
    for xml in sorted(d.glob("*.xml")):
        try:
            el = read_external_loads(xml)
        except DataFormatError:
            continue
        f = el.datafile_path
        if f is not None and f.suffix.lower() in (".mot", ".sto") and f.exists():
            return f.resolve(), f"named by {xml.name}"
        if f is not None and el.forces:
            return None, f"{xml.name} names {el.datafile}, which is not in the folder"
    if len(near) == 1:
        return near[0], "the only force table in the folder"
    return None, "no force table found for this trial"


def _pick_c3d(trial: Path, root: Path, files: Sequence[Path]) -> Optional[Tuple[Path, str]]:
    """The C3D recording a coordinate file was computed from: same trial name (or the C3D's
    name ending in ``_<name>``) within two folders above the coordinate file."""
    top = trial.parents[2] if len(trial.relative_to(root).parts) > 3 else None
    if top is None:
        return None
    key = _key(trial.stem)
    hit = [p for p in files if p.suffix.lower() == ".c3d" and top in p.parents
           and (_key(p.stem) == key or _key(p.stem).endswith("_" + key))]
    return (hit[0], f"force platforms of {hit[0].name}") if len(hit) == 1 else None


def _pick_within(trial: Path, root: Path, forces: Dict[Path, List[Path]]) -> Optional[Tuple[Path, str]]:
    """The force table of the recording a processed cycle was cut from: a table under the
    subject folder (three above the file) whose name, without underscores, is part of the
    file's (``moco/run5/cycle1/subject01_run5_cycle1_mocoKinematics.sto`` ->
    ``expData/Run_5_grf.mot``)."""
    rel = trial.relative_to(root)
    if len(rel.parts) < 5:
        return None
    top = trial.parents[3]
    key = _key(trial.stem).replace("_", "")
    hit = [p for d, ps in forces.items() if top in d.parents or d == top for p in ps
           if _key(p.stem).replace("_", "") in key]
    return (hit[0], f"cut from the recording of {hit[0].name}") if len(hit) == 1 else None


def find_trials(root) -> Tuple[List[TrialFile], Dict[str, List[Path]]]:
    """All trials under ``root`` and the other motion-suffix files by role
    (``{"forces": [...], "reference": [...]}``; paths relative to ``root``)."""
    root = Path(root).resolve()
    files = sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in MOTION_SUFFIXES)
    roles: Dict[Path, str] = {}
    for p in files:
        if p.suffix.lower() in (".c3d", ".trc"):
            roles[p] = "markers"
        else:
            roles[p] = classify_table(_table_columns(p))
    by_dir: Dict[Path, List[Path]] = {}
    for p, r in roles.items():
        if r == "forces":
            by_dir.setdefault(p.parent, []).append(p)
    trials, used = [], set()
    for p in files:
        r = roles[p]
        if r not in ("markers", "coordinates"):
            continue
        rel = p.relative_to(root)
        if p.suffix.lower() == ".c3d":
            trials.append(TrialFile(rel, "markers", _source(rel), None, "force platforms"))
            continue
        f, how = _pick_forces(p, root, by_dir)
        if f is None and r == "coordinates":
            f, how = _pick_c3d(p, root, files) or _pick_within(p, root, by_dir) or (f, how)
        if f is not None:
            used.add(f)
        trials.append(TrialFile(rel, r, _source(rel), f.relative_to(root) if f else None, how))
    others = {"forces": [p.relative_to(root) for p, r in roles.items() if r == "forces"],
              "reference": [p.relative_to(root) for p, r in roles.items() if r == "reference"],
              "unattached forces": [p.relative_to(root) for p, r in roles.items()
                                    if r == "forces" and p not in used]}
    return trials, others


def _check_time(path, t: np.ndarray, what: str) -> None:
    if t.size > 1 and not np.all(np.diff(t) > 0):
        i = int(np.argmax(~(np.diff(t) > 0)))
        raise DataFormatError(path, f"{what} time does not increase at sample {i + 1} "
                              f"({t[i]:g} s then {t[i + 1]:g} s); expected strictly increasing times")


def _gap_summary(pos, rate, names) -> Tuple[str, int]:
    if pos.shape[0] < 2 or not names:
        return "", len(names)
    _, kept, rep = fill_gaps(pos, rate, names)
    filled = sum(1 for m in rep.markers if m.frames_filled and not m.dropped)
    if not rep.dropped and not filled:
        return "none", len(kept)
    return f"{filled} filled, {len(rep.dropped)} dropped", len(kept)


def _force_table_peak(path: Path) -> Tuple[int, float, Tuple[float, float]]:
    """(force sets, peak total vertical force N, time span s) of a ground-reaction table
    (Y up) or of a C3D file's force platforms."""
    if path.suffix.lower() == ".c3d":

        c = read_c3d(path)
        if not c.plates:
            raise DataFormatError(path, "no force platforms in the file", field="FORCE_PLATFORM")
        fz = np.sum([pl.vertical_force for pl in c.plates], axis=0)
        tp = c.plates[0].time
        return len(c.plates), float(np.nanmax(np.abs(fz))), (float(tp[0]), float(tp[-1]))
    t = read_table(path)
    _check_time(path, t.time, "force table")
    vy = [i for i, n in enumerate(t.names) if "force" in n.lower() and n.lower().endswith("vy")]
    if not vy:
        raise DataFormatError(path, "no vertical force column (*force*vy); expected OpenSim "
                              "ground-reaction columns", field="columns")
    fy = t.data[:, vy]
    if not np.isfinite(fy).any():
        raise DataFormatError(path, "vertical forces are all NaN", field=t.names[vy[0]])
    total = np.nansum(fy, axis=1)
    return len(vy), float(np.nanmax(np.abs(total))), (float(t.time[0]), float(t.time[-1]))


def _check_peak(path, peak: float) -> None:
    if peak > MAX_FORCE:
        raise DataFormatError(path, f"total vertical force peaks at {peak:.0f} N (> {MAX_FORCE:.0f} N, "
                              "beyond any human ground reaction): wrong force units or plate "
                              "calibration", field="forces")


def read_trial(root, trial: TrialFile) -> TrialResult:
    """Read and check one trial (see the module docstring); DataFormatError becomes a
    ``refused`` / ``motion only`` row, anything else propagates."""
    root = Path(root)
    path = root / trial.path
    res = TrialResult(trial=trial, status="usable")
    t0 = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            if path.suffix.lower() == ".c3d":
                _read_c3d_trial(path, res)
            elif path.suffix.lower() == ".trc":
                m = read_trc(path)
                _check_time(path, m.time, "marker")
                span = (float(m.time[0]), float(m.time[-1]))
                res.rate, res.frames = m.rate, m.positions.shape[0]
                res.gaps, res.channels = _gap_summary(m.positions, m.rate, m.names)
                res.notes += list(m.notes)
            else:
                t = read_table(path)
                _check_time(path, t.time, "coordinate")
                span = (float(t.time[0]), float(t.time[-1]))
                res.channels, res.frames = len(t.names), t.data.shape[0]
                res.rate = t.rate
                res.notes += list(t.notes)
        except DataFormatError as e:
            res.status, res.reason = "refused", e.problem
        if res.status == "usable" and path.suffix.lower() != ".c3d":
            if trial.forces is None:
                res.status, res.reason = "motion only", trial.forces_note
            else:
                try:
                    res.plates, res.peak_force, fspan = _force_table_peak(root / trial.forces)
                    _check_peak(root / trial.forces, res.peak_force)
                    step = 1.0 / res.rate if res.rate > 0 else 0.0
                    if fspan[0] > span[0] + step or fspan[1] < span[1] - step:
                        res.notes.append(f"forces cover {fspan[0]:.3f}-{fspan[1]:.3f} s of the "
                                         f"motion's {span[0]:.3f}-{span[1]:.3f} s")
                except DataFormatError as e:
                    res.status, res.reason = "motion only", f"forces refused: {e.problem}"
    for w in caught:                    # reader warnings, without the machine's paths
        msg = str(w.message)
        for f, tag in ((path, ""), (root / trial.forces if trial.forces else None, "forces: ")):
            if f is not None and msg.startswith(str(f) + ": "):
                msg = tag + msg[len(str(f)) + 2:]
        res.notes.append(msg)
    res.notes = list(dict.fromkeys(res.notes))
    res.seconds = time.perf_counter() - t0
    return res


def _read_c3d_trial(path: Path, res: TrialResult) -> None:

    try:
        c = read_c3d(path)
        plates_error = None
    except DataFormatError as e:
        if e.field is None or not e.field.startswith(("ANALOG", "FORCE_PLATFORM")):
            raise
        plates_error = e.problem
        c = read_c3d(path, plates=False)
    _check_time(path, c.time, "marker")
    res.rate, res.frames = c.point_rate, c.markers.shape[0]
    res.gaps, res.channels = _gap_summary(c.markers, c.point_rate, c.marker_labels)
    res.notes += list(c.notes)
    if res.channels == 0:
        raise DataFormatError(path, "no marker is seen in enough frames to use "
                              f"({len(c.marker_labels)} labelled points)", field="POINT")
    if plates_error is not None:
        res.status, res.reason = "motion only", f"forces refused: {plates_error}"
        return
    if not c.plates:
        res.status, res.reason = "motion only", "no force platforms in the file"
        return
    fz = np.sum([pl.vertical_force for pl in c.plates], axis=0)
    res.plates = len(c.plates)
    res.peak_force = float(np.nanmax(np.abs(fz))) if fz.size else float("nan")
    try:
        _check_peak(path, res.peak_force)
        _check_cop(path, c)
    except DataFormatError as e:
        res.status, res.reason = "motion only", f"forces refused: {e.problem}"


def _check_cop(path, c) -> None:
    for pl in c.plates:
        d = cop_marker_distance(c, pl)
        if d is not None and d > MAX_COP_DISTANCE:
            raise DataFormatError(
                path, f"plate {pl.index + 1} is loaded but its centre of pressure lies {d:.2f} m "
                f"(median) from the nearest marker near the floor (> {MAX_COP_DISTANCE} m): "
                "plate noise or a plate position (FORCE_PLATFORM:CORNERS/ORIGIN) that does not "
                "match the markers", field="FORCE_PLATFORM")


def cop_marker_distance(c3d, plate, *, min_force: float = 50.0, height: float = 0.2) -> Optional[float]:
    """Median over the marker frames where ``plate`` carries more than ``min_force`` N (and a
    fifth of its peak) of the horizontal distance (m) from its centre of pressure to the
    nearest marker less than ``height`` m above its surface; None if it is never loaded,
    nan if no marker is that low then."""
    idx = np.clip(np.searchsorted(plate.time, c3d.time), 0, plate.time.size - 1)
    fz = plate.vertical_force[idx]
    if not (fz > min_force).any():
        return None
    L = fz > max(min_force, 0.2 * float(fz.max()))
    n = plate.normal
    mk = c3d.markers[L]
    d = mk - plate.cop[idx][L][:, None, :]
    d = d - (d @ n)[..., None] * n
    with np.errstate(invalid="ignore"):
        dist = np.where((mk - plate.centre) @ n < height, np.linalg.norm(d, axis=2), np.nan)
    ok = np.isfinite(dist).any(axis=1)
    if not ok.any():
        return float("nan")
    return float(np.median(np.nanmin(dist[ok], axis=1)))


def walk(root, trials: Optional[Iterable[TrialFile]] = None, progress=None) -> List[TrialResult]:
    """:func:`read_trial` on every trial of :func:`find_trials` (or the given ones)."""
    root = Path(root).resolve()
    trials = find_trials(root)[0] if trials is None else list(trials)
    out = []
    for i, t in enumerate(trials):
        out.append(read_trial(root, t))
        if progress is not None:
            progress(i + 1, len(trials), out[-1])
    return out


def _fmt_rate(r: float) -> str:
    return "" if not np.isfinite(r) else f"{r:.4g}"


def markdown_table(results: Sequence[TrialResult]) -> str:
    """The "Every trial" section (heading, legend, table) as markdown."""
    n_use = sum(r.status == "usable" for r in results)
    n_mo = sum(r.status == "motion only" for r in results)
    n_ref = sum(r.status == "refused" for r in results)
    by_src: Dict[str, List[int]] = {}
    for r in results:
        c = by_src.setdefault(r.trial.source, [0, 0, 0])
        c[("usable", "motion only", "refused").index(r.status)] += 1
    lines = [
        SECTION, "",
        "Generated by `python -m symgait.cli.inventory` (reads every trial of `../shared/data` "
        "with `symgait.io`; do not edit by hand). A trial is one motion file: markers (`.trc`, "
        "`.c3d`) or coordinates (`.mot`/`.sto` joint angles); forces are the C3D force platforms "
        "or the trial's ground-reaction table (see `symgait/data/inventory.py` for how it is "
        "found). *usable*: motion and forces read and plausible; *motion only*: the motion is "
        "usable, the forces are absent or refused (reason given); *refused*: the reader's "
        "`DataFormatError`. *channels*: markers kept after gap filling (short gaps filled up to "
        "0.1 s, markers seen in under half of the active window dropped) or coordinates; "
        "*plates*: force platforms or force sets; *peak F*: largest total vertical force (N). "
        "Other formats in the folder are not walked here: CMU `.amc`/`.asf` (`read_amc`), "
        "DeepMimic clips, GaitAnalysisToolKit's 2-D `rawdata.txt`.",
        "",
        f"{len(results)} trials: {n_use} usable, {n_mo} motion only, {n_ref} refused.", "",
        "| source | trials | usable | motion only | refused |", "|---|---|---|---|---|",
    ]
    for s in sorted(by_src):
        u, m, f = by_src[s]
        lines.append(f"| {s} | {u + m + f} | {u} | {m} | {f} |")
    lines += ["", "| file | source | kind | channels | rate (Hz) | frames | plates | peak F (N) | "
              "gaps | status | reason / notes |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        t = r.trial
        rel = str(t.path)
        src = t.source
        rel = rel[len(src) + 1:] if rel.startswith(src + "/") else rel
        kind = t.kind + (f" + {t.forces.name}" if t.forces is not None else "")
        if t.path.suffix.lower() == ".c3d" and r.plates:
            kind += " + plates"
        why = r.reason
        if r.status == "usable" and r.notes:
            why = "; ".join(r.notes)
        why = why.replace("|", "\\|").replace("\n", " ")
        peak = f"{r.peak_force:.0f}" if np.isfinite(r.peak_force) else ""
        lines.append(f"| {rel.replace('|', '/')} | {src} | {kind} | {r.channels or ''} | "
                     f"{_fmt_rate(r.rate)} | {r.frames or ''} | {r.plates or ''} | {peak} | "
                     f"{r.gaps} | {r.status} | {why} |")
    return "\n".join(lines) + "\n"


