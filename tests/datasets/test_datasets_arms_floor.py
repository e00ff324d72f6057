"""The physics floor with arms (``fullbody``) beside ``gait3d`` (symgait.datasets.references,
docs/results.md): the parameters of one subject in both models, and the floor of one built
walking trial whose arm markers drive fullbody's arms."""
import numpy as np
import pytest

from symgait.datasets.references import ARMS_STATES, arms_floor_rows, arms_floor_table, floor_rows, parameters_with_arms

pytestmark = pytest.mark.xdist_group("fullbody")


def test_parameters_with_arms_are_de_levas_subject(kern):
    """gait3d's de Leva subject maps onto fullbody's de Leva subject of the same height and mass
    (gait3d's torso is de Leva's trunk, head and arms together); a fitted subject keeps its mass,
    its leg and pelvis values, and its torso mass is shared out in de Leva's proportions."""
    g, _ = kern("gait3d")
    fb, _ = kern("fullbody")
    for h, m in ((1.62, 55.0), (1.91, 97.0)):
        assert np.allclose(parameters_with_arms(fb, g, g.parameters(height=h, mass=m)),
                           fb.parameters(height=h, mass=m), rtol=1e-12, atol=1e-12)
    p = g.parameters(height=1.75, mass=70.0, thigh_r_mass=8.0, torso_mass=37.0, shank_l_length=0.45)
    pf = dict(zip(fb.parameter_names, parameters_with_arms(fb, g, p)))
    pg = dict(zip(g.parameter_names, p))
    assert sum(v for k, v in pf.items() if k.endswith("_mass")) == pytest.approx(sum(
        v for k, v in pg.items() if k.endswith("_mass")), rel=1e-12)
    assert pf["thigh_r_mass"] == 8.0 and pf["shank_l_length"] == 0.45
    upper = pf["torso_mass"] + pf["head_mass"] + sum(pf[f"{s}_{x}_mass"] for s in ("upper_arm", "forearm", "hand")
                                                    for x in "rl")
    assert upper == pytest.approx(37.0, rel=1e-12)
    d = dict(zip(fb.parameter_names, fb.parameters(height=1.75, mass=70.0)))
    assert pf["head_mass"] / pf["torso_mass"] == pytest.approx(d["head_mass"] / d["torso_mass"], rel=1e-12)


def test_arms_floor_of_one_walk(data, tmp_path):
    """One Schreiber & Moissenet walk built as the dataset builds it: its 14 ISB arm markers fit
    fullbody's arms within 20 mm and swing them; gait3d's figure is the butter 6 Hz recipe of
    floor_rows on the same frames; fullbody with the arms held still is gait3d within 2 % (the same
    trunk, legs and total mass, the arms' mass at the torso's side)."""
    from symgait.datasets.build import build
    root = data("schreiber2019_walking/2014001").parents[1]
    out = tmp_path / "ds"
    build(root, out, jobs=1, trials=["2014001_C4_05"], fit=False, kinematics=False, progress=False,
          log=lambda *a: None)
    rows = arms_floor_rows(out, root, log=lambda *a: None)
    assert len(rows) == 1
    r = rows[0]
    assert r["arm_markers"] == 14 and r["arm_rms_mm"] < 20.0
    assert r["shoulder_range_deg"] > 10.0 and r["elbow_range_deg"] > 10.0
    ref = floor_rows(out, recipes=(("butter", 6.0),), log=lambda *a: None)[0]["recipe:butter:6"]
    for c in ("vertical", "ap", "ml", "norm"):
        assert r["gait3d"][c] == pytest.approx(ref[c], rel=1e-9)
        assert r["fullbody_arms_neutral"][c] == pytest.approx(r["gait3d"][c], rel=0.02)
    assert r["fullbody"]["norm"] != r["fullbody_arms_neutral"]["norm"]
    table = arms_floor_table(rows)
    assert "schreiber2019_walking" in table and "**all walking**" in table and set(ARMS_STATES) <= set(r)
