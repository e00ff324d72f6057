"""Labels without plates (CMU): the root residual distributed to the feet, zero by construction."""
import numpy as np

from symgait.forces.derived import contact_weights, derive_labels, distribute_residual
from symgait.markers.ik import retarget
from symgait.markers.sources import load_source
from symgait.signals.kinematics import filtered_kinematics


def test_smooth_transition_weights():
    L = np.zeros((20, 2), bool)
    L[:8, 0] = True            # right stance
    L[5:20, 1] = True          # left from frame 5: double support 5-7
    a = contact_weights(L)["weights"]
    assert np.allclose(a.sum(1), 1)
    assert np.all(a[:5, 0] == 1) and np.all(a[8:, 1] == 1)
    assert np.all(np.diff(a[4:9, 0]) < 0)        # load passes smoothly from right to left
    flight = np.zeros((4, 2), bool)
    cw = contact_weights(flight, foot_height=np.array([[0.1, 0.0]] * 4))
    assert np.all(cw["weights"][:, 1] == 1) and cw["flight_frames"].size == 4


def test_cmu_residual_zero_by_construction(data, kern):
    for model in ("gait3d", "planar"):
        m, k = kern(model)
        src = load_source(data("cmu/subject08/08_01.amc"))
        ik, p, _ = retarget(m, k, src, height=1.65, mass=65)
        q, qd, qdd = filtered_kinematics(ik.q, ik.rate, cutoff=6.0)
        d = derive_labels(m, k, q, qd, qdd, p, ik.rate)
        assert d.label_kind == "derived"
        scale = np.abs(d.residual_before).max()
        assert scale > 100                                   # walking needs ground reactions
        assert np.abs(d.residual_after).max() < 1e-9 * scale
        root = [i for i, c in enumerate(m.coordinates) if c not in m.actuated]
        assert np.abs(d.tau[:, root]).max() < 1e-9 * scale
        # the feet carry the body: mean vertical force ~ body weight, stance foot only
        assert abs(d.w[..., 1].sum(1).mean() / (65 * 9.80665) - 1) < 0.1
        assert np.all(d.w[~d.labels & (d.weights == 0)] == 0)
        # a walking gait: both single supports occur
        assert (d.labels[:, 0] & ~d.labels[:, 1]).any() and (d.labels[:, 1] & ~d.labels[:, 0]).any()


def test_distribute_any_weights_zeroes_residual(kern):
    m, k = kern("gait3d")
    rng = np.random.default_rng(3)
    B = 6
    q = rng.uniform(-0.4, 0.4, (B, m.nq))
    qd, qdd = rng.normal(size=(B, m.nq)), rng.normal(size=(B, m.nq))
    p = m.parameters(height=1.7, mass=70)
    a = rng.uniform(0, 1, (B, 2))
    w = distribute_residual(k, q, qd, qdd, p, a)
    assert np.abs(k.root_residual(q, qd, qdd, w, p)).max() < 1e-8
