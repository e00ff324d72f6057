"""Validation against Hamner & Delp (2013)'s Moco references and the physics floor
(figures in docs/data.md), on one subject."""
import numpy as np
import pytest

from symgait.datasets.references import (content_above, gait3d_parameters_from_osim, moco_files, moco_validation)
from symgait.trials.opensim_id import SAGITTAL
from symgait.io import read_mot


def test_moco_reference_subject02(data, kern):
    root = data("hamner2013_running/subject02").parents[1]
    m, k = kern("gait3d")
    r = moco_validation(m, k, root, "subject02")
    by = {x.coordinate: x for x in r.rows}
    assert set(by) == set(SAGITTAL)
    # measured (docs/data.md): ankle 1.9 / 2.3 %, knee 8.9 / 11.7 %, hip 12.6 / 13.4 %
    for c in ("ankle_angle_r", "ankle_angle_l"):
        assert by[c].percent < 5.0, (c, by[c].percent)
    for c in ("knee_angle_r", "knee_angle_l", "hip_flexion_r", "hip_flexion_l"):
        assert by[c].percent < 15.0, (c, by[c].percent)
    # the plates' total from the root residual (linear in w) equals the file's vertical sum
    f = moco_files(root, "subject02")
    g = read_mot(f["forces"])
    fy = g.column("R_ground_force_vy") + g.column("L_ground_force_vy")
    sel = (g.time >= 0.4) & (g.time <= 1.4)
    assert abs(r.floor["peak_plates_bw"] - fy[sel].max() / (r.mass * 9.80665)) < 0.05
    assert 0.5 < r.floor["rmse_n_per_kg"] < 5.0
    # the reference's hip and knee moments hold more above 20 Hz than inverse dynamics of the
    # shipped (smooth) coordinates can (docs/data.md: 5.6 % vs 0.6 % of range)
    for c in ("knee_angle_r", "knee_angle_l", "hip_flexion_r", "hip_flexion_l"):
        ref, ours = r.above_20hz[c]
        assert ref > 2 * ours, (c, ref, ours)


def test_subject_scale_from_osim(data, kern):
    m, _ = kern("gait3d")
    p, sc = gait3d_parameters_from_osim(m, data("hamner2013_running/subject02/model/"
                                                "subject02_adjusted_scaled.osim"))
    names = list(m.parameter_names)
    masses = sum(p[i] for i, n in enumerate(names) if n.endswith("_mass"))
    assert abs(masses - sc.mass) < 1e-9 and abs(sc.mass - 76.476) < 0.01
    assert 1.5 < sc.height < 2.1
    assert np.isclose(p[names.index("thigh_r_length")], sc.overrides["thigh_r_length"])


def test_content_above_separates_frequencies():
    rate = 200.0
    t = np.arange(400) / rate
    slow, fast = 3.0 * np.sin(2 * np.pi * 4 * t), 0.5 * np.sin(2 * np.pi * 50 * t)
    assert content_above(slow, rate) < 0.01
    assert abs(content_above(slow + fast, rate) - 0.5 / np.sqrt(2)) < 0.02


def test_residual_components_of_an_added_force(kern):
    """Derived labels explain the motion (every component 0); a constant force F added to one
    foot, applied anywhere, leaves -F in the root residual: components |F_x|, |F_y|, |F_z| per kg
    and the 3-D norm |F| per kg."""
    from symgait.datasets.cache import SequenceCache
    from symgait.datasets.references import floor_by_source, residual_components
    from symgait.datasets.synthetic import synthetic_gait
    m, k = kern("gait3d")
    seq = synthetic_gait(m, n_sequences=1, seconds=1.0, seed=0, kern=k, cache=SequenceCache())[0]
    args = [np.asarray(x, float) for x in (seq.q, seq.qd, seq.qdd)]
    r0 = residual_components(k, *args, seq.w, seq.p, seq.mass)
    assert max(r0.values()) < 1e-9
    F = np.array([12.0, -30.0, 4.0])
    w = np.array(seq.w, float)
    w[:, 1, :3] += F
    w[:, 1, 3:] += np.cross([0.05, -0.02, 0.1], F)
    w[3] = np.nan                                                 # an unlabelled frame is left out
    r = residual_components(k, *args, w, seq.p, seq.mass)
    assert r["ap"] == pytest.approx(12.0 / seq.mass, rel=1e-9)
    assert r["vertical"] == pytest.approx(30.0 / seq.mass, rel=1e-9)
    assert r["ml"] == pytest.approx(4.0 / seq.mass, rel=1e-9)
    assert r["norm"] == pytest.approx(np.linalg.norm(F) / seq.mass, rel=1e-9)
    # pooled per source: frame-weighted RMS
    rows = [dict(source="s", activity="walking", frames=10, measured=dict(vertical=1.0, ap=0.0, ml=0.0, norm=1.0)),
            dict(source="s", activity="walking", frames=30, measured=dict(vertical=3.0, ap=0.0, ml=0.0, norm=3.0))]
    assert floor_by_source(rows)["s"]["measured"]["vertical"] == pytest.approx(np.sqrt((10 + 270) / 40))
