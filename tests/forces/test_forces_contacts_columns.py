"""GRF column variants of OpenSim .mot files (AddBiomechanics ``ground_force_1_v*``) and forces
applied to a foot body without a contact."""
import numpy as np

import symgait
from symgait.forces.contacts import plates_from_mot, reactions_from_external_loads


def test_addbiomechanics_columns_read_as_plates(data):
    path = data("more/nimblephysics/data/grf/Subject4/ID/walking1_grf.mot")
    raw = np.loadtxt(path, skiprows=7)
    pl = plates_from_mot(path)
    assert pl.force.shape == (raw.shape[0], 2, 3)
    assert np.allclose(pl.force[:, 0], raw[:, 1:4]) and np.allclose(pl.force[:, 1], raw[:, 10:13])
    # moment about the origin: p x F plus the free torque (columns m*)
    assert np.allclose(pl.moment[:, 0], np.cross(raw[:, 4:7], raw[:, 1:4]) + raw[:, 7:10])


def test_force_on_talus_goes_to_the_foot_contact(data):
    xml = data("more/nimblephysics/data/grf/CarmagoTest/ID/levelground_ccw_fast_01_01_external_forces.xml")
    m = symgait.load_model("gait3d")
    r = reactions_from_external_loads(m, xml)
    assert set(r.contacts) == {"foot_r", "foot_l"} and np.abs(r.force).sum() > 0
