"""File variants found across labs: TRC/MOT header layouts, stated units against the data's
magnitude, marker gaps, C3D force-platform parameters (types 1-4, positive ORIGIN,
ANALOG:USED = 0).  Synthetic files state what they hold; the real-data checks compare
force plates with the markers of the same trial."""

import warnings

import numpy as np
import pytest

from symgait.io import DataFormatError, read_mot, read_trc
from symgait.signals.gaps import fill_gaps, fill_marker_gaps

W1 = "opensim/gait2354_subject01_walk1/"


def _trc_text(names, pos_mm, rate=100.0, units="mm", sep_header="\t", sep_labels="\t\t\t",
              numframes=None, first=1, eol="\n", keys=None):
    T = pos_mm.shape[0]
    keys = keys or ["DataRate", "CameraRate", "NumFrames", "NumMarkers", "Units"]
    vals = {"DataRate": f"{rate:g}", "CameraRate": f"{rate:g}",
            "NumFrames": str(numframes if numframes is not None else T),
            "NumMarkers": str(len(names)), "Units": units}
    lines = ["PathFileType\t4\t(X/Y/Z)\tx.trc", "\t".join(keys),
             sep_header.join(vals[k] for k in keys),
             "Frame#\tTime\t" + sep_labels.join(names),
             "\t\t" + "\t".join(f"{a}{i + 1}" for i in range(len(names)) for a in "XYZ"), ""]
    for t in range(T):
        row = [str(first + t), f"{t / rate:.4f}"] + [
            "" if np.isnan(v) else f"{v:.6f}" for v in pos_mm[t].ravel()]
        lines.append("\t".join(row) + "\t")
    return eol.join(lines) + eol


def _walker(T=50, rate=100.0):
    """Three markers of a person walking at 1.2 m/s: pelvis (1 m up), knee, heel (mm)."""
    t = np.arange(T) / rate
    x = 1200.0 * t
    base = np.array([[0.0, 1000.0, 0.0], [50.0, 500.0, 100.0], [-80.0, 60.0, 100.0]])
    pos = base[None] + np.stack([x, 0 * x, 0 * x], 1)[:, None]
    pos[:, 2, 1] += 40.0 * np.sin(2 * np.pi * t)
    return ["PELV", "KNEE", "HEEL"], pos


def test_trc_header_with_empty_fields_and_crlf(tmp_path):
    """Double tabs between header values and between labels, CRLF line ends: the same
    numbers as the plain layout (the header variant of OpenSim's example trials)."""
    names, pos = _walker()
    plain = tmp_path / "plain.trc"
    plain.write_text(_trc_text(names, pos))
    odd = tmp_path / "odd.trc"
    odd.write_bytes(_trc_text(names, pos, sep_header="\t\t", sep_labels="\t\t",
                              eol="\r\n").encode())
    a, b = read_trc(plain), read_trc(odd)
    assert b.names == a.names == tuple(names) and b.rate == 100.0
    np.testing.assert_allclose(b.positions, pos * 1e-3, atol=1e-9)
    np.testing.assert_array_equal(a.positions, b.positions)
    assert any("empty fields" in n for n in b.notes) and a.notes == ()


def test_trc_real_file_with_double_tab_header(data, tmp_path):
    """OpenSim's subject01_walk1.trc with its header values (line 3) separated by empty
    fields, as some OpenSim example trials are: read as the original."""
    lines = data(W1 + "subject01_walk1.trc").read_text().split("\n")
    lines[2] = lines[2].replace("\t", "\t\t")
    p = tmp_path / "double_tab.trc"
    p.write_text("\n".join(lines))
    a, b = read_trc(data(W1 + "subject01_walk1.trc")), read_trc(p)
    assert b.rate == a.rate == 60.0 and b.names == a.names
    np.testing.assert_array_equal(b.positions, a.positions)


def test_trc_rows_ending_before_missing_markers(tmp_path):
    """A writer that omits the trailing missing markers of a row: those are NaN, the rest
    as stored; a row short by a part of a triple is still an error naming the line."""
    names, pos = _walker(T=10)
    lines = _trc_text(names, pos).split("\n")
    lines[8] = "\t".join(lines[8].split("\t")[:5])          # frame 3: only PELV
    p = tmp_path / "short.trc"
    p.write_text("\n".join(lines))
    m = read_trc(p)
    assert np.isnan(m.positions[2, 1:]).all()
    np.testing.assert_allclose(m.positions[2, 0], pos[2, 0] * 1e-3)
    assert any("end before the last markers" in n for n in m.notes)
    lines[8] = "\t".join(lines[8].split("\t")[:4])
    p.write_text("\n".join(lines))
    with pytest.raises(DataFormatError, match="row has 4 fields, expected 11") as e:
        read_trc(p)
    assert e.value.line == 9


def test_trc_camera_rate_only_and_counts_missing(tmp_path):
    names, pos = _walker(T=20, rate=60.0)
    p = tmp_path / "cam.trc"
    p.write_text(_trc_text(names, pos, rate=60.0, keys=["CameraRate", "Units"]))
    m = read_trc(p)
    assert m.rate == 60.0 and m.positions.shape == (20, 3, 3)
    assert any("CameraRate" in n for n in m.notes)


def test_trc_numframes_of_a_longer_capture(tmp_path):
    """A NumFrames that disagrees with contiguous rows: the rows win, with a note and a warning
    naming the file and both counts -- rows starting after frame 1 (a trimmed capture, as in
    Hamner's subject10 runs), rows from frame 1 fewer than the header counts (an exporter that
    counted 661 frames and wrote 650), and more rows than it counts."""
    names, pos = _walker(T=30)
    p = tmp_path / "trim.trc"
    p.write_text(_trc_text(names, pos, numframes=40, first=4))
    with pytest.warns(UserWarning, match=r"trim\.trc: NumFrames=40 but 30 rows"):
        m = read_trc(p)
    assert m.positions.shape[0] == 30 and m.frames[0] == 4
    assert any("NumFrames=40" in n for n in m.notes)
    np.testing.assert_allclose(m.positions, pos / 1000.0, atol=1e-9)
    for first, stated in ((1, 40), (1, 25)):
        p.write_text(_trc_text(names, pos, numframes=stated, first=first))
        with pytest.warns(UserWarning, match=rf"trim\.trc: NumFrames={stated} but 30 rows"):
            m = read_trc(p)
        assert m.positions.shape == (30, 3, 3) and list(m.frames) == list(range(1, 31))
        np.testing.assert_allclose(m.time, np.arange(30) / 100.0, atol=1e-9)


def test_trc_numframes_661_rows_650(tmp_path):
    """The exporter's case: a header of 661 frames over 650 contiguous rows from frame 1."""
    names, pos = _walker(T=650)
    p = tmp_path / "run.trc"
    p.write_text(_trc_text(names, pos, numframes=661, first=1))
    with pytest.warns(UserWarning, match=r"run\.trc: NumFrames=661 but 650 rows") as rec:
        m = read_trc(p)
    assert len(rec) == 1 and m.positions.shape == (650, 3, 3)


def test_trc_corrupt_rows_still_refused(tmp_path):
    """Rows missing inside the file (frame numbers skip while the header counts more), a repeated
    row (time not increasing), a row with a word instead of a number, and a row with a column
    missing in the middle are refused, naming the line."""
    names, pos = _walker(T=30)
    text = _trc_text(names, pos)
    lines = text.split("\n")
    p = tmp_path / "bad.trc"
    dropped = lines[:5 + 1 + 10] + lines[5 + 1 + 11:]           # row of frame 11 removed
    p.write_text("\n".join(dropped))
    with pytest.raises(DataFormatError, match=r"NumFrames=30 but 29 rows.*frame 12 follows frame 10") as e:
        read_trc(p)
    assert e.value.line == 5 + 1 + 11
    repeated = lines[:5 + 1 + 10] + [lines[5 + 1 + 9]] + lines[5 + 1 + 10:]
    p.write_text("\n".join(repeated))
    with pytest.raises(DataFormatError, match=r"Time 0\.09 s does not follow 0\.09 s"):
        read_trc(p)
    word = list(lines)
    f = word[5 + 1 + 4].split("\t")
    f[4] = "abc"
    word[5 + 1 + 4] = "\t".join(f)
    p.write_text("\n".join(word))
    with pytest.raises(DataFormatError, match=r"'abc' is not a finite number"):
        read_trc(p)
    col = list(lines)
    f = col[5 + 1 + 4].split("\t")
    del f[4]
    col[5 + 1 + 4] = "\t".join(f)
    p.write_text("\n".join(col))
    with pytest.raises(DataFormatError, match=r"row has 10 fields, expected 11"):
        read_trc(p)


@pytest.mark.parametrize("stated,factor,likely", [("m", 1.0, "'mm'"), ("mm", 1e-3, "'m'")])
def test_trc_stated_unit_contradicted_by_magnitude(tmp_path, stated, factor, likely):
    """mm values under `Units m` (pelvis at 1000 'm') and metres under `Units mm` are refused,
    naming the likely unit; the same values under the right unit read."""
    names, pos = _walker()
    p = tmp_path / "u.trc"
    p.write_text(_trc_text(names, pos * factor, units=stated))
    with pytest.raises(DataFormatError, match=rf"states length unit '{stated}'.*likely {likely}"):
        read_trc(p)
    p.write_text(_trc_text(names, pos * factor, units=likely.strip("'")))
    m = read_trc(p)
    assert 0.9 < np.nanmax(m.positions[:, 0, 1]) < 1.1        # pelvis about 1 m up


def test_trc_real_file_rescaled_is_refused(data, tmp_path):
    """OpenSim's subject01_walk1.trc with its Units field changed from mm to m."""
    text = data(W1 + "subject01_walk1.trc").read_text()
    lines = text.split("\n")
    lines[2] = lines[2].replace("\tmm\t", "\tm\t")
    p = tmp_path / "as_m.trc"
    p.write_text("\n".join(lines))
    with pytest.raises(DataFormatError, match="look like millimetres"):
        read_trc(p)


def test_mot_header_versions_and_padding(tmp_path):
    """version=1 with nRows/nColumns, version=2 without nRows, the legacy SIMM header, CRLF
    and padding tabs: the same table."""
    rows = [[0.0, 1.0, 2.0], [0.01, 1.5, 2.5], [0.02, 2.0, 3.0]]
    body = "time\ta\tb\n" + "".join("\t".join(f"{v:g}" for v in r) + "\t\n" for r in rows)
    heads = {
        "v1": "walk\nversion=1\nnRows=3\nnColumns=3\ninDegrees=yes\nendheader\n",
        "v2": "walk\nversion=2\ninDegrees=no\nendheader\n\n",
        "simm": "name walk\ndatacolumns 3\ndatarows 3\nrange 0 0.02\nendheader\n",
    }
    tabs = []
    for k, h in heads.items():
        p = tmp_path / f"{k}.mot"
        p.write_bytes((h + body).replace("\n", "\r\n" if k == "v2" else "\n").encode())
        tabs.append(read_mot(p))
    for t in tabs:
        assert t.names == ("a", "b")
        np.testing.assert_array_equal(t.data, np.asarray(rows)[:, 1:])
        np.testing.assert_array_equal(t.time, np.asarray(rows)[:, 0])
    assert tabs[0].in_degrees and not tabs[1].in_degrees
    # nColumns without the time column is a known variant; another count is an error
    p = tmp_path / "ncol.mot"
    p.write_text("nColumns=2\nendheader\n" + body)
    assert any("without time" in n for n in read_mot(p).notes)
    p.write_text("nColumns=5\nendheader\n" + body)
    with pytest.raises(DataFormatError, match="header says 5 columns but the label line has 3"):
        read_mot(p)


def test_mot_stale_legacy_datarows_is_noted(data):
    """OpenSim's subject02_running_grf.mot says `datarows 901` and holds 601 rows."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        g = read_mot(data("opensim/hamner_subject02_running/subject02_running_grf.mot"))
    assert g.data.shape[0] == 601 and any("datarows 901" in n for n in g.notes)


def test_trc_blank_line_and_two_column_labels(data):
    """nimblephysics' WeirdFormatTests TRC: labels every 2nd column, a blank CR line after the
    axis line, values in metres (61 markers, 100 Hz, 281 frames per MANIFEST.md)."""
    m = read_trc(data("more/nimblephysics/data/osim/WeirdFormatTests/markers.trc"))
    assert m.positions.shape == (281, 61, 3) and m.rate == 100.0 and m.units == "m"
    assert m.names[:3] == ("LFHD", "RFHD", "LBHD")
    head = m.marker("LFHD")[:, 1]
    assert 1.4 < np.nanmedian(head) < 1.9                      # head markers, metres, Y up


# --------------------------------------------------------------------------- C3D plates
SAMPLE26 = "more/c3dio/tests/c3d_org_samples/sample_26/"


def _horizontal_distance_to_segment(p, a, b, n):
    proj = lambda v: v - (v @ n)[:, None] * n  # noqa: E731
    p, a, b = proj(p), proj(a), proj(b)
    ab = b - a
    s = np.clip(((p - a) * ab).sum(1) / (ab * ab).sum(1), 0.0, 1.0)
    return np.linalg.norm(p - (a + s[:, None] * ab), axis=1)


@pytest.mark.parametrize("name", ["Capture0002.c3d", "Capture0003.c3d"])
def test_type3_positive_origin_cop_under_the_foot(data, name):
    """Qualisys type-3 (Kistler) plates stored with a positive ORIGIN z: the centre of pressure
    must lie under the stance foot, i.e. near the line from its heel to its toe marker
    (measured 4-10 mm median; taking the sign of the sensor offsets a, b from the positive
    ORIGIN puts it 94-286 mm away)."""
    pytest.importorskip("ezc3d")
    from symgait.io import read_c3d

    c = read_c3d(data(SAMPLE26 + name), resample_plates_to_points=True)
    assert [pl.type for pl in c.plates] == [3, 3]
    for pl in c.plates:
        L = pl.loaded & (pl.vertical_force > 200.0)
        assert L.sum() > 20
        d = min(np.median(_horizontal_distance_to_segment(
            pl.cop[L], c.marker(f"{s}_heel")[L], c.marker(f"{s}_toe")[L], pl.normal))
            for s in "rl")
        assert d < 0.03


@pytest.mark.parametrize("rel", ["more/c3dio/tests/c3d_org_samples/sample_28/type1.C3D",
                                 "more/BTKData/Input/C3DSamples/others/561xxa01_anonym.C3D"])
def test_analog_used_zero_is_a_clear_error_and_markers_still_read(data, rel):
    """Type-1 plates declared while ANALOG:USED = 0 (MANIFEST.md caveat): no forces exist in
    the file, so reading plates is refused with the fix; plates=False reads the markers."""
    pytest.importorskip("ezc3d")
    from symgait.io import read_c3d

    with pytest.raises(DataFormatError, match=r"ANALOG:USED = 0.*plates=False"):
        read_c3d(data(rel))
    c = read_c3d(data(rel), plates=False)
    assert c.plates == () and c.markers.shape[1] >= 28
    assert any("not read" in n for n in c.notes)


def test_plug_in_gait_outputs_are_not_markers(data):
    """gait-pig.c3d stores joint angles and moments as POINTs (listed in POINT:ANGLES,
    MOMENTS, ...): they go to `outputs`, the markers keep only positions."""
    pytest.importorskip("ezc3d")
    from symgait.io import read_c3d

    c = read_c3d(data("c3d_org/gait-pig.c3d"))
    assert "A22:LKneeAngles" in c.output_labels and "A22:LKneeAngles" not in c.marker_labels
    assert c.outputs.shape == (c.markers.shape[0], len(c.output_labels), 3)
    assert "A22:RKNE" in c.marker_labels
    # the skin markers are positions: between the floor and 1.2 m (Z up lab, lower body)
    for lab in ("RASI", "LASI", "RKNE", "LKNE", "RANK", "LANK", "RTOE", "LTOE"):
        z = c.marker("A22:" + lab)[:, 2]
        assert -0.01 < np.nanmin(z) and np.nanmax(z) < 1.2, lab


def test_c3d_units_m_file_reads(data):
    """A C3D whose POINT:UNITS is m (Innovative Sports Training sample): plausible as stated."""
    pytest.importorskip("ezc3d")
    from symgait.io import read_c3d

    c = read_c3d(data("more/c3dio/tests/c3d_org_samples/sample_00/Innovative Sports Training/"
                      "Gait with EMG.c3d"))
    assert c.point_units == "m" and 0.5 < np.nanmax(c.markers[..., 2]) < 2.2


def _plate_c3d(path, ptype, origin, *, used_2d=False, cal=None):
    """A C3D with one force plate of ``ptype`` whose analog channels encode a known load on
    the plate: force (50, 20, -700) N at (350, 150, 0) mm plus a vertical moment of -3 N·m
    (lab Z up).  The corners make the plate frame x = X, y = -Y, z = -Z (z down, as AMTI);
    the transducer origin lies 40 mm below the surface centre (300, 200, 0) mm."""
    import ezc3d

    T, nsub = 10, 4
    c = ezc3d.c3d()
    c["parameters"]["POINT"]["RATE"]["value"] = [100]
    c["parameters"]["POINT"]["LABELS"]["value"] = ("a", "b", "c")
    pts = np.zeros((4, 3, T))
    pts[3] = 1.0
    pts[:3, 0] = np.array([0.0, 0.0, 1000.0])[:, None]
    pts[:3, 1] = np.array([500.0, 0.0, 0.0])[:, None]
    pts[:3, 2] = np.array([0.0, 400.0, 900.0])[:, None]
    c["data"]["points"] = pts
    c.add_parameter("POINT", "UNITS", ["mm"])
    F = np.array([50.0, 20.0, -700.0])                  # N, on the plate, lab
    P = np.array([350.0, 150.0, 0.0])                   # mm
    Tz = np.array([0.0, 0.0, -3000.0])                  # N·mm
    corners = np.array([[600, 0, 0], [0, 0, 0], [0, 400, 0], [600, 400, 0.0]])
    centre = corners.mean(0)
    R = np.diag([1.0, -1.0, -1.0])                      # plate axes in the lab (columns)
    if ptype == 1:
        cop = R.T @ (P - centre)
        raw = np.array([*(R.T @ F), cop[0], cop[1], (R.T @ Tz)[2]])
    else:
        o = centre + np.array([0.0, 0.0, -40.0])
        raw = np.concatenate([R.T @ F, R.T @ (np.cross(P - o, F) + Tz)])
        if cal is not None:
            raw = np.linalg.solve(cal, raw)
    c["parameters"]["ANALOG"]["RATE"]["value"] = [100 * nsub]
    c["parameters"]["ANALOG"]["LABELS"]["value"] = tuple(f"ch{i}" for i in range(6))
    c["data"]["analogs"] = np.tile(raw[None, :, None], (1, 1, T * nsub))
    ints = {"USED": np.array([[1]]) if used_2d else np.array([1]), "TYPE": np.array([ptype]),
            "ZERO": np.array([0, 0]), "CHANNEL": np.arange(1, 7).reshape(6, 1)}
    for k, v in ints.items():
        c.add_parameter("FORCE_PLATFORM", k, v.astype(float))
        c["parameters"]["FORCE_PLATFORM"][k]["value"] = v
        c["parameters"]["FORCE_PLATFORM"][k]["type"] = 2          # C3D integer parameter
    c.add_parameter("FORCE_PLATFORM", "CORNERS", corners.T.reshape(3, 4, 1))
    c.add_parameter("FORCE_PLATFORM", "ORIGIN", np.asarray(origin, float).reshape(3, 1))
    if cal is not None:
        c.add_parameter("FORCE_PLATFORM", "CAL_MATRIX", cal.reshape(6, 6, 1))
    c.write(str(path))


@pytest.mark.parametrize("ptype,origin,used_2d,cal", [
    (1, (0, 0, 0), False, None),
    (2, (0, 0, -40), False, None),
    (2, (0, 0, 40), False, None),          # positive ORIGIN z: the same plate
    (2, (0, 0, -40), True, None),          # FORCE_PLATFORM:USED stored as a 2-D array
    (4, (0, 0, -40), False, np.diag([2.0, 3.0, 4.0, 5.0, 6.0, 7.0])),
], ids=["type1", "type2", "type2-positive-origin", "type2-used-2d", "type4-cal-matrix"])
def test_plate_types_recover_a_known_load(tmp_path, ptype, origin, used_2d, cal):
    """The reaction on the subject is minus the load on the plate: force (-50, -20, 700) N,
    centre of pressure (0.35, 0.15, 0) m, free moment +3 N·m about the upward normal."""
    pytest.importorskip("ezc3d")
    from symgait.io import read_c3d

    p = tmp_path / f"plate{ptype}.c3d"
    _plate_c3d(p, ptype, origin, used_2d=used_2d, cal=cal)
    pl, = read_c3d(p).plates
    assert pl.type == ptype and pl.sign_flipped
    np.testing.assert_allclose(pl.force, np.tile([-50.0, -20.0, 700.0], (40, 1)), atol=1e-6)
    np.testing.assert_allclose(pl.cop, np.tile([0.35, 0.15, 0.0], (40, 1)), atol=1e-6)
    np.testing.assert_allclose(pl.free_moment, 3.0, atol=1e-6)
    np.testing.assert_allclose(pl.normal, [0.0, 0.0, 1.0], atol=1e-12)
