"""The OpenSim writers (symgait.io.opensim_write) against OpenSim's own readers: what we write,
OpenSim reads with the same numbers, and so do our readers."""
import numpy as np
import pytest

from symgait.errors import InputError
from symgait.io import read_external_loads, read_table
from symgait.io.opensim_write import (GrfLoad, grf_columns, write_coordinates, write_external_loads,
                                      write_grf_mot, write_table)

osim = pytest.importorskip("opensim", reason="OpenSim's Python package is not installed")


def _labels(storage):
    lab = storage.getColumnLabels()
    return [lab.get(i) for i in range(lab.getSize())]


def test_table_read_by_opensim_and_by_us(tmp_path):
    rng = np.random.default_rng(1)
    t = 0.4 + np.arange(37) / 120.0
    x = rng.normal(size=(37, 4)) * [1.0, 100.0, 1e-3, 1e4]
    names = ["a_moment", "b_force", "c", "d"]
    p = write_table(tmp_path / "x.sto", t, names, x, title="Inverse Dynamics Generalized Forces")
    st = osim.Storage(str(p))
    assert st.getSize() == 37 and _labels(st) == ["time"] + names
    assert not st.isInDegrees()
    tab = osim.TimeSeriesTable(str(p))
    assert list(tab.getColumnLabels()) == names
    np.testing.assert_allclose(np.asarray(tab.getIndependentColumn()), t, rtol=1e-11, atol=0)
    for j, n in enumerate(names):
        np.testing.assert_allclose(tab.getDependentColumn(n).to_numpy(), x[:, j], rtol=1e-11)
    back = read_table(p)
    assert back.names == tuple(names) and not back.in_degrees
    np.testing.assert_allclose(back.data, x, rtol=1e-11)
    assert back.header["nRows"] == "37" and back.header["nColumns"] == "5"


def test_coordinates_mot_in_degrees(tmp_path):
    t = np.arange(10) / 60.0
    q = np.c_[np.linspace(0, 1, 10), np.linspace(0.9, 1.0, 10)]         # rad, m
    p = write_coordinates(tmp_path / "ik.mot", t, ["knee_angle_r", "pelvis_ty"], q, {"knee_angle_r"})
    st = osim.Storage(str(p))
    assert st.isInDegrees()
    tab = osim.TimeSeriesTable(str(p))
    assert tab.getTableMetaDataAsString("inDegrees") == "yes"
    np.testing.assert_allclose(tab.getDependentColumn("knee_angle_r").to_numpy(), np.degrees(q[:, 0]),
                               rtol=1e-11)
    np.testing.assert_allclose(tab.getDependentColumn("pelvis_ty").to_numpy(), q[:, 1], rtol=1e-11)
    back = read_table(p)
    assert back.in_degrees
    np.testing.assert_allclose(back.to_radians(["knee_angle_r"]).data, q, rtol=1e-11)


def test_writer_refuses_bad_input(tmp_path):
    t = np.arange(3.0)
    with pytest.raises(InputError, match="'b' holds nan"):
        write_table(tmp_path / "a.sto", t, ["a", "b"], [[0, 0], [0, np.nan], [0, 0]])
    with pytest.raises(InputError, match="does not increase at row 3"):
        write_table(tmp_path / "a.sto", [0, 1, 1], ["a"], [[0], [0], [0]])
    with pytest.raises(InputError, match="no spaces"):
        write_table(tmp_path / "a.sto", t, ["a b"], np.zeros((3, 1)))
    with pytest.raises(InputError, match="repeated"):
        write_table(tmp_path / "a.sto", t, ["a", "a"], np.zeros((3, 2)))
    with pytest.raises(InputError, match="shape"):
        write_table(tmp_path / "a.sto", t, ["a"], np.zeros((2, 1)))
    assert not (tmp_path / "a.sto").exists()


def _two_feet_model():
    m = osim.Model()
    for b in ("calcn_r", "calcn_l"):
        body = osim.Body(b, 1.0, osim.Vec3(0), osim.Inertia(0.1, 0.1, 0.1))
        m.addBody(body)
        m.addJoint(osim.FreeJoint(f"{b}_joint", m.getGround(), body))
    return m


def test_grf_mot_and_external_loads_read_by_opensim(tmp_path, monkeypatch):
    rng = np.random.default_rng(2)
    T = 61
    t = np.arange(T) / 100.0
    loads = [GrfLoad(n, b, pre, rng.normal(size=(T, 3)) * 300, rng.normal(size=(T, 3)),
                     rng.normal(size=(T, 3)) * 5)
             for n, b, pre in (("right", "calcn_r", "R_ground"), ("left", "calcn_l", "L_ground"))]
    mot = write_grf_mot(tmp_path / "walk_grf.mot", t, loads)
    xml = write_external_loads(tmp_path / "walk_grf.xml", loads, mot.name)
    # column names as in OpenSim's examples
    assert grf_columns("ground")[0][0] == "ground_force_vx" and grf_columns("ground")[2][1] == "ground_torque_y"
    ours = read_external_loads(xml)
    assert [f.applied_to_body for f in ours] == ["calcn_r", "calcn_l"]
    assert ours.datafile_path == mot
    assert ours[0].force_columns == list(grf_columns("R_ground")[0])
    el = osim.ExternalLoads(str(xml), True)
    assert el.getSize() == 2 and el.getDataFileName() == mot.name
    for i, ld in enumerate(loads):
        ef = osim.ExternalForce.safeDownCast(el.get(i))
        assert ef.get_applied_to_body() == ld.body
        assert ef.get_force_expressed_in_body() == "ground" and ef.get_point_expressed_in_body() == "ground"
        assert ef.get_force_identifier() == f"{ld.prefix}_force_v"
        assert ef.get_point_identifier() == f"{ld.prefix}_force_p"
        assert ef.get_torque_identifier() == f"{ld.prefix}_torque_"
    # OpenSim reads the same numbers: the loads attached to a model, evaluated at the samples
    monkeypatch.chdir(tmp_path.parent)              # the datafile is found beside the XML
    model = _two_feet_model()
    model.addModelComponent(el)
    model.initSystem()
    for i, ld in enumerate(loads):
        ef = osim.ExternalForce.safeDownCast(el.get(i))
        for k in (0, 17, 40, T - 1):
            for get, want in ((ef.getForceAtTime, ld.force), (ef.getPointAtTime, ld.point),
                              (ef.getTorqueAtTime, ld.torque)):
                v = get(float(t[k]))
                np.testing.assert_allclose([v.get(0), v.get(1), v.get(2)], want[k], rtol=1e-9,
                                           atol=1e-9)
