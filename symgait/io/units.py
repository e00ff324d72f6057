"""Length units of marker files and a plausibility check of the stated unit.

A marker file states its length unit (TRC ``Units``, C3D ``POINT:UNITS``); a wrong
statement (values in mm under ``Units m``) scales every position by 1000 and every
downstream number with it.  :func:`check_marker_units` compares the spread of the
markers in each frame with the size of a human body and refuses a factor-1000 mismatch.
"""

from __future__ import annotations

from typing import Optional

import numpy as np

from .errors import DataFormatError

__all__ = ["LENGTH_UNITS", "length_unit_scale", "marker_extent", "check_marker_units",
           "PLAUSIBLE_EXTENT"]

# metres per unit, keyed by the spellings found in TRC, C3D and BVH files: every reader's one table
LENGTH_UNITS = {"mm": 1e-3, "millimeters": 1e-3, "millimetres": 1e-3, "cm": 1e-2,
                "centimeters": 1e-2, "centimetres": 1e-2, "dm": 0.1, "m": 1.0,
                "meters": 1.0, "metres": 1.0, "in": 0.0254, "inch": 0.0254, "inches": 0.0254,
                "ft": 0.3048}

# median per-frame marker spread (m) accepted as a human marker set: a foot cluster spans
# ~0.1 m, a full-body set ~1.8 m, a lab with reference markers a few metres; the unit
# mistakes this catches (mm <-> m) change the spread a thousandfold.
PLAUSIBLE_EXTENT = (0.02, 10.0)


def length_unit_scale(unit: str) -> float:
    """Metres per one ``unit`` ("mm", "cm", "m", "in", ...); KeyError if unknown."""
    return LENGTH_UNITS[unit.strip().lower()]


def marker_extent(positions: np.ndarray, min_markers: int = 3) -> Optional[float]:
    """Median over frames of the largest per-axis spread of the markers (same unit as
    ``positions``, shape (T, n, 3), NaN = missing); None when no frame has
    ``min_markers`` valid markers."""
    pos = np.asarray(positions, dtype=np.float64)
    if pos.ndim != 3 or pos.shape[0] == 0:
        return None
    valid = np.isfinite(pos).all(axis=2)
    ok = valid.sum(axis=1) >= min_markers
    if not ok.any():
        return None
    p = np.where(valid[..., None], pos, np.nan)[ok]
    with np.errstate(invalid="ignore"):
        spread = np.nanmax(p, axis=1) - np.nanmin(p, axis=1)      # (T', 3)
    return float(np.median(spread.max(axis=1)))


def check_marker_units(positions_m: np.ndarray, stated: str, path, *, field: str) -> None:
    """Raise :class:`DataFormatError` when markers (already converted to metres from the
    ``stated`` unit) span an implausible distance per frame, naming the likely unit."""
    ext = marker_extent(positions_m)
    if ext is None:
        return
    lo, hi = PLAUSIBLE_EXTENT
    if lo <= ext <= hi:
        return
    if ext > hi:
        likely = "mm" if ext / 1000.0 <= hi else "an unknown unit"
        what = (f"the values look like millimetres (spread {ext / 1000.0:.2f} m if read as mm)"
                if likely == "mm" else "no unit makes them body-sized")
    else:
        likely = "m"
        what = f"the values look like metres (spread {ext * 1000.0:.2f} m if read as m)"
    raise DataFormatError(
        path, f"the file states length unit {stated!r} but its markers span {ext:.4g} m per "
        f"frame (median; a human marker set spans {lo}-{hi} m): {what}. Fix the unit in the "
        f"file (likely {likely!r}) or re-export it", field=field)
