"""(force, COP, free moment) <-> wrench about a point."""

import numpy as np
import pytest

from symgait.forces.wrench import cop_to_wrench, transport_moment, wrench_to_cop
from symgait.io import read_mot


def test_hand_computed_transport():
    F = np.array([10.0, 100.0, -5.0])
    cop = np.array([0.3, 0.0, 0.1])
    o = np.array([0.2, 0.05, 0.0])
    w = cop_to_wrench(F, cop, 2.0, o)
    # r = cop - o = (0.1, -0.05, 0.1); r x F = (-9.75, 1.5, 10.5); + free moment (0, 2, 0)
    np.testing.assert_allclose(w, [10, 100, -5, -9.75, 3.5, 10.5], atol=1e-12)
    # moment about the COP itself is the free moment only
    np.testing.assert_allclose(transport_moment(w[3:], F, o, cop), [0, 2, 0], atol=1e-12)
    # transport to the origin: M0 = Mo + (o - 0) x F
    # o x F = (0.05*-5 - 0*100, 0*10 - 0.2*-5, 0.2*100 - 0.05*10) = (-0.25, 1.0, 19.5)
    np.testing.assert_allclose(transport_moment(w[3:], F, o, [0, 0, 0]),
                               [-10.0, 4.5, 30.0], atol=1e-12)
    F2, cop2, T2 = wrench_to_cop(w, o)
    np.testing.assert_allclose(cop2, cop, atol=1e-12)
    assert T2 == pytest.approx(2.0)


def test_roundtrip_batched_and_plane_height():
    rng = np.random.default_rng(7)
    N = 200
    F = rng.normal(0, 50, (N, 3))
    F[:, 1] = rng.uniform(20, 900, N)
    h = -0.0075
    cop = np.column_stack([rng.uniform(0, 1, N), np.full(N, h), rng.uniform(-0.2, 0.2, N)])
    T = rng.normal(0, 3, N)
    pts = rng.normal(0, 0.5, (N, 3))                    # a different point per frame
    w = cop_to_wrench(F, cop, T, pts)
    assert w.shape == (N, 6)
    F2, cop2, T2 = wrench_to_cop(w, pts, plane_height=h)
    np.testing.assert_allclose(F2, F)
    np.testing.assert_allclose(cop2, cop, atol=1e-10)
    np.testing.assert_allclose(T2, T, atol=1e-9)
    # Z-up lab convention
    copz = cop[:, [0, 2, 1]]
    Fz = F[:, [0, 2, 1]]
    wz = cop_to_wrench(Fz, copz, T, up=(0, 0, 1))
    _, cz, Tz = wrench_to_cop(wz, up=(0, 0, 1), plane_height=h)
    np.testing.assert_allclose(cz, copz, atol=1e-10)
    np.testing.assert_allclose(Tz, T, atol=1e-9)


def test_unloaded_frames_are_nan_and_vector_torque():
    w = np.array([[1.0, 0.0, 0.0, 0.0, 0.5, 0.0], [0.0, 100.0, 0.0, 1.0, 2.0, -3.0]])
    F, cop, T = wrench_to_cop(w)
    assert np.isnan(cop[0]).all() and np.isnan(T[0])
    np.testing.assert_allclose(cop[1], [-0.03, 0.0, -0.01])
    assert T[1] == pytest.approx(2.0)
    # full torque vectors (as in OpenSim's ground_torque_{x,y,z}) are added as given
    wv = cop_to_wrench([[0, 100.0, 0]], [[0.1, 0, 0.2]], [[0.5, 1.0, -0.5]])
    np.testing.assert_allclose(wv[0, 3:], np.cross([0.1, 0, 0.2], [0, 100, 0]) + [0.5, 1, -0.5])


def test_opensim_grf_roundtrip(data):
    """Right-foot GRF of subject01_walk1 as a wrench about a point near the ankle
    and back: COP and vertical free moment are recovered while loaded."""
    g = read_mot(data("opensim/gait2354_subject01_walk1/subject01_walk1_grf.mot"))
    F = g.columns(["ground_force_vx", "ground_force_vy", "ground_force_vz"])
    p = g.columns(["ground_force_px", "ground_force_py", "ground_force_pz"])
    ty = g.column("ground_torque_y")
    L = F[:, 1] > 20
    ankle = np.array([0.5, 0.08, 0.1])
    w = cop_to_wrench(F[L], p[L], ty[L], ankle)
    _, cop, T = wrench_to_cop(w, ankle, plane_height=-0.0075)
    np.testing.assert_allclose(cop, p[L], atol=1e-9)
    np.testing.assert_allclose(T, ty[L], atol=1e-9)
