"""C3D reader (via ``ezc3d``): markers, analog channels and force platforms.

Frames and units
----------------
Everything is returned in the C3D file's **lab frame** (for the c3d.org sample
files: Z up), converted to SI: positions in metres (from ``POINT:UNITS``),
forces in N, moments in N·m.  Nothing is rotated into OpenSim's Y-up frame;
pass ``up=plate.normal`` (or ``(0, 0, 1)``) to :mod:`symgait.forces.wrench`.

Force platforms (types 1-4 through ezc3d's platform module):

* ``force`` — the **ground reaction on the subject** (vertical component
  positive).  ezc3d returns the plate's measured force in the lab frame; if its
  vertical component is mostly negative (force-on-plate convention) it is
  negated, together with the moment (``ForcePlate.sign_flipped``).
* ``moment`` — moment of that reaction about the plate's surface centre
  (mean of the corners), lab frame, N·m.
* ``cop`` — centre of pressure on the plate surface (lab, m), computed from
  ``force``/``moment`` as the point of the surface plane where the moment is
  normal to the plate.
* ``free_moment`` — the moment about the upward plate normal through the COP
  (N·m; positive counter-clockwise seen from above).
* Where the normal force is below ``cop_threshold`` (default 20 N) the COP is
  undefined: ``cop`` is set to the plate centre, ``free_moment`` to 0, and
  ``loaded`` is False.

ezc3d states moments in ``force unit x POINT:UNITS`` (N·mm for mm files) and
positions in ``POINT:UNITS``; both are converted here.  By default each plate
is zeroed with the mean of its own output over the ``FORCE_PLATFORM:ZERO``
frame range (C3D convention; ``ZERO[0] = 0`` means no zeroing) unless that
baseline carries more than ``max_baseline`` N (the plate was loaded).
"""

from __future__ import annotations

import os
import struct
import warnings
from dataclasses import dataclass, replace
from typing import List, Optional, Tuple

import numpy as np

from .errors import DataFormatError
from ..signals.filters import resample
from .units import LENGTH_UNITS, check_marker_units

__all__ = ["C3DData", "ForcePlate", "read_c3d", "OUTPUT_GROUPS"]

# POINT parameters listing points that are model outputs (Plug-in-Gait angles, forces,
# moments, powers), not marker positions
OUTPUT_GROUPS = ("ANGLES", "FORCES", "MOMENTS", "POWERS", "SCALARS", "REACTIONS")


def _length_scale(unit: str, path, field: str) -> float:
    u = (unit or "").strip().lower()
    if u in LENGTH_UNITS:
        return LENGTH_UNITS[u]
    raise DataFormatError(path, f"unknown length unit {unit!r}; expected one of "
                          f"{sorted(LENGTH_UNITS)}", field=field)


@dataclass(frozen=True, eq=False)  # holds arrays: compare fields explicitly
class ForcePlate:
    """One force platform's output (see the module docstring for conventions).

    Arrays are sampled at ``rate`` Hz at times ``time`` (s); N samples.

    Attributes
    ----------
    index : int (0-based), type : int (C3D FORCE_PLATFORM:TYPE)
    corners : (4, 3) m, lab frame, in the file's order
    centre : (3,) m, surface centre (mean of the corners)
    normal : (3,) unit upward plate normal, lab frame
    force : (N, 3) N; moment : (N, 3) N·m about ``centre``
    cop : (N, 3) m; free_moment : (N,) N·m; loaded : (N,) bool
    sign_flipped : bool, zeroed : bool (baseline removed)
    """

    index: int
    type: int
    corners: np.ndarray
    centre: np.ndarray
    normal: np.ndarray
    rate: float
    time: np.ndarray
    force: np.ndarray
    moment: np.ndarray
    cop: np.ndarray
    free_moment: np.ndarray
    loaded: np.ndarray
    cop_threshold: float = 20.0
    sign_flipped: bool = False
    zeroed: bool = False

    @property
    def vertical_force(self) -> np.ndarray:
        """Normal component of ``force`` (N), positive when the plate pushes up."""
        return self.force @ self.normal

    def resampled(self, t_dst, *, antialias: bool = True) -> "ForcePlate":
        """The plate at times ``t_dst`` (s): force and moment are (anti-aliased and)
        linearly interpolated, then COP and free moment recomputed."""
        t_dst = np.asarray(t_dst, dtype=np.float64)
        fm = np.concatenate([self.force, self.moment], axis=1)
        fm = resample(fm, self.time, t_dst, antialias=antialias and t_dst.size > 1,
                      outside="clip")
        rate = float((t_dst.size - 1) / (t_dst[-1] - t_dst[0])) if t_dst.size > 1 else self.rate
        F, M = fm[:, :3], fm[:, 3:]
        cop, tz, loaded = _cop_free_moment(F, M, self.centre, self.normal, self.cop_threshold)
        return replace(self, rate=rate, time=t_dst, force=F, moment=M, cop=cop,
                       free_moment=tz, loaded=loaded)


@dataclass(frozen=True, eq=False)  # holds arrays: compare fields explicitly
class C3DData:
    """Contents of a C3D file, SI units, lab frame.

    Attributes
    ----------
    marker_labels : tuple of str (POINT:LABELS of the stored points, model outputs excluded)
    markers : (T, n, 3) m; NaN where ezc3d marks a point invalid
    point_rate : float Hz;  time : (T,) s (starts at first_frame / point_rate)
    point_units : str, the file's POINT:UNITS
    analog_labels : tuple of str;  analogs : (Ta, m) as stored (ANALOG scale/offset applied)
    analog_rate : float Hz;  analog_units : tuple of str (file's ANALOG:UNITS, unverified)
    analog_time : (Ta,) s
    plates : tuple of :class:`ForcePlate` (at the analog rate unless resampled)
    first_frame : int (0-based, from the header)
    output_labels : tuple of str, points listed in POINT:ANGLES/FORCES/MOMENTS/POWERS/...
        (model outputs such as Plug-in-Gait joint angles; not markers)
    outputs : (T, k, 3) those points' values as stored (their own units, unconverted)
    notes : tuple of str, what the reader tolerated or left out (for callers to print)
    """

    path: str
    marker_labels: Tuple[str, ...]
    markers: np.ndarray
    point_rate: float
    point_units: str
    time: np.ndarray
    analog_labels: Tuple[str, ...]
    analogs: np.ndarray
    analog_rate: float
    analog_units: Tuple[str, ...]
    analog_time: np.ndarray
    plates: Tuple[ForcePlate, ...]
    first_frame: int = 0
    output_labels: Tuple[str, ...] = ()
    outputs: Optional[np.ndarray] = None
    notes: Tuple[str, ...] = ()

    def marker(self, label: str) -> np.ndarray:
        """(T, 3) trajectory in metres."""
        try:
            return self.markers[:, self.marker_labels.index(label), :]
        except ValueError:
            raise KeyError(f"no marker {label!r} in {self.path}") from None

    def analog(self, label: str) -> np.ndarray:
        try:
            return self.analogs[:, self.analog_labels.index(label)]
        except ValueError:
            raise KeyError(f"no analog channel {label!r} in {self.path}") from None


def _cop_free_moment(F, M, centre, n, threshold):
    fn = F @ n
    loaded = fn > threshold
    safe = np.where(loaded, fn, 1.0)
    r = np.cross(n, M) / safe[:, None]
    r = np.where(loaded[:, None], r, 0.0)
    cop = centre + r
    tz = (M - np.cross(r, F)) @ n
    tz = np.where(loaded, tz, 0.0)
    return cop, tz, loaded


def _param(p, group, name, default=None):
    try:
        return p[group][name]["value"]
    except (KeyError, TypeError):
        return default


def _labels(p, group, n) -> Tuple[str, ...]:
    labels = list(_param(p, group, "LABELS", []) or [])
    k = 2
    while len(labels) < n and _param(p, group, f"LABELS{k}") is not None:
        labels += list(_param(p, group, f"LABELS{k}"))
        k += 1
    labels = [str(s).strip() for s in labels[:n]]
    labels += [f"{group.lower()}{i + 1}" for i in range(len(labels), n)]
    return tuple(labels)

def _raw_header(path):
    """Frame range and expected data size from the C3D header block (ezc3d rewrites
    its header to what it could read, so truncation must be judged from the bytes).

    Returns ``(first_frame, last_frame, expected_bytes, file_bytes)`` or None if the
    header cannot be interpreted (the caller then relies on ezc3d alone).
    """
    import struct

    try:
        with open(path, "rb") as fh:
            head = fh.read(512)
            pblock = head[0]
            fh.seek((pblock - 1) * 512 + 3)
            proc = fh.read(1)[0]
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
    except (OSError, IndexError):
        return None
    if len(head) < 24 or head[1] != 0x50 or proc not in (84, 85, 86):
        return None
    end = ">" if proc == 86 else "<"
    w = struct.unpack(end + "12H", head[:24])
    npts, nan, first, last, data_start = w[1], w[2], w[3], w[4], w[8]
    sign_byte = {84: head[15], 85: head[13], 86: head[12]}[proc]
    word = 4 if sign_byte & 0x80 else 2          # negative POINT scale = float data
    nframes = last - first + 1
    if last == 0xFFFF or nframes <= 0 or data_start < 2:
        return None
    expected = (data_start - 1) * 512 + nframes * (4 * npts + nan) * word
    return first, last, expected, size


def _array(p, group, name, dtype=float) -> np.ndarray:
    v = _param(p, group, name)
    return np.zeros(0, dtype=dtype) if v is None else np.asarray(v, dtype=dtype)


def _plates_declared(p) -> int:
    """FORCE_PLATFORM:USED (stored as a scalar, a 1-D or a 2-D array by different writers)."""
    used = _array(p, "FORCE_PLATFORM", "USED").ravel()
    return int(used[0]) if used.size else 0


def _check_plate_parameters(path, p, n_analog: int) -> None:
    """Refuse force platforms whose output cannot be computed from the file."""
    n = _plates_declared(p)
    if n <= 0:
        return
    a_used = _array(p, "ANALOG", "USED").ravel()
    if not a_used.size or int(a_used[0]) == 0 or n_analog == 0:
        raise DataFormatError(path, f"{n} force platform(s) declared but ANALOG:USED = 0: the file "
                              "stores no analog samples, so no forces; read it with plates=False "
                              "for the markers alone", field="ANALOG:USED")
    types = _array(p, "FORCE_PLATFORM", "TYPE", int).ravel()
    origin = _array(p, "FORCE_PLATFORM", "ORIGIN")
    for i in range(n):
        if i >= types.size:
            raise DataFormatError(path, f"FORCE_PLATFORM:USED = {n} but TYPE lists {types.size} "
                                  "plates", field="FORCE_PLATFORM:TYPE")
        if types[i] not in (1, 2, 3, 4):
            raise DataFormatError(path, f"plate {i + 1} is of type {types[i]}; types 1-4 are "
                                  "supported; read with plates=False for the markers alone",
                                  field="FORCE_PLATFORM:TYPE")
        if types[i] == 3 and origin.ndim == 2 and origin.shape[1] > i \
                and not (abs(origin[0, i]) > 0 and abs(origin[1, i]) > 0):
            raise DataFormatError(path, f"plate {i + 1} is of type 3 with sensor offsets a = "
                                  f"{origin[0, i]:g}, b = {origin[1, i]:g} in FORCE_PLATFORM:ORIGIN; "
                                  "without them its moments and centre of pressure are unknown; "
                                  "read with plates=False for the markers alone",
                                  field="FORCE_PLATFORM:ORIGIN")


_PARAMETER_TYPES = {-1: 1, 1: 1, 2: 2, 4: 4}  # C3D data types: char, byte, int16, float -> bytes


def check_parameter_section(path) -> None:
    """Walk a C3D file's parameter section in Python before the native parser reads it: every group
    and parameter record must lie inside the section the header declares, with a known data type, at
    most 7 dimensions and its data inside the record.  A broken record raises
    :class:`DataFormatError` naming the byte offset (ezc3d would read past its buffers, and a crash
    there kills the process)."""
    path = os.fspath(path)
    with open(path, "rb") as f:
        head = f.read(512)
        if len(head) < 512:
            raise DataFormatError(path, f"cannot be read as C3D: {len(head)} bytes, shorter than a C3D header (512)")
        first = head[0]
        if head[1] != 0x50 or first < 2:
            raise DataFormatError(path, f"cannot be read as C3D: header bytes 1-2 are {first}, {head[1]} (a C3D "
                                  "file starts with its parameter block number >= 2 and the key 80)")
        f.seek((first - 1) * 512)
        block = f.read(512)
        if len(block) < 4:
            raise DataFormatError(path, "the parameter section the header points to is missing (truncated "
                                  "file)", field="parameters")
        nblocks, processor = block[2], block[3]
        sec = block + f.read(max(nblocks - 1, 0) * 512)
    if processor not in (84, 85, 86):
        raise DataFormatError(path, f"processor type {processor} in the parameter section (expected 84 Intel, "
                              "85 DEC or 86 MIPS)", field="parameters")
    if len(sec) < nblocks * 512:
        raise DataFormatError(path, f"the header declares {nblocks} parameter blocks but the file holds "
                              f"{len(sec) // 512}; the file is truncated", field="parameters")
    order = ">" if processor == 86 else "<"
    base, end, i = (first - 1) * 512, len(sec), 4
    while i + 2 <= end:
        nlen = int.from_bytes(sec[i:i + 1], "big", signed=True)
        group = int.from_bytes(sec[i + 1:i + 2], "big", signed=True)
        if nlen == 0:
            return
        field = i + 2 + abs(nlen)                      # the 16-bit offset to the next record
        if field + 2 > end:
            raise DataFormatError(path, f"parameter record at byte {base + i} runs past the parameter "
                                  f"section", field="parameters")
        step = struct.unpack(order + "h", sec[field:field + 2])[0]
        nxt = field + step if step else end
        if step < 0 or nxt > end:
            raise DataFormatError(path, f"parameter record at byte {base + i} points outside the parameter "
                                  f"section (offset {step})", field="parameters")
        if group > 0:                                  # a parameter: type, dimensions, data
            k = field + 2
            if k + 2 > nxt:
                raise DataFormatError(path, f"parameter record at byte {base + i} is too short", field="parameters")
            dtype = int.from_bytes(sec[k:k + 1], "big", signed=True)
            ndim = sec[k + 1]
            if dtype not in _PARAMETER_TYPES or ndim > 7:
                raise DataFormatError(path, f"parameter record at byte {base + i}: data type {dtype}, {ndim} "
                                      "dimensions (expected -1, 1, 2 or 4 and at most 7)", field="parameters")
            size = _PARAMETER_TYPES[dtype]
            for d in sec[k + 2:k + 2 + ndim]:
                size *= d
            if k + 2 + ndim + size > nxt:
                raise DataFormatError(path, f"parameter record at byte {base + i}: its data ({size} bytes) "
                                      "run past the record", field="parameters")
        if not step:
            return
        i = nxt


def read_c3d_parameters(path: "str | os.PathLike[str]", group: str) -> dict:
    """The parameters of one group of a C3D file's parameter section, ``{name: value}`` (a number
    for a one-element numeric parameter, else a list), e.g. ``PROCESSING`` (Vicon's subject
    measurements: ``Bodymass`` kg, ``Height`` mm ...); empty when the group is absent."""
    import ezc3d
    path = os.fspath(path)
    check_parameter_section(path)
    try:
        c = ezc3d.c3d(path, extract_forceplat_data=False)
    except Exception as e:  # noqa: BLE001 -- ezc3d raises bare RuntimeErrors
        raise DataFormatError(path, f"cannot be read as C3D ({e})") from None
    out = {}
    for name, v in dict(c["parameters"].get(group, {})).items():
        if name.startswith("__") or not isinstance(v, dict) or "value" not in v:
            continue
        val = v["value"]
        val = val.tolist() if hasattr(val, "tolist") else list(val) if isinstance(val, (list, tuple)) else val
        if isinstance(val, list) and len(val) == 1 and isinstance(val[0], (int, float)):
            val = float(val[0])
        out[name] = val
    return out


def read_c3d(path: "str | os.PathLike[str]", *, resample_plates_to_points: bool = False,
             zero_baseline: bool = True, max_baseline: float = 100.0,
             cop_threshold: float = 20.0, antialias: bool = True, plates: bool = True,
             check_units: bool = True) -> C3DData:
    """Read a C3D file: markers (m), analogs, force platforms (N, m, N·m), lab frame.

    Parameters
    ----------
    resample_plates_to_points : bool
        Return plate data at the point (marker) rate and times instead of the
        analog rate (force and moment anti-aliased and interpolated, then COP
        and free moment recomputed).
    zero_baseline : bool
        Subtract each plate's mean output over FORCE_PLATFORM:ZERO frames.
    max_baseline : float, N
        Skip zeroing (with a warning) when the baseline force exceeds this.
    cop_threshold : float, N
        Normal force below which the COP is undefined (see module docstring).
    plates : bool
        Compute the force platforms (False: markers and analogs only, ``plates == ()``).
    check_units : bool
        Refuse a POINT:UNITS that does not fit the markers' spread
        (:func:`symgait.io.units.check_marker_units`).

    Plates: types 1-4 (type 1: force, COP and free moment channels; the moment about
    the centre is rebuilt as r x F + Tz); FORCE_PLATFORM:USED as scalar or array;
    CAL_MATRIX applied for type 4; a positive ORIGIN z (the surface above the transducer is stated with
    the wrong sign by some writers) is negated; for type 3 only the z offset, since
    its ORIGIN x, y are the sensor offsets a, b (> 0).  A file without a
    FORCE_PLATFORM group gives ``plates == ()``.  Points listed in POINT:ANGLES,
    FORCES, MOMENTS, POWERS, ... are model outputs: they are returned in
    ``outputs``, not in ``markers``.

    Raises
    ------
    DataFormatError
        The file cannot be parsed, holds fewer frames than its header
        announces (truncated file), declares plates while ANALOG:USED = 0, has a
        plate of an unsupported type or a type-3 plate without sensor offsets
        (each names ``plates=False``), or states a length unit its markers
        contradict.
    """
    import ezc3d

    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(path)
    raw = _raw_header(path)
    if raw is not None and raw[3] < raw[2]:
        raise DataFormatError(path, f"{raw[3]} bytes but the header (frames {raw[0]}-{raw[1]}) "
                              f"needs {raw[2]}; the file is truncated", field="data block")
    check_parameter_section(path)
    notes: List[str] = []
    plate_error = None
    try:
        c = ezc3d.c3d(path, extract_forceplat_data=plates)
    except (OSError, RuntimeError, ValueError, IndexError) as e:
        plate_error = str(e)
        try:  # parse without the platform module to tell a bad file from bad plate parameters
            c = ezc3d.c3d(path, extract_forceplat_data=False)
        except (OSError, RuntimeError, ValueError, IndexError) as e2:
            raise DataFormatError(path, f"cannot be read as C3D ({e2}); expected a valid C3D "
                                  "file (header, parameter and data blocks)") from None
    hdr = c["header"]
    p = c["parameters"]
    pts = np.asarray(c["data"]["points"], dtype=np.float64)   # (4, n, T)
    ana = np.asarray(c["data"]["analogs"], dtype=np.float64)  # (1, m, Ta)
    platform = []
    if plates and _plates_declared(p) > 0:
        _check_plate_parameters(path, p, ana.shape[1])
        if plate_error is not None:
            raise DataFormatError(path, f"force platforms cannot be computed ({plate_error}); "
                                  "read with plates=False for the markers alone",
                                  field="FORCE_PLATFORM")
        platform = c["data"].get("platform", [])
    elif not plates and _plates_declared(p) > 0:
        notes.append(f"{_plates_declared(p)} force platform(s) not read (plates=False)")
    n_pts = pts.shape[1]
    T = pts.shape[2]
    expected = int(hdr["points"]["last_frame"]) - int(hdr["points"]["first_frame"]) + 1
    if T != expected:
        raise DataFormatError(path, f"{T} frames of data but the header announces {expected} "
                              f"(frames {hdr['points']['first_frame']}-"
                              f"{hdr['points']['last_frame']}); the file is truncated or corrupt",
                              field="data block")
    n_sub = int(round(hdr["analogs"]["frame_rate"] / hdr["points"]["frame_rate"])) \
        if hdr["points"]["frame_rate"] and hdr["analogs"]["size"] else 0
    if ana.shape[1] and ana.shape[2] != T * n_sub:
        raise DataFormatError(path, f"{ana.shape[2]} analog samples, expected {T * n_sub} "
                              f"({T} frames x {n_sub}); the file is truncated or corrupt",
                              field="data block")
    units = _param(p, "POINT", "UNITS", ["mm"])
    units = str(units[0]).strip() if len(units) else "mm"
    ls = _length_scale(units, path, "POINT:UNITS")
    rate = float(np.asarray(_param(p, "POINT", "RATE", [hdr["points"]["frame_rate"]])).ravel()[0])
    first = int(hdr["points"]["first_frame"])
    labels = _labels(p, "POINT", n_pts)
    out_names = set()
    for g in OUTPUT_GROUPS:
        out_names.update(str(x).strip() for x in (_param(p, "POINT", g) or ()))
    is_out = np.array([lab in out_names for lab in labels], dtype=bool)
    allpts = np.ascontiguousarray(np.transpose(pts[:3], (2, 1, 0)))
    markers = allpts[:, ~is_out] * ls
    if is_out.any():
        notes.append(f"{int(is_out.sum())} model-output points (POINT:ANGLES/FORCES/MOMENTS/"
                     "POWERS...) kept apart from the markers")
    if check_units:
        check_marker_units(markers, units, path, field="POINT:UNITS")
    time = (first + np.arange(T)) / rate
    m = ana.shape[1]
    a_rate = float(np.asarray(_param(p, "ANALOG", "RATE", [hdr["analogs"]["frame_rate"]])
                              ).ravel()[0]) if m else 0.0
    analogs = np.ascontiguousarray(ana[0].T) if m else np.zeros((0, 0))
    a_time = first / rate + np.arange(analogs.shape[0]) / a_rate if m else np.zeros(0)
    a_units = tuple(str(u).strip() for u in (_param(p, "ANALOG", "UNITS", []) or [])[:m])

    out_plates = []
    if platform:
        zero = np.asarray(_param(p, "FORCE_PLATFORM", "ZERO", [0, 0]), dtype=int).ravel()
        for i, pf in enumerate(platform):
            out_plates.append(_plate(path, i, pf, p, a_rate, a_time, n_sub, zero,
                                     zero_baseline, max_baseline, cop_threshold, notes))
        if resample_plates_to_points:
            out_plates = [pl.resampled(time, antialias=antialias) for pl in out_plates]
    return C3DData(path=path, marker_labels=tuple(l for l, o in zip(labels, is_out) if not o),
                   markers=markers, point_rate=rate, point_units=units, time=time,
                   analog_labels=_labels(p, "ANALOG", m), analogs=analogs, analog_rate=a_rate,
                   analog_units=a_units, analog_time=a_time, plates=tuple(out_plates),
                   first_frame=first,
                   output_labels=tuple(l for l, o in zip(labels, is_out) if o),
                   outputs=allpts[:, is_out], notes=tuple(notes))


def _plate(path, i, pf, p, a_rate, a_time, n_sub, zero, zero_baseline, max_baseline,
           threshold, notes) -> ForcePlate:
    types = np.asarray(_param(p, "FORCE_PLATFORM", "TYPE", []), dtype=int).ravel()
    ptype = int(types[i]) if i < types.size else 0
    pos_unit = str(pf.get("unit_position", "mm"))
    force_unit = str(pf.get("unit_force", "N"))
    if force_unit.strip().upper() not in ("N", "NT"):
        raise DataFormatError(path, f"force unit {force_unit!r}; expected N",
                              field="FORCE_PLATFORM:UNITS")
    pscale = _length_scale(pos_unit, path, "POINT:UNITS")
    # ezc3d states moments in force unit x position unit (e.g. "Nmm"): scale like lengths
    mscale = pscale
    corners = np.asarray(pf["corners"], dtype=np.float64).T * pscale      # (4, 3)
    F = np.asarray(pf["force"], dtype=np.float64).T.copy()                 # (N, 3)
    M = np.asarray(pf["moment"], dtype=np.float64).T * mscale              # N·m about centre
    centre = corners.mean(axis=0)
    nrm = np.cross(corners[0] - corners[1], corners[0] - corners[3])
    if not np.linalg.norm(nrm) > 0:
        raise DataFormatError(path, f"plate {i + 1} corners are degenerate: {corners.tolist()}",
                              field="FORCE_PLATFORM:CORNERS")
    nrm = nrm / np.linalg.norm(nrm)
    plate_z = nrm.copy()                                  # the plate frame's z (ezc3d's)
    if ptype == 1:
        # ezc3d forms a type-1 moment as F x r - Tz (r: COP from the centre); the moment of
        # the measured force about the centre is r x F + Tz, its negative
        M = -M
    if ptype == 3:
        origin = _array(p, "FORCE_PLATFORM", "ORIGIN")
        oz = origin[2, i] if origin.ndim == 2 and origin.shape[1] > i else 0.0
        if oz > 0:
            # ezc3d negates the whole ORIGIN when its z is positive; for type 3 x, y are the
            # sensor offsets a, b > 0, so their moment terms come out negated: undo that,
            # keeping the (negated) z offset: M = -M_ezc3d + 2 F x (plate_z * az0), az0 = -oz
            M = -M + 2.0 * np.cross(F, plate_z * (-oz * pscale))
            notes.append(f"plate {i + 1}: type 3 with positive ORIGIN z ({oz:g}); "
                         "z offset negated, sensor offsets a, b kept")
    if nrm[np.argmax(np.abs(nrm))] < 0:
        nrm = -nrm
    zeroed = False
    if zero_baseline and zero.size >= 2 and zero[0] >= 1 and zero[1] >= zero[0] and n_sub:
        a, b = (zero[0] - 1) * n_sub, min(zero[1] * n_sub, F.shape[0])
        if b > a:
            f0, m0 = F[a:b].mean(axis=0), M[a:b].mean(axis=0)
            if np.linalg.norm(f0) <= max_baseline:
                F = F - f0
                M = M - m0
                zeroed = True
            else:
                msg = (f"plate {i + 1} baseline over ZERO frames {zero[0]}-{zero[1]} is "
                       f"{np.linalg.norm(f0):.0f} N (> {max_baseline} N, plate loaded?); not zeroed")
                warnings.warn(f"{path}: {msg}", stacklevel=3)
                notes.append(msg)
    flipped = False
    fn = F @ nrm
    strong = np.abs(fn) > threshold
    if strong.any() and np.median(fn[strong]) < 0:
        F, M, flipped = -F, -M, True
    cop, tz, loaded = _cop_free_moment(F, M, centre, nrm, threshold)
    return ForcePlate(index=i, type=ptype, corners=corners, centre=centre, normal=nrm,
                      rate=a_rate, time=a_time.copy(), force=F, moment=M, cop=cop,
                      free_moment=tz, loaded=loaded, cop_threshold=threshold,
                      sign_flipped=flipped, zeroed=zeroed)
