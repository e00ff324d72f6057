"""pcnet: the construction of per-contact wrenches from the motion's total force (planar, tiny)."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from training.batch import collate
from training.checkpoint import Bundle, load
from training.config import load_config
from training.features import Featurizer
from training.metrics import GROUND
from training.pcnet import COP_BOUND, D_SCALE, T_SCALE, PhysicsConsistent, distribute
from training.trainer import train


def _batch(seq, n=None):
    n = n or len(seq)
    return collate([dict(seq.window(0, n), rate=seq.rate)])


def _raw_from_labels(w, origin, eps=1e-300):
    """Network outputs that encode labelled wrenches per kg (T, nc, 6) at origins (T, nc, 3), heading
    frame = world (planar). Inverts F_c = s_c F + s_c (d_c - sum s d), M_c = r_c x F_c + T_c e_y with
    r_c,y = GROUND - o_c,y by hand: s_c = F_c,y / sum F_y, d_c = F_c / s_c - F (sum s d = 0),
    r_x = (M_z + r_y F_x) / F_y, r_z = (r_y F_z - M_x) / F_y, T = M_y - r_z F_x + r_x F_z."""
    F, M = w[..., :3], w[..., 3:]
    tot = F.sum(1, keepdims=True)
    s = F[..., 1] / tot[..., 1]
    loaded = s > 0
    d = np.where(loaded[..., None], F / np.where(loaded, s, 1)[..., None] - tot, 0.0)
    ry = GROUND - origin[..., 1]
    fy = np.where(loaded, F[..., 1], 1.0)
    rx = np.where(loaded, (M[..., 2] + ry * F[..., 0]) / fy, 0.0)
    rz = np.where(loaded, (ry * F[..., 2] - M[..., 0]) / fy, 0.0)
    tz = np.where(loaded, M[..., 1] - rz * F[..., 0] + rx * F[..., 2], 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):  # NaN where |r| >= COP_BOUND
        raw = np.stack([np.log(np.maximum(s, eps)), d[..., 0] / D_SCALE, d[..., 2] / D_SCALE,
                        np.arctanh(rx / COP_BOUND), np.arctanh(rz / COP_BOUND), tz / T_SCALE], -1)
    return raw, s, np.stack([rx, ry, rz], -1)


@pytest.fixture(scope="module")
def pc(planar):
    m, k = planar
    return PhysicsConsistent(m, Featurizer(m), torch.float64, kernels=k)


def test_true_distribution_reproduces_labels_up_to_the_residual(planar, seqs, pc):
    m, k = planar
    s = seqs[0]
    fy = s.w[..., 1]
    b = _batch(s)
    _, _, _, _, force, origin = pc.motion_terms(b)
    _, _, r_all = _raw_from_labels(s.w / s.mass, origin[0].numpy())
    ok = ((fy > 20) | (np.abs(s.w).max(-1) == 0)).all(1) & (fy > 20).any(1)
    frames = np.nonzero(ok & (np.abs(r_all[..., [0, 2]]) < 0.9 * COP_BOUND).all((1, 2)))[0]
    assert len(frames) > 20
    # labels scaled by 0.9: the motion then implies 10 % more force than they carry (a residual)
    w_lab = 0.9 * s.w[frames] / s.mass
    o = origin[0, frames].numpy()
    raw, share, r = _raw_from_labels(w_lab, o)
    assert np.abs(r[..., [0, 2]]).max() < COP_BOUND
    w = distribute(torch.from_numpy(raw), force[0, frames], origin[0, frames], lambda v: v).numpy()
    res = k.root_residual(s.q[frames], s.qd[frames], s.qdd[frames], w_lab * s.mass, s.p)[:, :3] / s.mass
    assert np.abs(res[:, 1]).min() > 0.5       # a residual of about 1 N/kg, not zero
    f_expect = w_lab[..., :3] + share[..., None] * res[:, None, :]
    np.testing.assert_allclose(w[..., :3], f_expect, atol=1e-9)
    m_expect = np.cross(r, f_expect)
    m_expect[..., 1] += (w_lab[..., 4] - np.cross(r, w_lab[..., :3])[..., 1])  # the labels' free moment
    np.testing.assert_allclose(w[..., 3:], m_expect, atol=1e-9)
    # without the scaling the labels balance the motion: the construction gives them back
    raw1, _, _ = _raw_from_labels(s.w[frames] / s.mass, o)
    w1 = distribute(torch.from_numpy(raw1), force[0, frames], origin[0, frames], lambda v: v).numpy()
    np.testing.assert_allclose(w1, s.w[frames] / s.mass, atol=1e-6)


def test_total_force_is_the_motions_and_torques_are_inverse_dynamics(planar, seqs):
    m, k = planar
    cfg = load_config("tiny", ["variant=pcnet"])
    torch.manual_seed(0)
    bundle = Bundle.create(cfg, seqs, model=m)
    with torch.no_grad():
        for p_ in bundle.net.out.parameters():
            p_.normal_(0, 0.5)              # far from the uniform start
    s = seqs[1]
    b = _batch(s, 40)
    with torch.no_grad():
        o = bundle.outputs(b)
    w = o["w_per_kg"][0].double().numpy() * s.mass
    jt = o["jt_per_kg"][0].double().numpy() * s.mass
    n = 40
    r0 = k.root_residual(s.q[:n], s.qd[:n], s.qdd[:n], np.zeros((n, 2, 6)), s.p)
    np.testing.assert_allclose(w[..., :2].sum(1), r0[:, :2], rtol=1e-4, atol=1e-3)
    assert np.all(w[..., 2] == 0)
    tau = k.inverse_dynamics(s.q[:n], s.qd[:n], s.qdd[:n], w, s.p)[:, m.actuated_indices]
    np.testing.assert_allclose(jt, tau, rtol=1e-4, atol=1e-3)
    # the root residual with the constructed wrenches has no force left
    r = k.root_residual(s.q[:n], s.qd[:n], s.qdd[:n], w, s.p)
    assert np.abs(r[:, :2]).max() < 1e-3 * np.abs(r0[:, :2]).max()


def test_a_contact_with_no_share_carries_nothing():
    raw = torch.zeros(4, 2, 6, dtype=torch.float64)
    raw[..., 1:] = torch.randn(4, 2, 5, dtype=torch.float64)
    raw[:, 1, 0] = -80.0
    force = torch.tensor([[30.0, 700.0, 5.0]], dtype=torch.float64).expand(4, 3)
    origin = torch.rand(4, 2, 3, dtype=torch.float64)
    raw[:, 1, 5] = 0.0
    w = distribute(raw, force, origin, lambda v: v)
    assert w[:, 1].abs().max() < 1e-20
    torch.testing.assert_close(w[:, 0, :3], force)


def test_gradcheck_construction_float64():
    torch.manual_seed(1)
    raw = torch.randn(2, 3, 2, 6, dtype=torch.float64, requires_grad=True)
    force = torch.randn(2, 3, 3, dtype=torch.float64, requires_grad=True)
    origin = torch.rand(2, 3, 2, 3, dtype=torch.float64)
    torch.autograd.gradcheck(lambda a, f: distribute(a, f, origin, lambda v: v), (raw, force))
    import symgait
    feat = Featurizer(symgait.load_model("gait3d"))   # floating root: heading rotation
    psi = torch.randn(2, 3, dtype=torch.float64)
    torch.autograd.gradcheck(lambda a, f: distribute(a, f, origin, lambda v: feat.to_world(v, psi)), (raw, force))


def test_gradcheck_through_inverse_dynamics(seqs, pc):
    s = seqs[0]
    b = _batch(s, 3)
    psi = torch.zeros(1, 3, dtype=torch.float64)
    raw = (0.3 * torch.randn(1, 3, 12, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
           ).requires_grad_()
    torch.autograd.gradcheck(lambda a: pc(b, a, psi), (raw,), atol=1e-6, rtol=1e-4)


def test_pcnet_trains_keeps_best_and_stops_early(tmp_path, weak, seqs):
    cfg = load_config("tiny", ["variant=pcnet", "loss.pcnet_fwd=true", "train.steps=40", "train.log_every=1",
                               "train.patience=2", "train.lr=0.5", "loss.layer_dtype=float32"])
    train(cfg, weak, out_dir=tmp_path, log=None, val_sequences=seqs[2:])
    log = [json.loads(x) for x in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert "fwd" in log[0] and "val_rmse_grf_per_kg" in log[0]
    best = min(log, key=lambda r: r["val_rmse_grf_per_kg"])
    assert log[-1]["step"] < 40                      # stopped early
    assert log[-1]["step"] - best["step"] == 2       # after two validations without improvement
    assert all(r["best_step"] == best["step"] for r in log if r["step"] >= best["step"])
    b = load(tmp_path / "best.pt")
    assert b.history[-1]["step"] == best["step"] and (tmp_path / "last.pt").exists()
    assert (tmp_path / "loss.png").stat().st_size > 0
    p = b.predict(seqs[2])
    assert p["w"].shape == seqs[2].w.shape and np.isfinite(p["w"]).all()
