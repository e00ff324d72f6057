"""One plate under both feet (a single-belt instrumented treadmill): the split of its force between
the feet, on a synthetic run with a known answer (stances of one foot separated by flight, a
toe-off whose last low-force frames have their centre of pressure nearer the swinging foot, and
a double support where the split is not measured)."""
import numpy as np

import symgait
from symgait.forces.contacts import Plates, assign_plates, foot_point_indices
from symgait.forces.wrench import cop_to_wrench

RATE = 100.0
T = 100
STANCE_R1, FLIGHT, STANCE_L, DOUBLE, STANCE_R2 = (slice(0, 30), slice(30, 40), slice(40, 70),
                                                  slice(70, 80), slice(80, 100))
TOE_OFF = slice(28, 30)      # the last frames of the first right stance


def _scene():
    m = symgait.load_model("gait3d")
    fidx = foot_point_indices(m)
    r, l = m.contacts.index("foot_r"), m.contacts.index("foot_l")
    P = np.full((T, len(m.points), 3), 50.0)                 # every other point far away
    for ci, z in ((r, 0.10), (l, -0.10)):                    # feet 0.2 m apart, heel at x = 0
        idx = fidx[m.contacts[ci]]
        P[:, idx, 0] = np.linspace(0.0, 0.25, len(idx))
        P[:, idx, 1] = 0.02
        P[:, idx, 2] = z
    fy = np.full(T, 3.0)                                     # the plate's noise in flight
    cop = np.zeros((T, 3))
    for sl, z in ((STANCE_R1, 0.10), (STANCE_L, -0.10), (STANCE_R2, 0.10)):
        n = sl.stop - sl.start
        fy[sl] = 30.0 + 1500.0 * np.sin(np.linspace(0.05, np.pi - 0.05, n))
        cop[sl, 0] = np.linspace(0.02, 0.22, n)
        cop[sl, 2] = z
    fy[TOE_OFF] = 30.0
    cop[TOE_OFF] = [0.30, 0.0, -0.06]                         # nearer the left foot than the right
    fy[DOUBLE] = 800.0
    cop[DOUBLE] = [0.12, 0.0, 0.0]
    F = np.stack([0.1 * fy, fy, 0.02 * fy], -1)
    w = cop_to_wrench(F, cop, 0.5 * np.ones(T))              # moment about the world origin
    plates = Plates(time=np.arange(T) / RATE, names=("plate1",), force=F[:, None],
                    moment=w[:, None, 3:], source="synthetic")
    hint = np.zeros((T, 2), bool)                            # kinematic contact labels
    hint[STANCE_R1, r] = hint[STANCE_R2, r] = True
    hint[TOE_OFF, r] = False                                 # the toe already moving fast
    hint[STANCE_L, l] = hint[DOUBLE, l] = hint[DOUBLE, r] = True
    return m, plates, P, hint, r, l


def test_each_stance_goes_whole_to_its_foot_and_double_support_is_flagged():
    m, plates, P, hint, r, l = _scene()
    g = assign_plates(plates, m, P, contact_hint=hint, per_run=False)
    F, M = g.force, g.moment
    # nothing lost or made: the feet's wrenches sum to the plate's at every frame
    np.testing.assert_allclose(F.sum(1), plates.force[:, 0], atol=1e-9)
    np.testing.assert_allclose(M.sum(1), plates.moment[:, 0], atol=1e-9)
    for sl, ci in ((STANCE_R1, r), (STANCE_L, l), (STANCE_R2, r)):
        np.testing.assert_array_equal(F[sl, ci], plates.force[sl, 0])   # the toe-off frames too
        assert not F[sl, 1 - ci].any()
    # the split is unknown exactly where both feet are on the ground and the plate is loaded
    np.testing.assert_array_equal(np.nonzero(g.shared)[0], np.arange(DOUBLE.start, DOUBLE.stop))
    assert not g.shared[FLIGHT].any()
    # resampled: the flags follow the nearest sample
    k = np.arange(0.0, T - 1, 0.37)                             # sample numbers, never half-way
    h = g.resampled(k / RATE)
    np.testing.assert_array_equal(h.shared, g.shared[np.rint(k).astype(int)])


def test_frame_by_frame_without_kinematics_and_per_strike_overground():
    """Without kinematic labels the split goes frame by frame to the foot nearest the centre of
    pressure (the toe-off frames then go to the wrong foot: why the kinematics are used); an
    overground plate (``per_run``) reports no shared frames."""
    m, plates, P, hint, r, l = _scene()
    g = assign_plates(plates, m, P, per_run=False)
    assert (g.force[TOE_OFF, l, 1] > 0).all() and not g.shared.any()
    assert assign_plates(plates, m, P, contact_hint=hint).shared is None
