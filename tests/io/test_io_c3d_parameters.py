"""The C3D parameter section is checked in Python before the native parser reads it."""
from __future__ import annotations

import pytest

from symgait.io import DataFormatError
from symgait.io.c3d import check_parameter_section, read_c3d

SAMPLE = "more/c3dio/tests/c3d_org_samples/sample_02/pc_real.c3d"


def _first_parameter(raw: bytes) -> int:
    """Byte offset of the first parameter (not group) record."""
    i = (raw[0] - 1) * 512 + 4
    while True:
        n, g = abs(int.from_bytes(raw[i:i + 1], "big", signed=True)), int.from_bytes(raw[i + 1:i + 2], "big", signed=True)
        off = int.from_bytes(raw[i + 2 + n:i + 4 + n], "little", signed=True)
        if g > 0:
            return i
        i = i + 2 + n + off


def test_real_files_pass_and_broken_records_are_refused(data, tmp_path):
    raw = data(SAMPLE).read_bytes()
    check_parameter_section(data(SAMPLE))
    i = _first_parameter(raw)
    n = abs(int.from_bytes(raw[i:i + 1], "big", signed=True))
    cases = {
        "dims": (i + 2 + n + 3, 237, "237 dimensions"),          # 237 dimensions: ezc3d read past its buffer
        "type": (i + 2 + n + 2, 3, "data type 3"),               # no such data type
        "offset": (i + 2 + n + 1, 0x7F, "points outside"),       # next record past the section
    }
    for name, (at, value, words) in cases.items():
        bad = bytearray(raw)
        bad[at] = value
        f = tmp_path / f"{name}.c3d"
        f.write_bytes(bytes(bad))
        with pytest.raises(DataFormatError, match=words) as e:
            read_c3d(f)
        assert str(f) in str(e.value)
    cut = tmp_path / "cut.c3d"
    cut.write_bytes(raw[:(raw[0] - 1) * 512 + 700])
    with pytest.raises(DataFormatError, match="truncated"):
        check_parameter_section(cut)
