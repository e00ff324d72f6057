"""A trunk that no marker sees keeps the root's slow orientation (symgait.trials.trunk), checked
on gait3d against rotations composed independently (scipy's Euler angles in the model's joint
axis order, z-x-y for the pelvis and the lumbar joint)."""
import numpy as np
import pytest
from scipy.spatial.transform import Rotation

import symgait
from symgait.trials.trunk import hold_trunk, hold_unseen_trunk, unseen_trunks

RATE = 100.0
PELVIS = ("pelvis_tilt", "pelvis_list", "pelvis_rotation")
LUMBAR = ("lumbar_extension", "lumbar_bending", "lumbar_rotation")


@pytest.fixture(scope="module")
def gait3d():
    m = symgait.load_model("gait3d")
    return m, symgait.kernels(m), m.parameters(height=1.8, mass=70.0)


def _running_pelvis(m, T=400):
    """A pelvis that tilts, lists and rotates at the step frequency (3 Hz, a few degrees) about
    a fixed lean and heading, while the trunk stays at that lean and heading (truth: lumbar angles
    composed with scipy so that pelvis ∘ lumbar = the fixed orientation)."""
    t = np.arange(T) / RATE
    q = np.zeros((T, m.nq))
    ci = {c: m.coordinates.index(c) for c in m.coordinates}
    q[:, ci["pelvis_tx"]] = 0.1 * t
    q[:, ci["pelvis_ty"]] = 0.95 + 0.03 * np.sin(2 * np.pi * 3 * t)
    mean = np.radians([-8.0, 2.0, 10.0])
    sway = np.radians([3.0, 5.0, 8.0])[None] * np.sin(2 * np.pi * 3 * t[:, None] + np.array([0.0, 1.0, 2.0]))
    q[:, [ci[c] for c in PELVIS]] = mean + sway
    q[:, ci["hip_flexion_r"]] = 0.5 * np.sin(2 * np.pi * 1.5 * t)
    q[:, ci["knee_angle_r"]] = -0.6 - 0.5 * np.sin(2 * np.pi * 1.5 * t)
    truth = q.copy()
    pelvis = Rotation.from_euler("ZXY", q[:, [ci[c] for c in PELVIS]])
    trunk = Rotation.from_euler("ZXY", np.broadcast_to(mean, (T, 3)))
    truth[:, [ci[c] for c in LUMBAR]] = (pelvis.inv() * trunk).as_euler("ZXY")
    return q, truth


def _targets(m, names):
    A = np.zeros((len(names), len(m.points)))
    for i, n in enumerate(names):
        A[i, m.points.index(n)] = 1.0
    return A


def test_only_a_trunk_no_target_sees_is_unseen(gait3d):
    m, k, p = gait3d
    q, _ = _running_pelvis(m, T=20)
    legs = ["R.ASIS", "L.ASIS", "V.Sacral", "R.Thigh.Upper", "R.Knee.Lat", "R.Heel", "L.Heel",
            "lumbar_center"]                       # lumbar_center: on the torso, but its joint's centre
    Y = np.zeros((len(q), len(legs), 3))
    assert unseen_trunks(m, k, _targets(m, legs), Y, q, p) == ["torso"]
    A = _targets(m, legs + ["Sternum"])
    Y = np.zeros((len(q), A.shape[0], 3))
    assert unseen_trunks(m, k, A, Y, q, p) == []
    Y[:, -1] = np.nan                              # a trunk marker without any sample sees nothing
    assert unseen_trunks(m, k, A, Y, q, p) == ["torso"]


def test_held_trunk_is_the_steady_trunk(gait3d):
    """Lumbar angles at zero (what inverse kinematics gives without trunk markers) become the
    angles that keep the trunk at the pelvis's mean lean and heading: within 0.1 degree inside,
    1 degree in the first and last second (the low-pass filter's ends); the trunk's joint centre
    does not move."""
    m, k, p = gait3d
    q, truth = _running_pelvis(m)
    L = [m.coordinates.index(c) for c in LUMBAR]
    held = hold_trunk(m, k, q, p, RATE, "torso")
    inner = slice(100, 300)
    err = np.degrees(np.abs(held[:, L] - truth[:, L]))
    assert err[inner].max() < 0.1 and err.max() < 1.0
    assert np.degrees(np.abs(truth[:, L])).max() > 5.0          # the sway it removes is large
    np.testing.assert_array_equal(np.delete(held, L, axis=1), np.delete(q, L, axis=1))
    c = m.points.index("lumbar_center")
    np.testing.assert_allclose(k.points(held, p)[:, c], k.points(q, p)[:, c], atol=1e-12)


def test_held_trunk_removes_the_horizontal_force_of_the_sway(gait3d):
    """The total external force the motion needs (root residual with no contact wrenches): with the
    trunk rigid on the swaying pelvis it is off the steady trunk's by several N/kg sideways; with
    the trunk held, by under a tenth of that (away from the ends)."""
    from symgait.signals.kinematics import filtered_kinematics
    m, k, p = gait3d
    q, truth = _running_pelvis(m)
    held, notes = hold_unseen_trunk(m, k, q, p, RATE, _targets(m, ["R.ASIS", "L.ASIS", "V.Sacral"]),
                                    np.zeros((len(q), 3, 3)))
    assert len(notes) == 1 and "torso keeps the pelvis's orientation" in notes[0]

    def force(x):
        x, xd, xdd = filtered_kinematics(x, RATE, cutoff=12.0)
        w = np.zeros((len(x), m.n_contacts, 6))
        return np.asarray(k.root_residual(x, xd, xdd, w, p))[:, :3] / 70.0
    inner = slice(100, 300)
    f_true, f_rigid, f_held = (force(x)[inner] for x in (truth, q, held))
    rigid = np.sqrt(np.mean((f_rigid - f_true) ** 2, 0))
    kept = np.sqrt(np.mean((f_held - f_true) ** 2, 0))
    assert rigid[2] > 2.0 and rigid[0] > 0.5                   # N/kg, medio-lateral and fore-aft
    assert (kept < 0.1 * rigid).all()
