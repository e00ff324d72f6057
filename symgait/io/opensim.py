"""Readers for OpenSim data files: ``.mot`` / ``.sto`` tables, ``.trc`` markers,
ExternalLoads ``.xml`` (and, re-exported from :mod:`symgait.io.osim`, ``.osim`` models).

Frames and units
----------------
OpenSim's ground frame is Y up, X forward (direction of walking), Z right.
The readers do not move data between frames; they only convert lengths to metres
where the file states another unit (``.trc`` ``Units``).  ``.mot``/``.sto`` values
are returned exactly as stored: OpenSim writes SI units, with rotational
coordinates in degrees when the header says ``inDegrees=yes`` (use
:meth:`Table.to_radians`).
"""

from __future__ import annotations

import math
import os
import warnings
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Dict, Iterable, Iterator, List, Optional, Sequence, Tuple, Union

import numpy as np

from .errors import DataFormatError, parse_xml
from .osim import read_osim  # noqa: F401  (re-exported: the .osim model parser)
from .units import LENGTH_UNITS, check_marker_units, length_unit_scale

__all__ = [
    "Table",
    "Markers",
    "ExternalForce",
    "ExternalLoads",
    "read_mot",
    "read_sto",
    "read_table",
    "read_trc",
    "read_external_loads",
    "read_osim",
]

PathLike = Union[str, "os.PathLike[str]"]


# --------------------------------------------------------------------------- #
# .mot / .sto tables
# --------------------------------------------------------------------------- #
@dataclass(frozen=True, eq=False)  # holds arrays: compare fields explicitly
class Table:
    """A time series table read from an OpenSim ``.mot`` or ``.sto`` file.

    Attributes
    ----------
    names : tuple of str
        Column labels, *without* the time column.
    data : ndarray, shape (T, k), float64
        The values, one column per name, in the file's units (SI; rotational
        coordinates in degrees if ``in_degrees``).
    time : ndarray, shape (T,), float64
        Time in seconds (the file's ``time`` column).
    in_degrees : bool
        The header's ``inDegrees`` flag (``False`` when absent).
    header : dict
        Header entries: ``key=value`` lines and legacy ``key value`` lines
        (``datacolumns``, ``datarows``, ``range``, ``name``) as strings; the first
        line, if it is a bare title, under ``"title"``.
    path : str or None
        Where the table was read from.
    notes : tuple of str
        What the reader tolerated (a stale legacy ``datarows``, padding columns), for
        callers to print or log.
    """

    names: Tuple[str, ...]
    data: np.ndarray
    time: np.ndarray
    in_degrees: bool = False
    header: Dict[str, str] = field(default_factory=dict)
    path: Optional[str] = None
    notes: Tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.data.ndim != 2 or self.data.shape != (self.time.shape[0], len(self.names)):
            raise ValueError(
                f"Table data shape {self.data.shape} does not match "
                f"{self.time.shape[0]} times x {len(self.names)} names"
            )

    @property
    def rate(self) -> float:
        """Mean sampling rate in Hz (``(T-1)/(t_end-t_start)``); nan for T < 2."""
        if self.time.shape[0] < 2 or self.time[-1] == self.time[0]:
            return float("nan")
        return float((self.time.shape[0] - 1) / (self.time[-1] - self.time[0]))

    def index(self, name: str) -> int:
        """Column index of ``name`` (KeyError naming close matches if absent)."""
        try:
            return self.names.index(name)
        except ValueError:
            import difflib

            close = difflib.get_close_matches(name, self.names, n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise KeyError(f"no column {name!r} in {self.path or 'table'}{hint}") from None

    def column(self, name: str) -> np.ndarray:
        """The column ``name`` as a (T,) array (``"time"`` gives :attr:`time`)."""
        if name == "time" and "time" not in self.names:
            return self.time
        return self.data[:, self.index(name)]

    def columns(self, names: Iterable[str]) -> np.ndarray:
        """Several columns stacked as (T, len(names))."""
        return np.stack([self.column(n) for n in names], axis=1)

    def __contains__(self, name: object) -> bool:
        return name in self.names

    def to_radians(self, names: Iterable[str]) -> "Table":
        """A copy with the given (rotational) columns converted degrees -> radians.

        Does nothing (returns ``self``) if the table is not ``in_degrees``.
        The returned table has ``in_degrees=False``; columns not listed are
        unchanged (e.g. pelvis translations in metres).
        """
        if not self.in_degrees:
            return self
        data = self.data.copy()
        for n in names:
            data[:, self.index(n)] *= math.pi / 180.0
        return replace(self, data=data, in_degrees=False)

    def select(self, t0: float = -math.inf, t1: float = math.inf) -> "Table":
        """Rows with ``t0 <= time <= t1`` (a copy)."""
        m = (self.time >= t0) & (self.time <= t1)
        return replace(self, data=self.data[m].copy(), time=self.time[m].copy())


def _split_fields(line: str) -> List[str]:
    """Tab-separated if the line has tabs (trailing empty fields dropped), else whitespace."""
    if "\t" in line:
        parts = [p.strip() for p in line.rstrip("\r\n").split("\t")]
        while parts and parts[-1] == "":
            parts.pop()
        return parts
    return line.split()


def _read_lines(path) -> List[str]:
    raw = Path(path).read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    if "\x00" in text:
        raise DataFormatError(path, "binary content (NUL bytes); expected a text file")
    return text.splitlines()


def _parse_int(path, value: str, key: str, line: int) -> int:
    try:
        return int(float(value))
    except (ValueError, OverflowError):  # not a number, NaN or infinite
        raise DataFormatError(path, f"value {value!r} is not a number; expected an integer",
                              line=line, field=key) from None


def read_table(path: PathLike, *, datarows_mismatch: str = "warn") -> Table:
    """Read an OpenSim storage table (``.mot`` or ``.sto``).

    Format: header lines up to a line ``endheader``; then one line of column
    labels (the first is ``time``); then one row of numbers per line.  Fields are
    tab-separated (whitespace-separated if a line has no tab); trailing tabs are
    ignored.  Both header styles are understood: ``key=value`` (``version``,
    ``nRows``, ``nColumns``, ``inDegrees``) and the legacy SIMM style
    ``datacolumns N`` / ``datarows N`` / ``range a b``.

    Checks (raising :class:`DataFormatError` naming file, line and what was
    expected): missing ``endheader`` or labels, a row whose number of values
    differs from the number of labels (e.g. a row cut short), a value that is
    not a number, ``nColumns``/``datacolumns`` differing from the labels, and
    ``nRows`` differing from the number of rows read (a truncated file).
    The legacy ``datarows`` count is known to be wrong in published files
    (OpenSim's own ``subject02_running_grf.mot`` says 901 rows and holds 601),
    so a mismatch there only warns by default (``datarows_mismatch`` =
    ``"warn"`` | ``"raise"`` | ``"ignore"``).

    Returns
    -------
    Table
        Values unconverted: SI units; rotations in degrees if ``in_degrees``.
    """
    path = os.fspath(path)
    lines = _read_lines(path)
    header: Dict[str, str] = {}
    end = None
    for i, line in enumerate(lines):
        s = line.strip()
        if s.lower() == "endheader":
            end = i
            break
        if not s:
            continue
        if "=" in s:
            k, v = s.split("=", 1)
            header[k.strip()] = v.strip()
        else:
            parts = s.split(None, 1)
            key = parts[0]
            if key in ("name", "datacolumns", "datarows", "range"):
                header[key] = parts[1].strip() if len(parts) > 1 else ""
            elif i == 0:
                header["title"] = s
            else:
                header.setdefault("comments", "")
                header["comments"] += (("\n" if header["comments"] else "") + s)
    if end is None:
        raise DataFormatError(path, "no 'endheader' line; expected an OpenSim .mot/.sto header "
                              "terminated by 'endheader'", line=len(lines) or None)
    # column labels: first non-empty line after endheader
    j = end + 1
    while j < len(lines) and not lines[j].strip():
        j += 1
    if j >= len(lines):
        raise DataFormatError(path, "file ends after the header; expected a line of column labels",
                              line=j)
    labels = _split_fields(lines[j])
    if any(lab == "" for lab in labels):
        raise DataFormatError(path, f"empty column label in {labels!r}; expected one label per "
                              "tab-separated column", line=j + 1)
    k = len(labels)
    notes: List[str] = []
    for key in ("nColumns", "datacolumns"):
        if key in header:
            n = _parse_int(path, header[key], key, None)
            if n == k - 1:
                notes.append(f"{key}={n} counts the columns without time")
            elif n != k:
                raise DataFormatError(path, f"header says {n} columns but the label line has {k}",
                                      line=j + 1, field=key)

    rows: List[List[float]] = []
    row_lines: List[int] = []
    for li in range(j + 1, len(lines)):
        line = lines[li]
        if not line.strip():
            continue
        parts = _split_fields(line)
        if len(parts) != k:
            raise DataFormatError(
                path,
                f"row has {len(parts)} values, expected {k} (one per column: "
                f"{', '.join(labels[:4])}{', ...' if k > 4 else ''}); the file may be truncated",
                line=li + 1,
            )
        try:
            rows.append([float(v) for v in parts])
            row_lines.append(li + 1)
        except ValueError:
            for c, v in enumerate(parts):
                try:
                    float(v)
                except ValueError:
                    raise DataFormatError(path, f"value {v!r} is not a number; expected a float",
                                          line=li + 1, field=labels[c]) from None
            raise
    data = np.asarray(rows, dtype=np.float64).reshape(len(rows), k)
    bad = np.argwhere(np.isinf(data) | (np.isnan(data) & (np.arange(k) == 0)))
    if len(bad):  # NaN marks a missing value; an infinity or a NaN time is a corrupt one
        r, c = bad[0]
        raise DataFormatError(path, f"value {data[r, c]!r} is not finite; expected a finite "
                              f"{'time' if c == 0 else 'value (NaN for a missing one)'}",
                              line=row_lines[r], field=labels[c])
    if "nRows" in header:
        n = _parse_int(path, header["nRows"], "nRows", None)
        if n != data.shape[0]:
            raise DataFormatError(path, f"header says {n} rows but {data.shape[0]} were read; "
                                  "the file may be truncated", field="nRows")
    if "datarows" in header and datarows_mismatch != "ignore":
        n = _parse_int(path, header["datarows"], "datarows", None)
        if n != data.shape[0]:
            msg = f"legacy header 'datarows {n}' but {data.shape[0]} rows were read"
            if datarows_mismatch == "raise":
                raise DataFormatError(path, msg, field="datarows")
            warnings.warn(f"{path}: {msg}", stacklevel=2)
            notes.append(msg + "; used the rows")

    if labels[0].lower() == "time":
        time = data[:, 0].copy()
        names = tuple(labels[1:])
        values = np.ascontiguousarray(data[:, 1:])
    else:
        raise DataFormatError(path, f"first column is {labels[0]!r}; expected 'time'",
                              line=j + 1, field=labels[0])
    in_deg = header.get("inDegrees", "no").strip().lower() in ("yes", "true", "1")
    return Table(names=names, data=values, time=time, in_degrees=in_deg, header=header,
                 path=path, notes=tuple(notes))


def read_mot(path: PathLike, **kwargs) -> Table:
    """Read an OpenSim motion file (``.mot``).  See :func:`read_table`."""
    return read_table(path, **kwargs)


def read_sto(path: PathLike, **kwargs) -> Table:
    """Read an OpenSim storage file (``.sto``).  See :func:`read_table`."""
    return read_table(path, **kwargs)


# --------------------------------------------------------------------------- #
# .trc markers
# --------------------------------------------------------------------------- #
@dataclass(frozen=True, eq=False)  # holds arrays: compare fields explicitly
class Markers:
    """Marker trajectories.

    Attributes
    ----------
    names : tuple of str
        Marker labels.
    positions : ndarray, shape (T, n, 3), float64
        Positions in **metres**, in the file's lab/ground frame (for OpenSim
        ``.trc``: Y up, X forward, Z right).  Missing samples are NaN.
    rate : float
        Sampling rate in Hz.
    time : ndarray, shape (T,)
        Time in seconds.
    units : str
        The length unit stated by the file (values were converted from it).
    frames : ndarray, shape (T,), int
        Frame numbers as stored (``Frame#``); ``arange(T)+1`` where absent.
    path : str or None
    notes : tuple of str
        What the reader tolerated (header variants, a stale ``NumFrames``), for callers
        to print or log.
    """

    names: Tuple[str, ...]
    positions: np.ndarray
    rate: float
    time: np.ndarray
    units: str = "m"
    frames: Optional[np.ndarray] = None
    path: Optional[str] = None
    notes: Tuple[str, ...] = ()

    def index(self, name: str) -> int:
        try:
            return self.names.index(name)
        except ValueError:
            raise KeyError(f"no marker {name!r} in {self.path or 'markers'}") from None

    def marker(self, name: str) -> np.ndarray:
        """Trajectory of one marker, (T, 3) in metres."""
        return self.positions[:, self.index(name), :]


def _trc_header(path, keys: List[str], vals: List[str]) -> Tuple[Dict[str, str], List[str]]:
    """Key -> value of TRC lines 2-3; tolerates empty fields (double tabs) in either line
    and padding columns.  Returns the mapping and notes."""
    notes: List[str] = []
    pos = {k: v for k, v in zip(keys, vals) if k}
    if all(pos.get(k, "") != "" for k in keys if k):
        return pos, notes
    # keys and values disagree about where the empty fields are: pair the non-empty ones
    k2 = [k for k in keys if k]
    v2 = [v for v in vals if v]
    if len(v2) < len(k2):
        raise DataFormatError(path, f"{len(v2)} header values for {len(k2)} keys {k2!r}; "
                              "expected one value per key on line 3", line=3)
    notes.append("header values separated by empty fields; paired the non-empty keys and values")
    return dict(zip(k2, v2)), notes


def _header_number(path, meta: Dict[str, str], key: str, kind=float):
    v = meta[key]
    try:
        x = float(v)
        return int(x) if kind is int else x
    except (ValueError, OverflowError):  # not a number, or a NaN/infinite count
        raise DataFormatError(path, f"header value {v!r} of {key} is not a "
                              f"{'whole ' if kind is int else ''}number", line=3, field=key) from None


def read_trc(path: PathLike, *, check_units: bool = True) -> Markers:
    """Read a ``.trc`` marker file (tab-separated; positions converted to metres).

    Layout: line 1 ``PathFileType ...``; line 2 keys (``DataRate CameraRate
    NumFrames NumMarkers Units ...``); line 3 their values; line 4 ``Frame#``,
    ``Time`` and the marker labels; line 5 ``X1 Y1 Z1 ...``; then one row per
    frame.  Empty fields (missing markers) become NaN.

    Variants read: empty fields between header values or between labels (one
    label per 2 or 3 columns), CRLF line ends, blank lines, a tab after the last
    value, rows that stop before their last (missing) markers, ``CameraRate`` without
    ``DataRate``, no ``NumFrames``/``NumMarkers`` (counted), units ``m``/``mm``/``cm``/``in`` with any case or padding.  A
    ``NumFrames`` that disagrees with the rows (a file cut from a longer capture, or
    an exporter that counts frames it did not write) is read: the rows win when their
    frame numbers are contiguous, with a warning naming the file and both counts
    (also in :attr:`Markers.notes`).

    Raises :class:`DataFormatError` when a row has more values than ``2 + 3*NumMarkers``
    or fewer by other than whole X/Y/Z triples, a value is not a number, the label count differs
    from ``NumMarkers``, the times do not increase from row to row (a repeated or
    misplaced row), the row count differs from ``NumFrames`` and the frame numbers
    skip (rows missing inside the file), the unit is unknown or missing, or (``check_units``) the stated
    unit does not fit the markers' spread (:func:`symgait.io.units.check_marker_units`:
    mm stored under ``Units m`` and the reverse).
    """
    path = os.fspath(path)
    lines = _read_lines(path)
    if len(lines) < 5:
        raise DataFormatError(path, f"only {len(lines)} lines; expected at least 5 header lines "
                              "(PathFileType, keys, values, labels, X1 Y1 Z1...)")
    if not lines[0].startswith("PathFileType"):
        raise DataFormatError(path, f"first line starts {lines[0][:20]!r}; expected 'PathFileType'",
                              line=1)
    keys = [p.strip() for p in lines[1].split("\t")]
    vals = [p.strip() for p in lines[2].split("\t")]
    meta, notes = _trc_header(path, keys, vals)
    if "DataRate" not in meta and "CameraRate" in meta:
        meta["DataRate"] = meta["CameraRate"]
        notes.append("no DataRate; used CameraRate")
    for need in ("DataRate", "Units"):
        if need not in meta:
            raise DataFormatError(path, f"header key {need!r} missing; expected it among "
                                  f"{[k for k in keys if k]!r}", line=2, field=need)
    rate = _header_number(path, meta, "DataRate")
    if not (math.isfinite(rate) and rate > 0):
        raise DataFormatError(path, f"DataRate {rate} Hz; expected a positive rate", line=3,
                              field="DataRate")
    units = meta["Units"]
    try:
        scale = length_unit_scale(units)
    except KeyError:
        raise DataFormatError(path, f"unknown length unit {units!r}; expected one of "
                              f"{sorted(LENGTH_UNITS)}", line=3, field="Units") from None
    lab = [s.strip() for s in lines[3].split("\t")]
    if len(lab) < 2 or lab[0] != "Frame#":
        raise DataFormatError(path, f"label line starts {lines[3][:20]!r}; expected 'Frame#\\tTime'",
                              line=4)
    names = tuple(s for s in lab[2:] if s)
    if "NumMarkers" in meta:
        nmark = _header_number(path, meta, "NumMarkers", int)
        if len(names) != nmark:
            raise DataFormatError(path, f"{len(names)} marker labels but NumMarkers={nmark}",
                                  line=4, field="NumMarkers")
    else:
        nmark = len(names)
        notes.append(f"no NumMarkers; counted {nmark} labels")
    if len(set(names)) != len(names):
        dup = sorted({n for n in names if names.count(n) > 1})
        raise DataFormatError(path, f"marker labels repeated: {dup}; expected unique labels",
                              line=4)
    ncol = 2 + 3 * nmark
    frames, times, rows, row_lines = [], [], [], []
    short = 0
    for li in range(5, len(lines)):
        line = lines[li]
        if not line.strip():
            continue
        line = line.rstrip("\r\n")
        if line.endswith("\t"):  # OpenSim writes a tab after every value, the last one too
            line = line[:-1]
        parts = [p.strip() for p in line.split("\t")]
        # drop trailing empties beyond the expected columns (some writers pad)
        while len(parts) > ncol and parts[-1] == "":
            parts.pop()
        if 2 <= len(parts) < ncol and (ncol - len(parts)) % 3 == 0:
            short += 1                  # writers that omit the trailing missing markers
            parts += [""] * (ncol - len(parts))
        if len(parts) != ncol:
            raise DataFormatError(
                path, f"row has {len(parts)} fields, expected {ncol} (Frame#, Time and X/Y/Z of "
                f"{nmark} markers); a column is missing or the file is truncated", line=li + 1)
        try:
            frames.append(int(float(parts[0])))
            times.append(float(parts[1]))
            rows.append([float(v) if v != "" else math.nan for v in parts[2:]])
            row_lines.append(li + 1)
            if not math.isfinite(times[-1]) or any(math.isinf(v) for v in rows[-1]):
                raise ValueError
        except (ValueError, OverflowError):
            for c, v in enumerate(parts):
                try:
                    if (v != "" or c < 2) and not (math.isfinite(float(v)) or (c >= 2 and math.isnan(float(v)))):
                        raise ValueError
                    if c == 0:
                        int(float(v))
                except (ValueError, OverflowError):
                    fld = "Frame#" if c == 0 else "Time" if c == 1 else \
                        f"{names[(c - 2) // 3]}.{'XYZ'[(c - 2) % 3]}"
                    raise DataFormatError(path, f"value {v!r} is not a finite number (empty or NaN "
                                          f"for a missing marker)", line=li + 1, field=fld) from None
            raise
    if not rows:
        raise DataFormatError(path, "no data rows after the 5 header lines", line=len(lines))
    if short:
        notes.append(f"{short} row(s) end before the last markers (whole X/Y/Z triples "
                     "missing); those markers are NaN there")
    for k in range(1, len(times)):
        if not times[k] > times[k - 1]:
            raise DataFormatError(path, f"Time {times[k]:g} s does not follow {times[k - 1]:g} s of the "
                                  f"row before (line {row_lines[k - 1]}); expected increasing times, "
                                  "one row per frame (a row repeated or out of order)",
                                  line=row_lines[k], field="Time")
    if "NumFrames" in meta:
        nframes = _header_number(path, meta, "NumFrames", int)
        if len(rows) != nframes:
            for k in range(1, len(frames)):
                if frames[k] != frames[k - 1] + 1:
                    raise DataFormatError(
                        path, f"header says NumFrames={nframes} but {len(rows)} rows were read, and "
                        f"frame {frames[k]} follows frame {frames[k - 1]} (line {row_lines[k - 1]}): "
                        "rows are missing inside the file; export the trial again",
                        line=row_lines[k], field="Frame#")
            why = ("the header counts a longer capture" if frames[0] > 1 and len(rows) < nframes
                   else "the header miscounts the rows, which are contiguous")
            msg = (f"NumFrames={nframes} but {len(rows)} rows (frames {frames[0]}-"
                   f"{frames[-1]}): {why}; used the rows")
            notes.append(msg)
            warnings.warn(f"{path}: {msg}", stacklevel=2)
    pos = np.asarray(rows, dtype=np.float64).reshape(len(rows), nmark, 3) * scale
    if check_units:
        check_marker_units(pos, units, path, field="Units")
    return Markers(names=names, positions=pos, rate=rate, time=np.asarray(times),
                   units=units, frames=np.asarray(frames, dtype=np.int64), path=path,
                   notes=tuple(notes))


# --------------------------------------------------------------------------- #
# ExternalLoads .xml
# --------------------------------------------------------------------------- #
@dataclass(frozen=True)
class ExternalForce:
    """One ``<ExternalForce>`` of an OpenSim ExternalLoads file.

    The data columns are ``force_identifier + {x,y,z}`` (N),
    ``point_identifier + {x,y,z}`` (m) and ``torque_identifier + {x,y,z}``
    (N·m), expressed in ``force_expressed_in_body`` / ``point_expressed_in_body``
    (normally ``ground``: Y up).
    """

    name: str
    applied_to_body: str
    force_identifier: str
    point_identifier: Optional[str]
    torque_identifier: Optional[str]
    force_expressed_in_body: str = "ground"
    point_expressed_in_body: str = "ground"
    data_source_name: Optional[str] = None
    disabled: bool = False
    datafile: Optional[str] = None  # the ExternalLoads <datafile> (else data_source_name)

    def _cols(self, prefix: Optional[str]) -> List[str]:
        return [f"{prefix}{a}" for a in "xyz"] if prefix else []

    @property
    def force_columns(self) -> List[str]:
        return self._cols(self.force_identifier)

    @property
    def point_columns(self) -> List[str]:
        return self._cols(self.point_identifier)

    @property
    def torque_columns(self) -> List[str]:
        return self._cols(self.torque_identifier)

    def data(self, table: Table) -> Tuple[np.ndarray, Optional[np.ndarray], Optional[np.ndarray]]:
        """``(force (T,3) N, point (T,3) m or None, torque (T,3) N·m or None)`` from ``table``."""
        f = table.columns(self.force_columns)
        p = table.columns(self.point_columns) if self.point_identifier else None
        t = table.columns(self.torque_columns) if self.torque_identifier else None
        return f, p, t


@dataclass(frozen=True)
class ExternalLoads(Sequence[ExternalForce]):
    """The forces of an ExternalLoads file; iterates over its :class:`ExternalForce` s."""

    name: str
    forces: Tuple[ExternalForce, ...]
    datafile: Optional[str]
    path: Optional[str] = None

    def __len__(self) -> int:
        return len(self.forces)

    def __getitem__(self, i):  # type: ignore[override]
        if isinstance(i, str):
            for f in self.forces:
                if f.name == i:
                    return f
            raise KeyError(i)
        return self.forces[i]

    def __iter__(self) -> Iterator[ExternalForce]:
        return iter(self.forces)

    @property
    def datafile_path(self) -> Optional[Path]:
        """The data file resolved relative to the XML file's folder (may not exist)."""
        if not self.datafile:
            return None
        base = Path(self.path).parent if self.path else Path(".")
        return base / self.datafile


def _text(el: Optional[ET.Element]) -> Optional[str]:
    if el is None or el.text is None:
        return None
    s = el.text.strip()
    return s or None


def read_external_loads(path: PathLike) -> ExternalLoads:
    """Read an OpenSim ExternalLoads ``.xml`` (OpenSim 2.x–4.x layouts).

    Returns an :class:`ExternalLoads` (a sequence of :class:`ExternalForce`)
    with the ``<datafile>`` name; ``.datafile_path`` resolves it next to the XML.
    """
    path = os.fspath(path)
    root = parse_xml(path, "a well-formed OpenSim document")
    el = root if root.tag == "ExternalLoads" else root.find(".//ExternalLoads")
    if el is None:
        raise DataFormatError(path, f"no <ExternalLoads> element (root is <{root.tag}>)")
    datafile = _text(el.find("datafile"))
    forces = []
    for ef in el.iter("ExternalForce"):
        name = ef.get("name") or ""
        body = _text(ef.find("applied_to_body"))
        fid = _text(ef.find("force_identifier"))
        if body is None:
            raise DataFormatError(path, "empty or missing; expected the body name",
                                  field=f"ExternalForce[{name}]/applied_to_body")
        if fid is None:
            raise DataFormatError(path, "empty or missing; expected a column prefix",
                                  field=f"ExternalForce[{name}]/force_identifier")
        dis_txt = _text(ef.find("isDisabled")) or "false"
        applies = _text(ef.find("appliesForce"))  # OpenSim 4.x spelling, inverted meaning
        disabled = dis_txt.lower() == "true" or (applies is not None and applies.lower() == "false")
        forces.append(ExternalForce(
            name=name, applied_to_body=body, force_identifier=fid,
            point_identifier=_text(ef.find("point_identifier")),
            torque_identifier=_text(ef.find("torque_identifier")),
            force_expressed_in_body=_text(ef.find("force_expressed_in_body")) or "ground",
            point_expressed_in_body=_text(ef.find("point_expressed_in_body")) or "ground",
            data_source_name=_text(ef.find("data_source_name")),
            disabled=disabled,
            datafile=datafile or _text(ef.find("data_source_name")),
        ))
    return ExternalLoads(name=el.get("name") or "", forces=tuple(forces),
                         datafile=datafile, path=path)
