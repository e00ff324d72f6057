"""Corrupt and truncated files raise DataFormatError naming the file, the
line/field and what was expected.  The broken copies are written to tmp_path."""

import pickle

import pytest

from symgait.io import (
    DataFormatError,
    read_amc,
    read_asf,
    read_c3d,
    read_external_loads,
    read_mot,
    read_osim,
    read_trc,
)

W1 = "opensim/gait2354_subject01_walk1/"


def test_error_type_and_message():
    e = DataFormatError("a/b.mot", "expected 3 numbers", line=12, field="nRows")
    assert isinstance(e, ValueError)
    assert str(e) == "a/b.mot, line 12, field 'nRows': expected 3 numbers"
    e2 = pickle.loads(pickle.dumps(e))
    assert str(e2) == str(e) and e2.line == 12 and e2.field == "nRows"


def test_mot_cut_in_the_middle_of_a_row(data, tmp_path):
    src = data(W1 + "subject01_walk1_grf.mot").read_bytes()
    lines = src.split(b"\n")
    k = 700                                   # a data row (header is 7 lines)
    cut = b"\n".join(lines[:k]) + b"\n" + lines[k][: len(lines[k]) // 3]
    p = tmp_path / "cut.mot"
    p.write_bytes(cut)
    with pytest.raises(DataFormatError) as e:
        read_mot(p)
    msg = str(e.value)
    assert "cut.mot" in msg and f"line {k + 1}" in msg and "expected 19" in msg
    assert e.value.line == k + 1


def test_mot_cut_at_a_row_boundary(data, tmp_path):
    src = data(W1 + "subject01_walk1_grf.mot").read_bytes().split(b"\n")
    p = tmp_path / "short.mot"
    p.write_bytes(b"\n".join(src[:500]) + b"\n")
    with pytest.raises(DataFormatError, match=r"short\.mot, field 'nRows': header says 1501 rows "
                                              r"but 493 were read"):
        read_mot(p)


def test_mot_bad_number_and_no_endheader(data, tmp_path):
    src = data(W1 + "subject01_walk1_ik.mot").read_text().splitlines()
    src[20] = src[20].replace(src[20].split()[3], "abc", 1)
    p = tmp_path / "nan.mot"
    p.write_text("\n".join(src) + "\n")
    with pytest.raises(DataFormatError, match=r"nan\.mot, line 21, field 'pelvis_rotation': "
                                              r"value 'abc' is not a number"):
        read_mot(p)
    p.write_text("\n".join(s for s in src if s.strip() != "endheader") + "\n")
    with pytest.raises(DataFormatError, match="no 'endheader' line"):
        read_mot(p)


def test_trc_missing_column(data, tmp_path):
    lines = data(W1 + "subject01_walk1.trc").read_text().split("\n")
    k = 40
    fields = lines[k].split("\t")
    del fields[10]                              # drop one coordinate from one row
    lines[k] = "\t".join(fields)
    p = tmp_path / "missing.trc"
    p.write_text("\n".join(lines))
    with pytest.raises(DataFormatError) as e:
        read_trc(p)
    assert e.value.line == k + 1
    assert "missing.trc" in str(e.value) and "expected 125" in str(e.value)
    # a marker file cut at a row boundary (fewer rows than NumFrames) reads its rows, warning;
    # cut inside a row (a partial X/Y/Z triple) it is refused
    lines = data(W1 + "subject01_walk1.trc").read_text().split("\n")
    p2 = tmp_path / "few.trc"
    p2.write_text("\n".join(lines[:100]))
    with pytest.warns(UserWarning, match=r"few\.trc: NumFrames=151 but 94 rows"):
        assert read_trc(p2).positions.shape[0] == 94
    p2.write_text("\n".join(lines[:99] + ["\t".join(lines[99].split("\t")[:12])]))
    with pytest.raises(DataFormatError, match=r"few\.trc.*row has 12 fields, expected 125"):
        read_trc(p2)


def test_c3d_truncated_to_half(data, tmp_path):
    pytest.importorskip("ezc3d")
    for name in ("Walk1.c3d", "gait-raw.c3d"):
        raw = data("c3d_org/" + name).read_bytes()
        p = tmp_path / ("half_" + name)
        p.write_bytes(raw[: len(raw) // 2])
        with pytest.raises(DataFormatError, match=r"half_.*\.c3d.*the file is truncated"):
            read_c3d(p)
    p = tmp_path / "tiny.c3d"
    p.write_bytes(data("c3d_org/Walk1.c3d").read_bytes()[:2000])
    with pytest.raises(DataFormatError, match=r"tiny\.c3d"):
        read_c3d(p)
    p = tmp_path / "text.c3d"
    p.write_text("not a c3d file at all\n" * 40)
    with pytest.raises(DataFormatError, match=r"text\.c3d: cannot be read as C3D"):
        read_c3d(p)


def test_amc_bone_missing_from_asf(data, tmp_path):
    sk = read_asf(data("cmu/subject08/08.asf"))
    lines = data("cmu/subject08/08_01.amc").read_text().splitlines()[:40]
    lines[10] = "ltail 1.0 2.0"
    p = tmp_path / "tail.amc"
    p.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataFormatError,
                       match=r"tail\.amc, line 11, field 'ltail': bone 'ltail' is not in the "
                             r"skeleton"):
        read_amc(p, sk)


def test_asf_and_xml_truncated(data, tmp_path):
    asf = data("cmu/subject08/08.asf").read_text()
    p = tmp_path / "cut.asf"
    p.write_text(asf[: asf.index(":hierarchy")])      # bones but no hierarchy
    with pytest.raises(DataFormatError, match=r"cut\.asf, field 'lhipjoint'.*not in the "
                                              r":hierarchy"):
        read_asf(p)
    osim = data(W1 + "subject01_simbody.osim").read_text()
    q = tmp_path / "cut.osim"
    q.write_text(osim[: len(osim) // 2])
    with pytest.raises(DataFormatError, match=r"cut\.osim, line \d+: malformed XML"):
        read_osim(q)
    x = tmp_path / "cut.xml"
    x.write_text(data(W1 + "subject01_walk1_grf.xml").read_text()[:900])
    with pytest.raises(DataFormatError, match=r"cut\.xml, line \d+: malformed XML"):
        read_external_loads(x)


def test_amc_cut_mid_line_is_truncated(data, tmp_path):
    sk = read_asf(data("cmu/subject08/08.asf"))
    text = data("cmu/subject08/08_01.amc").read_text()
    lines = text.splitlines()[:60]
    k = next(i for i in range(59, 0, -1) if lines[i].startswith("lfemur"))
    for cut in (lines[k][:2], lines[k][: len(lines[k]) // 2]):  # in the bone name, in the values
        p = tmp_path / "cut.amc"
        p.write_text("\n".join(lines[:k] + [cut]))
        with pytest.raises(DataFormatError, match=rf"cut\.amc, line {k + 1}.*ends in the middle of a "
                                                  r"line.*truncated"):
            read_amc(p, sk)
    lines[k] = lines[k].replace(lines[k].split()[1], "nan", 1)
    p.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataFormatError, match=rf"line {k + 1}, field 'lfemur': non-finite value"):
        read_amc(p, sk)
