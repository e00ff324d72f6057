"""``symgait id`` end to end, one trial per format (TRC + GRF .mot, C3D with plates, ASF/AMC)."""
import csv
import json

import numpy as np

from symgait.cli import main
from symgait.io import read_sto

G = "opensim/gait2354_subject01_walk1/"


def _run(argv):
    assert main(["id"] + argv) == 0   # the command line's own entry point


def _read(path):
    with open(path) as f:
        rows = list(csv.reader(f))
    return rows[0], np.array(rows[1:], float)


def test_id_trc_with_grf(data, kern, tmp_path):
    m, _ = kern("gait3d")
    out = tmp_path / "trc.csv"
    _run(["--model", "gait3d", "--motion", str(data(G + "subject01_walk1.trc")),
          "--forces", str(data(G + "subject01_walk1_grf.mot")), "--mass", "72.6",
          "--height", "1.803", "--out", str(out), "--stick", str(tmp_path / "stick.png"), "--per-kg"])
    head, x = _read(out)
    assert head == ["time"] + m.coordinates
    assert x.shape == (151, 1 + m.nq) and np.allclose(x[1:, 0] - x[:-1, 0], 1 / 60, atol=1e-3)
    col = dict(zip(head, x.T))
    # against OpenSim's inverse dynamics of the same trial (its own IK and scaled gait2354 model):
    # RMSE in % of OpenSim's range over its 73 frames; measured 1.3-1.6 % (ankles), 4.7 % (right
    # knee), 7.0-8.7 % (hips), 11.8 % (left knee: see docs/validation.md) with our IK and de Leva's
    # segments; a sign error, a wrong mass or wrong forces gives tens of per cent
    ref = read_sto(data(G + "inverse_dynamics.sto"))
    bound = {"ankle_angle": 3.0, "knee_angle_r": 8.0, "knee_angle_l": 16.0, "hip_flexion": 12.0}
    for c in ("hip_flexion_r", "knee_angle_r", "ankle_angle_r", "hip_flexion_l", "knee_angle_l",
              "ankle_angle_l"):
        want = ref.column(f"{c}_moment") / 72.6
        got = np.interp(ref.time, col["time"], col[c])
        pct = 100 * np.sqrt(np.mean((got - want) ** 2)) / np.ptp(want)
        assert pct < next(b for k, b in bound.items() if c.startswith(k)), (c, pct)
    assert np.sqrt(np.mean(col["pelvis_ty"] ** 2)) < 1.0          # residual N/kg
    assert (tmp_path / "trc.png").stat().st_size > 10_000
    js = json.loads((tmp_path / "trc.json").read_text())
    assert js["frames"] == 151 and js["plates_used"] == 2
    assert js["units"]["knee_angle_r"] == "N·m/kg" and js["units"]["pelvis_ty"] == "N/kg"
    assert js["markerset"] and js["ik_worst_marker"] and 5.0 < js["ik_rms_mm"] < 40.0
    # the force residual is the CSV's pelvis_t* columns' norm (root axes are world axes)
    res = np.sqrt(np.mean(col["pelvis_tx"] ** 2 + col["pelvis_ty"] ** 2 + col["pelvis_tz"] ** 2))
    assert abs(js["residual_force_rms_per_kg"] - res) < 1e-3 * max(res, 1.0)
    assert 0.0 < js["residual_moment_rms_per_kg"] < 2.0
    assert (tmp_path / "stick.png").stat().st_size > 10_000


def test_id_c3d_plates(data, tmp_path):
    out = tmp_path / "walk1.csv"
    _run(["--model", "planar", "--motion", str(data("c3d_org/Walk1.c3d")), "--mass", "88",
          "--height", "1.75", "--out", str(out), "--plot", str(tmp_path / "w.png")])
    head, x = _read(out)
    assert head[:4] == ["time", "pelvis_tx", "pelvis_ty", "pelvis_tilt"]
    col = {k: v / 88 for k, v in zip(head, x.T)}                   # N·m, N -> per kg
    assert 40 < len(x) < 151                                        # cropped to the plates
    assert -2.5 < min(col["ankle_angle_r"].min(), col["ankle_angle_l"].min()) < -0.8
    assert np.sqrt(np.mean(col["pelvis_ty"] ** 2)) < 2.5
    assert (tmp_path / "w.png").exists()
    js = json.loads((tmp_path / "walk1.json").read_text())
    assert js["plates_used"] == 2 and js["frames"] == len(x)
    assert js["units"]["ankle_angle_r"] == "N·m" and js["units"]["pelvis_tx"] == "N" and js["mass_kg"] == 88


def test_id_amc_derived(data, tmp_path):
    """Through the ``symgait`` program itself."""
    from symgait import cli
    out = tmp_path / "cmu.csv"
    rc = cli.main(["id", "--model", "gait3d", "--motion", str(data("cmu/subject08/08_01.amc")),
                   "--mass", "65", "--height", "1.65", "--out", str(out)])
    assert rc == 0
    head, x = _read(out)
    col = dict(zip(head, x.T))
    for c in ("pelvis_tx", "pelvis_ty", "pelvis_tz", "pelvis_tilt", "pelvis_list", "pelvis_rotation"):
        assert np.abs(col[c]).max() < 1e-6                          # derived: zero by construction
    assert np.abs(col["ankle_angle_r"]).max() > 0.5 * 65            # N·m


def test_id_reduce_residual(data, kern, tmp_path, capsys):
    """``--reduce-residual``: the motion changed within the marker error agrees with the plates."""
    m, _ = kern("gait3d")
    out = tmp_path / "rr.csv"
    _run(["--model", "gait3d", str(data(G + "subject01_walk1.trc")),
          "--forces", str(data(G + "subject01_walk1_grf.mot")), "--mass", "72.6",
          "--height", "1.803", "--out", str(out), "--plot", "none", "--reduce-residual", "--per-kg"])
    js = json.loads((tmp_path / "rr.json").read_text())
    rr = js["residual_reduction"]
    f0, f1 = rr["residual_force_rms_per_kg"]
    assert abs(f0 - js["residual_force_rms_per_kg"]) < 1e-9 and f1 < 0.5 * f0
    m0, m1 = rr["marker_rms_mm"]
    assert m1 < m0 + 2.0 and rr["point_rms_mm"] <= 10.0
    head, x = _read(out)
    col = dict(zip(head, x.T))
    res = np.sqrt(np.mean(col["pelvis_tx"] ** 2 + col["pelvis_ty"] ** 2 + col["pelvis_tz"] ** 2))
    assert abs(res - f1) < 1e-3 * max(f1, 1.0)                    # the CSV is the changed motion's
    # the joint moments stay close to OpenSim's (same bounds as for the measured motion, +2 %)
    ref = read_sto(data(G + "inverse_dynamics.sto"))
    for c, b in (("ankle_angle_r", 5.0), ("knee_angle_r", 10.0), ("hip_flexion_r", 14.0)):
        want = ref.column(f"{c}_moment") / 72.6
        got = np.interp(ref.time, col["time"], col[c])
        assert 100 * np.sqrt(np.mean((got - want) ** 2)) / np.ptp(want) < b, c
    hq, q = _read(tmp_path / "rr.coordinates.csv")
    assert hq == ["time"] + m.coordinates and q.shape == x.shape
    capsys.readouterr()
    assert main(["id", "--model", "planar", str(data("cmu/subject08/08_01.amc")), "--mass", "65",
                 "--height", "1.65", "--out", str(tmp_path / "amc.csv"), "--plot", "none",
                 "--reduce-residual"]) == 2
    assert "needs measured forces" in capsys.readouterr().err


def test_id_opensim_outputs(data, tmp_path):
    """``--out X.sto``: OpenSim's ID layout (``_moment`` N·m, ``_force`` N) and the coordinates as
    ``X_ik.mot`` (degrees), both read by OpenSim; the same numbers as the CSV (N·m, one header
    line)."""
    import pytest
    osim = pytest.importorskip("opensim", reason="OpenSim's Python package is not installed")
    from symgait.model.coordinates import rotational_coordinates
    import symgait
    m = symgait.load_model("gait3d")
    argv = ["--model", "gait3d", str(data(G + "subject01_walk1_ik.mot")), "--forces",
            str(data(G + "subject01_walk1_grf.mot")), "--mass", "72.6", "--height", "1.803",
            "--plot", "none"]
    _run(argv + ["--out", str(tmp_path / "id.sto")])
    _run(argv + ["--out", str(tmp_path / "table.csv")])
    x = np.genfromtxt(tmp_path / "table.csv", delimiter=",", names=True)
    assert x.dtype.names == tuple(["time"] + m.coordinates)
    sto = read_sto(tmp_path / "id.sto")
    rot = set(rotational_coordinates(m))
    assert list(sto.names) == [f"{c}_moment" if c in rot else f"{c}_force" for c in m.coordinates]
    assert "pelvis_ty_force" in sto.names and "knee_angle_r_moment" in sto.names
    for c in m.coordinates:
        col = f"{c}_moment" if c in rot else f"{c}_force"
        np.testing.assert_allclose(sto.column(col), x[c], rtol=1e-6, atol=1e-5)
    st = osim.Storage(str(tmp_path / "id.sto"))
    assert st.getSize() == len(x) and not st.isInDegrees()
    tab = osim.TimeSeriesTable(str(tmp_path / "id_ik.mot"))
    assert tab.getTableMetaDataAsString("inDegrees") == "yes"
    knee_in = read_sto(data(G + "subject01_walk1_ik.mot"))
    knee = tab.getDependentColumn("knee_angle_r").to_numpy()                # degrees, filtered
    t = np.asarray(tab.getIndependentColumn())
    assert np.abs(knee - np.interp(t, knee_in.time, knee_in.column("knee_angle_r"))).max() < 3.0
    np.testing.assert_allclose(tab.getDependentColumn("pelvis_ty").to_numpy(),
                               np.interp(t, knee_in.time, knee_in.column("pelvis_ty")), atol=5e-3)
    js = json.loads((tmp_path / "id.json").read_text())
    assert js["format"] == "opensim" and js["units"]["knee_angle_r_moment"] == "N·m"
