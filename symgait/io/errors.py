"""The exception raised by every reader in :mod:`symgait.io` for bad input files."""

from __future__ import annotations

import os
from typing import Optional

from ..errors import SymgaitError

__all__ = ["DataFormatError"]


class DataFormatError(SymgaitError, ValueError):
    """A motion/model file is corrupt, truncated or not in the expected format.

    The message always names the file, where in it the problem is (line number
    and/or field), and what was expected there, e.g.::

        subject01_walk1_grf.mot, line 1508: row has 7 values, expected 19 (one per column)

    Attributes
    ----------
    path : str
        The file (or ``"<string>"`` for in-memory text).
    line : int or None
        1-based line number, where one applies.
    field : str or None
        The header key, column, XML element, bone, ... concerned.
    problem : str
        The bare description (message without the location prefix).
    """

    def __init__(
        self,
        path: "str | os.PathLike[str] | None",
        problem: str,
        *,
        line: Optional[int] = None,
        field: Optional[str] = None,
    ) -> None:
        self.path = os.fspath(path) if path is not None else "<string>"
        self.line = line
        self.field = field
        self.problem = problem
        where = self.path
        if line is not None:
            where += f", line {line}"
        if field is not None:
            where += f", field {field!r}"
        super().__init__(f"{where}: {problem}")

    def __reduce__(self):  # keep pickling (e.g. pytest-xdist) working
        return (
            _rebuild,
            (self.path, self.problem, self.line, self.field),
        )


def _rebuild(path, problem, line, field):
    return DataFormatError(path, problem, line=line, field=field)


def parse_xml(path, expected: str):
    """The root element of an XML file; a malformed document or a bad encoding declaration is a
    :class:`DataFormatError` naming the file, the line and ``expected`` (e.g. "an OpenSim model
    document")."""
    import xml.etree.ElementTree as ET
    try:
        return ET.parse(path).getroot()
    except ET.ParseError as e:
        line = e.position[0] if getattr(e, "position", None) else None
        raise DataFormatError(path, f"malformed XML ({e}); expected {expected}", line=line) from None
    except (LookupError, ValueError) as e:  # an unknown or multi-byte encoding in the declaration
        raise DataFormatError(path, f"XML declaration: {e}; expected encoding=\"UTF-8\"",
                              line=1, field="encoding") from None
