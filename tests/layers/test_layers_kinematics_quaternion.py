"""ForwardKinematics on a model with quaternion joints (tests/models/quaternion_tree.yaml: a free-flyer
root, spherical joints, one-coordinate joints): positions, body-frame velocities and the tangent
Jacobians against Pinocchio (frames placed at the named points: ``updateFramePlacements``,
``getFrameVelocity`` and ``computeFrameJacobian`` in LOCAL_WORLD_ALIGNED); the Jacobian and the
gradient along the tangent directions against central differences of q ⊕ ±ε e_k; torch's gradcheck
with respect to q's entries perturbed freely (unit and non-unit quaternions) and through the tangent
parametrization ``integrate(model, q0, delta)``; positions that depend on a quaternion only through
its direction; the rigid motion of the root; input errors."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from symgait import InputError
from symgait.layers import ForwardKinematics, integrate
from symgait.runtime.manifold import quat_matrix
from symgait_testing import PinMatch, model_and_kernels, pinocchio_from_spec, tangent_central

MODEL = "quaternion_tree"


@pytest.fixture(scope="module")
def mk(gen_root):
    return model_and_kernels(MODEL, gen_root)


def _state(m, k, B, seed):
    rng = np.random.default_rng(seed)
    t = lambda a: torch.from_numpy(np.asarray(a, dtype=np.float64))  # noqa: E731
    return t(k.space.random(B, rng)), t(rng.normal(size=(B, m.nv)))


def _quat_starts(m):
    return [qi + (3 if kind == "free_flyer" else 0) for _, kind, qi, _ in m.quaternion_joints]


def test_against_pinocchio_frames(mk):
    """Positions (oMf), velocities (the frame's LOCAL_WORLD_ALIGNED linear velocity) and the Jacobian
    (computeFrameJacobian, LOCAL_WORLD_ALIGNED: the point's world velocity per tangent direction)."""
    pin = pytest.importorskip("pinocchio", reason="Pinocchio (`pip install pin`) is the independent oracle")
    m, k = mk
    p = m.parameters()
    model = pinocchio_from_spec(pin, m, p)
    fids = []
    for pt in m.spec.points:
        jid = model.getJointId(m.spec.frames[pt.frame].name)
        r = np.array([float(c) for c in pt.position])
        fids.append(model.addFrame(pin.Frame(pt.name, jid, pin.SE3(np.eye(3), r), pin.FrameType.OP_FRAME)))
    pm = PinMatch(pin, model, m)
    q, v = _state(m, k, 8, seed=1)
    fk = ForwardKinematics(k)
    x, xv = fk(q, v)
    J = fk.jacobian(q)
    assert J.shape == (8, len(m.points), 3, m.nv)
    worst = 0.0
    for b in range(8):
        qp, vp = pm.q_in(q[b].numpy()), pm.vec_in(v[b].numpy())
        pin.forwardKinematics(pm.m, pm.data, qp, vp)
        pin.updateFramePlacements(pm.m, pm.data)
        for i, fid in enumerate(fids):
            pos = pm.data.oMf[fid].translation
            vel = pin.getFrameVelocity(pm.m, pm.data, fid, pin.LOCAL_WORLD_ALIGNED).linear
            Jf = pin.computeFrameJacobian(pm.m, pm.data, qp, fid, pin.LOCAL_WORLD_ALIGNED)[:3, pm.P]
            for ours, theirs in ((x[b, i], pos), (xv[b, i], vel), (J[b, i], Jf)):
                worst = max(worst, float(np.abs(ours.numpy() - theirs).max() / max(1.0, np.abs(theirs).max())))
            # WORLD is the twist of the frame's point at the world origin: not the point's velocity
            Jw = pin.computeFrameJacobian(pm.m, pm.data, qp, fid, pin.WORLD)[:3, pm.P]
            assert np.abs(J[b, i].numpy() - Jw).max() > 1e-3
    assert worst < 1e-10, worst


def test_jacobian_and_tangent_gradient_against_central_differences(mk):
    m, k = mk
    q, v = _state(m, k, 3, seed=2)
    fk = ForwardKinematics(k)
    qn = q.numpy()
    pos = lambda x: fk(torch.from_numpy(x)).numpy()  # noqa: E731
    num = tangent_central(k, pos, qn, m.nv)
    assert np.abs(fk.jacobian(q).numpy() - num).max() < 1e-8
    # the gradient of <G, positions> + <H, velocities> along the tangent directions at q (delta = 0)
    rng = np.random.default_rng(3)
    G, H = (torch.from_numpy(rng.normal(size=(3, len(m.points), 3))) for _ in range(2))
    scalar = lambda x: ((fk(torch.from_numpy(x), v)[0] * G).sum((1, 2))  # noqa: E731
                        + (fk(torch.from_numpy(x), v)[1] * H).sum((1, 2))).numpy()
    delta = torch.zeros(3, m.nv, dtype=torch.float64, requires_grad=True)
    x, xv = fk(integrate(k, q, delta), v)
    ((x * G).sum() + (xv * H).sum()).backward()
    num = tangent_central(k, scalar, qn, m.nv)
    assert np.abs(delta.grad.numpy() - num).max() / np.abs(num).max() < 1e-8


def test_gradcheck_raw_q_and_tangent_route(mk):
    m, k = mk
    fk = ForwardKinematics(k)
    q, v = _state(m, k, 2, seed=4)
    q_off = q.clone()
    for a, s in zip(_quat_starts(m), (1.3, 0.7, 2.0, 0.9)):  # quaternions off unit norm: used by direction
        q_off[:, a: a + 4] *= s
    v.requires_grad_()
    for qq in (q, q_off):
        qq = qq.clone().requires_grad_()
        assert torch.autograd.gradcheck(lambda q: fk(q), (qq,), eps=1e-6, atol=1e-7, rtol=1e-6)
        assert torch.autograd.gradcheck(lambda q, v: fk(q, v), (qq, v), eps=1e-6, atol=1e-7, rtol=1e-6)
        assert torch.autograd.gradcheck(lambda q, v: fk(q, v)[1], (qq, v), eps=1e-6, atol=1e-7, rtol=1e-6)
    delta = torch.zeros(2, m.nv, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda d, v: fk(integrate(k, q, d), v), (delta, v), eps=1e-6, atol=1e-7, rtol=1e-6)


def test_a_quaternion_counts_by_its_direction(mk):
    """Scaling a quaternion changes nothing, and q's gradient has no component along it."""
    m, k = mk
    fk = ForwardKinematics(k)
    q, v = _state(m, k, 4, seed=5)
    q_off = q.clone()
    for a in _quat_starts(m):
        q_off[:, a: a + 4] *= 3.0
    x, xv = fk(q, v)
    qq = q_off.clone().requires_grad_()
    y, yv = fk(qq, v)
    assert torch.allclose(x, y, rtol=0, atol=1e-14) and torch.allclose(xv, yv, rtol=0, atol=1e-13)
    (y.sum() + yv.sum()).backward()
    for a in _quat_starts(m):
        assert float((qq.grad[:, a: a + 4] * q_off[:, a: a + 4]).sum(-1).abs().max()) < 1e-12


def test_rigid_motion_of_the_root_and_float32(mk):
    """Moving the free-flyer root alone moves the tree rigidly: the distance between two points stays
    (positions at q ⊕ δ, δ on the root's six entries), and with only the root's velocity entries
    nonzero the relative velocity of two points is ω × (x_i - x_j), ω = E0 R(quat) ω_body the root's
    world angular velocity; float32 matches float64."""
    m, k = mk
    B = 5
    q, v = _state(m, k, B, seed=6)
    fk = ForwardKinematics(k)
    x, xv = fk(q, v)
    x32, xv32 = fk(q.float(), v.float())
    assert x32.dtype == torch.float32
    assert float((x32.double() - x).abs().max()) < 1e-5 and float((xv32.double() - xv).abs().max()) < 1e-4
    root_only = torch.zeros(B, m.nv, dtype=torch.float64)
    root_only[:, :6] = 0.3
    q2 = integrate(k, q, root_only)
    d1 = (x[:, 0] - x[:, 1]).norm(dim=-1)
    d2 = (fk(q2)[:, 0] - fk(q2)[:, 1]).norm(dim=-1)
    assert float((d1 - d2).abs().max()) < 1e-12
    root = m.spec.frames[0]
    assert root.motion.name == "free_flyer"
    R = np.asarray(root.rotation, float) @ quat_matrix(q[:, 3:7].numpy())
    omega = torch.from_numpy((R @ root_only[:, 3:6, None].numpy())[..., 0])
    _, xv = fk(q, root_only)
    rel = xv[:, 0] - xv[:, 1]
    assert float((rel - torch.linalg.cross(omega, x[:, 0] - x[:, 1])).abs().max()) < 1e-12


def test_inputs_are_checked(mk):
    m, k = mk
    fk = ForwardKinematics(k)
    q, v = _state(m, k, 2, seed=7)
    with pytest.raises(InputError, match=r"qd has shape \(2, 24\); expected \(2, 20\): \(B, nv\): the 20 body-frame"):
        fk(q, torch.zeros(2, m.nq, dtype=torch.float64))
    bad = q.clone()
    bad[1, 12:16] = 0.0  # ankle_r's quaternion, all zeros
    with pytest.raises(InputError, match=r"quaternion of joint 'ankle_r' \(q\[:, 12:16\].* norm 0 at sample 1"):
        fk(bad)
    with pytest.raises(InputError, match=r"quaternion of joint 'root'"):
        fk.jacobian(torch.zeros(1, m.nq, dtype=torch.float64))
