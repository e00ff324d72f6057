"""Augmentation properties: mirroring twice is the identity, mirrored dynamics satisfy the
equations of motion; angle and label noise statistics."""
import numpy as np
import pytest

from symgait.trials.augment import S, angle_noise, label_noise, mirror_map, swap_side


def test_swap_side():
    assert swap_side("hip_flexion_r") == "hip_flexion_l"
    assert swap_side("R.ASIS") == "L.ASIS" and swap_side("hip_l_center") == "hip_r_center"
    assert swap_side("lumbar_extension") == "lumbar_extension"


@pytest.mark.parametrize("model", ["gait3d", "planar"])
def test_mirror(kern, model):
    m, k = kern(model)
    mm = mirror_map(m)
    signs = dict(zip(m.coordinates, mm.sign))
    if model == "gait3d":   # derived from the axes, as OpenSim's conventions require
        assert signs["pelvis_tz"] == -1 and signs["pelvis_list"] == -1 and signs["pelvis_rotation"] == -1
        assert signs["hip_adduction_r"] == 1 and signs["lumbar_bending"] == -1 and signs["pelvis_tilt"] == 1
    rng = np.random.default_rng(0)
    B = 8
    p = m.parameters(height=1.8, mass=72.6, thigh_r_length=0.46, shank_l_length=0.41)
    q = rng.uniform(-0.6, 0.6, (B, m.nq))
    qd, qdd = rng.normal(size=(B, m.nq)), rng.normal(size=(B, m.nq))
    w = rng.normal(0, 200, (B, m.n_contacts, 6))
    c = rng.random((B, m.n_contacts)) < 0.5
    d = dict(q=q, qd=qd, qdd=qdd, w=w, contact=c, p=p)
    d2 = mm.sample(mm.sample(d))
    for key in d:
        assert np.array_equal(d2[key], d[key]), key                # twice = identity (exactly)
    tau = k.inverse_dynamics(q, qd, qdd, w, p)
    dm = mm.sample(d)
    tau_m = k.inverse_dynamics(dm["q"], dm["qd"], dm["qdd"], dm["w"], dm["p"])
    assert np.abs(tau_m - mm.generalized_forces(tau)).max() < 1e-9 * np.abs(tau).max()
    # joint centres of the mirrored pose are the mirror images (S = diag(1, 1, -1))
    P, Pm = k.points(q, p), k.points(dm["q"], dm["p"])
    jc = [i for i, n in enumerate(m.points) if n.endswith("_center")]
    assert np.allclose(mm.points(P)[:, jc], Pm[:, jc], atol=1e-12)
    assert np.allclose(k.contact_points(dm["q"], dm["p"])[:, mm.contact_perm],
                       k.contact_points(q, p) @ S)


def test_mirror_real_sequence_eom(data, kern):
    """A measured real trial mirrored still satisfies the equations of motion."""
    from symgait.trials.pipeline import process_trial
    m, k = kern("gait3d")
    G = "opensim/gait2354_subject01_walk1/"
    tr = process_trial(m, k, data(G + "subject01_walk1_ik.mot"), height=1.803, mass=72.6,
                       forces=data(G + "subject01_walk1_grf.mot"))
    s = tr.sequence
    mm = mirror_map(m)
    d = mm.sample(dict(q=s.q, qd=s.qd, qdd=s.qdd, w=s.w, p=s.p, tau=s.tau, contact=s.contact))
    tau_m = k.inverse_dynamics(d["q"], d["qd"], d["qdd"], d["w"], d["p"])
    assert np.abs(tau_m - d["tau"]).max() < 1e-9 * np.abs(s.tau).max()
    assert np.array_equal(d["contact"], s.contact[:, ::-1])


def test_angle_noise(kern):
    m, k = kern("gait3d")
    q = np.zeros((4000, m.nq))
    qn = angle_noise(m, q, 2.0, rng=1)
    root = [m.coordinates.index(c) for c in m.spec.bodies[0].coordinates]
    assert np.all(qn[:, root] == 0)
    hip = m.coordinates.index("hip_flexion_r")
    assert abs(np.degrees(qn[:, hip].std()) - 2.0) < 0.1
    assert np.all(angle_noise(m, q, 2.0, rng=1, include_root=True)[:, 3] != 0)


def test_label_noise():
    L = np.zeros((5000, 2), bool)
    L[::2] = True
    Ln = label_noise(L, rng=0)
    flipped = (Ln != L).mean()
    assert 0.04 < flipped < 0.06                     # 10 % chosen x 50 % flipped
    assert np.array_equal(label_noise(L, rng=0, fraction=0.0), L)
