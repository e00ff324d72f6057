"""An OpenSim model's ``<MarkerSet>``: each marker's body and its location in that body's frame.

OpenSim 4.x stores the body as ``<socket_parent_frame>/bodyset/NAME</socket_parent_frame>``,
2.x/3.x as ``<body>NAME</body>``; ``<location>`` is in metres in the body frame (the
model's scale, i.e. the subject's for a scaled model).
"""
from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import List

import numpy as np

from .errors import DataFormatError

__all__ = ["OsimMarker", "read_osim_markers"]


@dataclass(frozen=True, eq=False)  # holds an array
class OsimMarker:
    """``name``, ``body`` (OpenSim body name), ``location`` (3,) m in the body frame."""
    name: str
    body: str
    location: np.ndarray


def read_osim_markers(path: "str | os.PathLike[str]") -> List[OsimMarker]:
    """The markers of an ``.osim`` file's MarkerSet, in file order.

    Raises :class:`DataFormatError` for malformed XML, a model without a MarkerSet, or a
    marker without a body or a 3-number location.
    """
    path = os.fspath(path)
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as e:
        raise DataFormatError(path, f"malformed XML ({e}); expected an OpenSim model document") from None
    model = root if root.tag == "Model" else root.find("Model")
    if model is None:
        raise DataFormatError(path, f"no <Model> element (root is <{root.tag}>)")
    ms = model.find("MarkerSet")
    if ms is None or not list(ms.iter("Marker")):
        raise DataFormatError(path, "the model has no <MarkerSet> markers; give a model with a marker "
                              "set (a scaled .osim from OpenSim's Scale tool has one) or a marker set")
    out = []
    for mk in ms.iter("Marker"):
        name = mk.get("name") or ""
        frame = mk.findtext("socket_parent_frame")
        body = frame.strip().rstrip("/").split("/")[-1] if frame else (mk.findtext("body") or "").strip()
        if not name or not body:
            raise DataFormatError(path, f"marker {name!r}: no body (socket_parent_frame or body)",
                                  field="MarkerSet")
        txt = (mk.findtext("location") or "").split()
        try:
            loc = np.array([float(v) for v in txt])
        except ValueError:
            loc = np.zeros(0)
        if loc.shape != (3,) or not np.all(np.isfinite(loc)):
            raise DataFormatError(path, f"marker {name!r}: location {' '.join(txt)!r} is not 3 numbers",
                                  field="MarkerSet")
        out.append(OsimMarker(name=name, body=body, location=loc))
    return out
