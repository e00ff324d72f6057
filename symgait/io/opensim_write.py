"""Writers of OpenSim data files: ``.sto``/``.mot`` tables and ExternalLoads ``.xml``.

What they write is what OpenSim 4.x reads (``opensim.Storage``, ``opensim.TimeSeriesTable``,
``opensim.ExternalLoads``) and what the readers of :mod:`symgait.io.opensim` read back.

Tables (:func:`write_table`) use the header that OpenSim's own tools write (the
InverseDynamicsTool's ``inverse_dynamics.sto``, the GRF ``.mot`` of OpenSim's examples)::

    <title>
    version=1
    nRows=<rows>
    nColumns=<columns, time included>
    inDegrees=yes|no
    endheader
    time<TAB><label><TAB>...
    <t><TAB><value><TAB>...

Values are written with 12 significant digits, tab-separated, ``time`` first.  OpenSim reads
``nan`` as a missing value only in some readers, and its ExternalForce splines do not accept it:
the writers refuse non-finite values (NaN, inf) with an error naming the column, so the caller
decides what a missing value becomes.

Ground reaction files (:func:`grf_columns`, :func:`write_grf_mot`, :func:`write_external_loads`)
follow the column names of OpenSim's examples and of Hamner & Delp (2013): for a prefix
``P`` (e.g. ``R_ground``), ``P_force_vx, P_force_vy, P_force_vz`` (force, N),
``P_force_px, P_force_py, P_force_pz`` (point of application, m) and
``P_torque_x, P_torque_y, P_torque_z`` (torque, N·m), all in the ground frame; the ExternalForce
of that prefix then has ``force_identifier P_force_v``, ``point_identifier P_force_p`` and
``torque_identifier P_torque_`` (OpenSim appends ``x``, ``y``, ``z``).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Optional, Sequence, Tuple
from xml.sax.saxutils import escape

import numpy as np

from ..atomic import write_text
from ..errors import InputError

__all__ = ["write_table", "write_coordinates", "GrfLoad", "grf_columns", "write_grf_mot",
           "write_external_loads"]


def _check_label(path, name: str) -> None:
    if not isinstance(name, str) or not name or any(ch.isspace() for ch in name):
        raise InputError(f"{path}: column label {name!r}: labels of an OpenSim table must be "
                         "non-empty and hold no spaces or tabs")


def write_table(path, time, names: Sequence[str], data, *, title: Optional[str] = None,
                in_degrees: bool = False) -> Path:
    """Write an OpenSim ``.sto``/``.mot`` table (header in the module docstring).

    ``time`` (T,) s, strictly increasing; ``names`` the k column labels after ``time``;
    ``data`` (T, k) in the units the columns hold (SI; rotations in degrees where
    ``in_degrees``).  ``title`` is the first header line (default: the file's stem).
    Raises :class:`symgait.InputError` on a non-finite value, a time that does not increase,
    a label with spaces, a repeated label or mismatched shapes.
    """
    path = Path(path)
    t = np.asarray(time, dtype=np.float64).reshape(-1)
    x = np.asarray(data, dtype=np.float64)
    names = [str(n) for n in names]
    if x.ndim == 1 and len(names) == 1:
        x = x[:, None]
    if x.shape != (t.size, len(names)):
        raise InputError(f"{path}: data of shape {x.shape} for {t.size} times and {len(names)} "
                         "columns; give (times, columns)")
    for n in names:
        _check_label(path, n)
    if "time" in names or len(set(names)) != len(names):
        dup = sorted({n for n in names if names.count(n) > 1 or n == "time"})
        raise InputError(f"{path}: repeated column labels {dup} ('time' is written first by itself)")
    if not np.isfinite(t).all():
        raise InputError(f"{path}: a time is not finite; give finite times in seconds")
    if t.size > 1 and not (np.diff(t) > 0).all():
        k = int(np.argmax(~(np.diff(t) > 0)))
        raise InputError(f"{path}: time does not increase at row {k + 2} ({t[k]:g} then "
                         f"{t[k + 1]:g} s); OpenSim needs strictly increasing times")
    bad = ~np.isfinite(x)
    if bad.any():
        r, c = np.argwhere(bad)[0]
        raise InputError(f"{path}: column {names[c]!r} holds {x[r, c]} at t = {t[r]:g} s "
                         f"({int(bad[:, c].sum())} such values); OpenSim tables need finite values: "
                         "fill or drop them before writing")
    title = title if title is not None else path.stem
    if not title or "\n" in title or "=" in title:
        raise InputError(f"{path}: table title {title!r}: one line without '='")
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [title, "version=1", f"nRows={t.size}", f"nColumns={len(names) + 1}",
             f"inDegrees={'yes' if in_degrees else 'no'}", "endheader",
             "\t".join(["time"] + names)]
    body = np.concatenate([t[:, None], x], axis=1)
    lines += ["\t".join(f"{v:.12g}" for v in row) for row in body]
    return write_text(path, "\n".join(lines) + "\n")


def write_coordinates(path, time, names: Sequence[str], q, rotational: Iterable[str], *,
                      title: str = "Coordinates") -> Path:
    """An OpenSim coordinates ``.mot`` (an IK result): ``q`` (T, k) in radians and metres;
    the ``rotational`` columns are written in degrees, the others as they are, ``inDegrees=yes``
    (OpenSim's convention for IK output)."""
    q = np.array(q, dtype=np.float64)
    rot = set(rotational)
    for j, n in enumerate(names):
        if n in rot:
            q[:, j] = np.degrees(q[:, j])
    return write_table(path, time, names, q, title=title, in_degrees=True)


@dataclass(frozen=True)
class GrfLoad:
    """One ground reaction of a GRF ``.mot``: column ``prefix`` (module docstring), the body it
    acts on and the ExternalForce's name.  ``force`` (T, 3) N, ``point`` (T, 3) m and
    ``torque`` (T, 3) N·m, ground frame."""
    name: str
    body: str
    prefix: str
    force: np.ndarray
    point: np.ndarray
    torque: np.ndarray


def grf_columns(prefix: str) -> Tuple[Tuple[str, ...], Tuple[str, ...], Tuple[str, ...]]:
    """Force, point and torque column labels of ``prefix`` (e.g. ``R_ground`` →
    ``R_ground_force_vx`` …, ``R_ground_force_px`` …, ``R_ground_torque_x`` …)."""
    return (tuple(f"{prefix}_force_v{a}" for a in "xyz"), tuple(f"{prefix}_force_p{a}" for a in "xyz"),
            tuple(f"{prefix}_torque_{a}" for a in "xyz"))


def write_grf_mot(path, time, loads: Sequence[GrfLoad], *, title: Optional[str] = None) -> Path:
    """A GRF ``.mot``: ``time``, then per load its force, point and torque columns
    (:func:`grf_columns`), ground frame, SI units, ``inDegrees=no``."""
    names, cols = [], []
    for ld in loads:
        fc, pc, tc = grf_columns(ld.prefix)
        for lab, arr in zip((fc, pc, tc), (ld.force, ld.point, ld.torque)):
            a = np.asarray(arr, dtype=np.float64)
            if a.shape != (np.size(time), 3):
                raise InputError(f"{path}: {ld.name}: array of shape {a.shape} for columns "
                                 f"{lab[0][:-1]}*; give ({np.size(time)}, 3)")
            names += list(lab)
            cols.append(a)
    data = np.concatenate(cols, axis=1) if cols else np.zeros((np.size(time), 0))
    return write_table(path, time, names, data, title=title, in_degrees=False)


def write_external_loads(path, loads: Sequence[GrfLoad], datafile, *,
                         name: str = "externalloads") -> Path:
    """An ExternalLoads ``.xml`` for a GRF ``.mot`` written by :func:`write_grf_mot`: per load an
    ExternalForce on ``body``, force and point expressed in ground, identifiers from its prefix,
    ``data_source_name`` and ``<datafile>`` the ``.mot`` (written as given: a bare file name is
    found beside the XML)."""
    path = Path(path)
    datafile = str(datafile)
    out = ['<?xml version="1.0" encoding="UTF-8" ?>', '<OpenSimDocument Version="40000">',
           f'\t<ExternalLoads name="{escape(name)}">', "\t\t<objects>"]
    for ld in loads:
        fc, pc, tc = grf_columns(ld.prefix)
        out += [f'\t\t\t<ExternalForce name="{escape(ld.name)}">',
                "\t\t\t\t<appliesForce>true</appliesForce>",
                f"\t\t\t\t<applied_to_body>{escape(ld.body)}</applied_to_body>",
                "\t\t\t\t<force_expressed_in_body>ground</force_expressed_in_body>",
                "\t\t\t\t<point_expressed_in_body>ground</point_expressed_in_body>",
                f"\t\t\t\t<force_identifier>{escape(fc[0][:-1])}</force_identifier>",
                f"\t\t\t\t<point_identifier>{escape(pc[0][:-1])}</point_identifier>",
                f"\t\t\t\t<torque_identifier>{escape(tc[0][:-1])}</torque_identifier>",
                f"\t\t\t\t<data_source_name>{escape(datafile)}</data_source_name>",
                "\t\t\t</ExternalForce>"]
    out += ["\t\t</objects>", "\t\t<groups />", f"\t\t<datafile>{escape(datafile)}</datafile>",
            "\t</ExternalLoads>", "</OpenSimDocument>"]
    return write_text(path, "\n".join(out) + "\n")
