"""C3D reader on the c3d.org sample files: counts and rates from the README,
units, force-plate physics (COP on the plate, body-weight-sized forces), and a
cross-check of the unit/sign handling against ezc3d's raw platform output."""

import numpy as np
import pytest

ezc3d = pytest.importorskip("ezc3d")

from symgait.io import read_c3d  # noqa: E402

C = "c3d_org/"

# (file, point rate, frames or None, markers, plate type, analog rate) from the README
FILES = [
    ("Eb015pr.c3d", 50.0, 450, 26, 2, 200.0),
    ("gait-raw.c3d", 50.0, None, 27, 2, 800.0),
    ("Walk1.c3d", 60.0, 151, 49, 4, 960.0),
]


@pytest.fixture(scope="module")
def c3ds():
    cache = {}

    def get(data, name, **kw):
        key = (name, tuple(sorted(kw.items())))
        if key not in cache:
            cache[key] = read_c3d(data(C + name), **kw)
        return cache[key]

    return get


@pytest.mark.parametrize("name,rate,frames,nmark,ptype,arate", FILES)
def test_counts_rates_units(data, c3ds, name, rate, frames, nmark, ptype, arate):
    d = c3ds(data, name)
    assert d.point_rate == rate and d.analog_rate == arate
    if frames is not None:
        assert d.markers.shape[0] == frames
    assert d.markers.shape[1:] == (nmark, 3) and len(d.marker_labels) == nmark
    assert d.point_units == "mm"
    assert len(d.plates) == 2 and all(p.type == ptype for p in d.plates)
    assert all(p.rate == arate for p in d.plates)
    T = d.markers.shape[0]
    assert d.analogs.shape[0] == T * int(arate / rate)
    np.testing.assert_allclose(d.time, np.arange(T) / rate)
    # metres, Z-up lab: markers between the floor and ~2 m, some above 0.8 m
    z = d.markers[..., 2]
    assert np.nanmin(z) > -0.05 and np.nanmax(z) < 2.0 and np.nanmax(z) > 0.8
    # plates lie on the floor, ~0.4-0.6 m wide
    for p in d.plates:
        assert np.all(np.abs(p.corners[:, 2]) < 0.01)
        span = p.corners.max(0) - p.corners.min(0)
        assert 0.4 < span[0] < 0.6 and 0.4 < span[1] < 0.6
        np.testing.assert_allclose(np.abs(p.normal), [0, 0, 1], atol=0.01)


@pytest.mark.parametrize("name", [f[0] for f in FILES] + ["gait-pig.c3d"])
def test_force_plates_physics(data, c3ds, name):
    d = c3ds(data, name)
    for p in d.plates:
        fz = p.vertical_force
        assert fz.max() > 500 and fz.max() < 1200          # single-foot stance, N
        assert fz.min() > -10                              # never pulls (after zeroing)
        stance = p.loaded.sum() / p.rate
        assert 0.4 < stance < 2.5                          # one stance phase, s
        # COP inside the plate (10 mm margin) whenever Fz > 20 N
        lo, hi = p.corners.min(0) - 0.01, p.corners.max(0) + 0.01
        cop = p.cop[fz > 20]
        assert len(cop) > 100
        assert np.all((cop[:, :2] >= lo[:2]) & (cop[:, :2] <= hi[:2]))
        # COP on the plate surface plane
        np.testing.assert_allclose((cop - p.centre) @ p.normal, 0, atol=1e-9)
        # free moment: a few N·m at most in walking
        assert np.abs(p.free_moment).max() < 15


@pytest.mark.parametrize("name", ["gait-raw.c3d", "Walk1.c3d"])
def test_step_window_mean_force_is_body_weight_like(data, c3ds, name):
    """Two consecutive plates with double support: over one step after the second
    heel strike both feet are on plates, and the mean total vertical force is
    the body weight (walking, no vertical drift); the peaks are 1.0-1.4 of it."""
    d = c3ds(data, name)
    p1, p2 = sorted(d.plates, key=lambda p: p.time[np.argmax(p.loaded)])
    t = p1.time
    hs1, hs2 = t[np.argmax(p1.loaded)], t[np.argmax(p2.loaded)]
    off1 = t[len(t) - 1 - np.argmax(p1.loaded[::-1])]
    assert hs1 < hs2 < off1                     # double support
    step = hs2 - hs1
    assert 0.35 < step < 0.8
    w = (t >= hs2) & (t < hs2 + step)
    bw = (p1.vertical_force + p2.vertical_force)[w].mean()
    assert 450 < bw < 1100
    for p in (p1, p2):
        assert 1.0 < p.vertical_force.max() / bw < 1.4


@pytest.mark.parametrize("name", [f[0] for f in FILES])
def test_agrees_with_raw_ezc3d_platform_output(data, c3ds, name):
    """Without zeroing, force equals ezc3d's (N), COP equals ezc3d's divided by 1000
    (mm -> m) and the free moment equals the normal component of ezc3d's Tz / 1000
    (N·mm -> N·m) wherever the plate is loaded."""
    d = c3ds(data, name, zero_baseline=False)
    raw = ezc3d.c3d(str(data(C + name)), extract_forceplat_data=True)
    for p, r in zip(d.plates, raw["data"]["platform"]):
        assert r["unit_moment"] == "Nmm" and r["unit_position"] == "mm"
        sign = -1.0 if p.sign_flipped else 1.0
        np.testing.assert_allclose(p.force, sign * r["force"].T, atol=1e-9)
        np.testing.assert_allclose(p.corners, r["corners"].T / 1000)
        L = p.loaded
        np.testing.assert_allclose(p.cop[L], r["center_of_pressure"].T[L] / 1000, atol=1e-9)
        np.testing.assert_allclose(p.free_moment[L],
                                   sign * (r["Tz"].T[L] @ p.normal) / 1000, atol=1e-9)
        np.testing.assert_allclose(p.moment, sign * r["moment"].T / 1000, atol=1e-9)


def test_zeroing_removes_eb015_baseline(data, c3ds):
    raw = c3ds(data, "Eb015pr.c3d", zero_baseline=False)
    z = c3ds(data, "Eb015pr.c3d")
    # FORCE_PLATFORM:ZERO = 1..10 frames = first 40 samples at 4 analog samples per frame
    for pr, pz in zip(raw.plates, z.plates):
        assert pz.zeroed and not pr.zeroed
        assert pr.vertical_force[:40].mean() > 15             # ~21 N and ~32 N offsets
        assert abs(pz.vertical_force[:40].mean()) < 1e-9
        np.testing.assert_allclose(pz.force - pr.force,
                                   np.broadcast_to(-pr.force[:40].mean(0), pr.force.shape), atol=1e-9)


def test_resampled_to_point_rate(data, c3ds):
    a = c3ds(data, "Walk1.c3d")
    b = c3ds(data, "Walk1.c3d", resample_plates_to_points=True)
    for pa, pb in zip(a.plates, b.plates):
        assert pb.force.shape == (151, 3) and pb.rate == pytest.approx(60.0)
        np.testing.assert_allclose(pb.time, b.time)
        # same impulse (N·s) within 1 %
        ia = np.trapezoid(pa.vertical_force, pa.time)
        ib = np.trapezoid(pb.vertical_force, pb.time)
        assert ib == pytest.approx(ia, rel=0.01)
        lo, hi = pb.corners.min(0) - 0.01, pb.corners.max(0) + 0.01
        cop = pb.cop[pb.vertical_force > 50]
        assert np.all((cop[:, :2] >= lo[:2]) & (cop[:, :2] <= hi[:2]))


def test_labels_truncated_to_stored_points(data, c3ds):
    d = c3ds(data, "Eb015pr.c3d")       # POINT:LABELS has 48 names for 26 points
    assert len(d.marker_labels) == 26 and d.marker_labels[0] == "RFT1"
    assert len(d.analog_labels) == d.analogs.shape[1] == 16
    np.testing.assert_array_equal(d.marker("RFT1"), d.markers[:, 0])


@pytest.mark.parametrize("unit,scale", [("m", 1.0), ("mm", 1e-3), ("cm", 1e-2)])
def test_point_units_of_a_written_file(tmp_path, unit, scale):
    """A file written by ezc3d with known values and POINT:UNITS: read back in metres."""
    c = ezc3d.c3d()
    c["parameters"]["POINT"]["RATE"]["value"] = [100]
    c["parameters"]["POINT"]["LABELS"]["value"] = ("a", "b")
    pts = np.random.default_rng(0).normal(size=(4, 2, 20))
    pts[3] = 1.0
    c["data"]["points"] = pts
    c.add_parameter("POINT", "UNITS", [unit])
    p = tmp_path / f"synth_{unit}.c3d"
    c.write(str(p))
    d = read_c3d(p)
    assert d.point_units == unit and d.point_rate == 100.0 and d.plates == ()
    assert d.marker_labels == ("a", "b")
    np.testing.assert_allclose(d.markers, np.transpose(pts[:3], (2, 1, 0)) * scale, rtol=1e-6)
