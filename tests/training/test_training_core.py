"""Training core: config, features, losses, gradients, determinism, resume (planar, tiny sizes)."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from training.batch import collate, index_batch
from training.checkpoint import Bundle, load, save
from training.config import Config, ConfigError, load_config
from training.features import Featurizer
from training.losses import Losses
from training.trainer import train, window_batch


def tiny(*over):
    return load_config("tiny", list(over))


# --- config ----------------------------------------------------------------------------------------
def test_config_overrides_and_roundtrip():
    cfg = load_config("tiny", ["train.steps=17", "variant=cfinet", "loss.w_inv=0.5", "loss.gradient=sensitivity"])
    assert (cfg.train.steps, cfg.variant, cfg.loss.w_inv, cfg.loss.gradient) == (17, "cfinet", 0.5, "sensitivity")
    assert Config.from_dict(cfg.to_dict()) == cfg
    for name in ("default", "main", "tiny"):
        load_config(name)
    assert load_config("default") == Config()


@pytest.mark.parametrize("item, words", [
    ("train.stepz=3", ["train.stepz", "steps", "batch_size"]),
    ("nosuch=1", ["nosuch", "variant", "train"]),
    ("variant=foo", ["variant", "baseline", "cfinet"]),
    ("train.steps=abc", ["train.steps", "int"]),
    ("loss.integrator=euler", ["rk4", "semi_implicit_euler"]),
    ("trainsteps", ["key=value"]),
])
def test_config_errors(item, words):
    with pytest.raises(ConfigError) as e:
        load_config("tiny", [item])
    for w in words:
        assert w in str(e.value)


def test_config_file_unknown_key(tmp_path):
    p = tmp_path / "c.yaml"
    p.write_text("net: {width: 3}\n")
    with pytest.raises(ConfigError, match="net.width.*hidden"):
        load_config(p)


# --- features --------------------------------------------------------------------------------------
def test_planar_features_drop_horizontal_position(planar, seqs):
    m, _ = planar
    f = Featurizer(m)
    q, qd = torch.from_numpy(seqs[0].q), torch.from_numpy(seqs[0].qd)
    q2 = q.clone()
    q2[:, 0] += 3.7
    assert torch.equal(f(q, qd), f(q2, qd))
    assert f(q, qd).shape == (len(q), f.n_features) and f.n_features == 2 + 7 + 3 + 7


def _rot(axis, a):
    c, s = math.cos(a), math.sin(a)
    return {"x": np.array([[1, 0, 0], [0, c, -s], [0, s, c]]), "y": np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]]),
            "z": np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])}[axis]


def _zxy(R):
    """Euler angles (tilt z, list x, rotation y) of R = Rz Rx Ry."""
    b = math.asin(R[2, 1])
    a = math.atan2(-R[0, 1], R[1, 1])
    c = math.atan2(-R[2, 0], R[2, 2])
    return a, b, c


def test_floating_features_invariant_to_yaw_and_translation():
    import symgait
    m = symgait.load_model("gait3d")
    f = Featurizer(m)
    rng = np.random.default_rng(1)
    q = rng.normal(0, 0.3, (6, m.nq))
    qd = rng.normal(0, 1.0, (6, m.nq))
    dt, yaw = 1e-6, 0.9
    # rotate the whole body about Y by yaw (and translate): new Euler angles; rates by differences
    Y = _rot("y", yaw)
    q2, qd2 = q.copy(), qd.copy()
    for i in range(len(q)):
        for (src, dst, h) in ((q, q2, 0.0),):
            R = _rot("z", q[i, 3]) @ _rot("x", q[i, 4]) @ _rot("y", q[i, 5])
            q2[i, 3:6] = _zxy(Y @ R)
            R1 = _rot("z", q[i, 3] + dt * qd[i, 3]) @ _rot("x", q[i, 4] + dt * qd[i, 4]) @ _rot("y", q[i, 5] + dt * qd[i, 5])
            qd2[i, 3:6] = (np.array(_zxy(Y @ R1)) - q2[i, 3:6]) / dt
        q2[i, 0:3] = Y @ q[i, 0:3] + np.array([5.0, 0, -2.0]) * np.array([1, 0, 1])
        q2[i, 1] = q[i, 1]
        qd2[i, 0:3] = Y @ qd[i, 0:3]
    F1 = f(torch.from_numpy(q), torch.from_numpy(qd))
    F2 = f(torch.from_numpy(q2), torch.from_numpy(qd2))
    assert torch.allclose(F1, F2, atol=1e-4), (F1 - F2).abs().max()
    # wrenches: heading round trip and equivariance
    w = torch.from_numpy(rng.normal(size=(6, m.n_contacts, 6)))
    psi = f.heading(torch.from_numpy(q))
    assert torch.allclose(f.to_world(f.to_heading(w, psi), psi), w)
    psi2 = f.heading(torch.from_numpy(q2))
    assert torch.allclose(torch.remainder(psi2 - psi - yaw + math.pi, 2 * math.pi) - math.pi,
                          torch.zeros_like(psi), atol=1e-9)


def test_floating_orientation_matches_kernels():
    """The features' root rotation is the model's: pelvis points move with R."""
    import symgait
    m = symgait.load_model("gait3d")
    k = symgait.kernels(m)
    f = Featurizer(m)
    rng = np.random.default_rng(2)
    q = np.zeros((3, m.nq))
    q[:, 3:6] = rng.normal(0, 0.5, (3, 3))
    p = m.parameters()
    ids = [m.points.index(n) for n in ("R.ASIS", "L.ASIS", "V.Sacral")]
    P0 = k.points(np.zeros((1, m.nq)), p)[0, ids]
    P = k.points(q, p)[:, ids]
    R = f._R(torch.from_numpy(q)).numpy()
    assert np.allclose(P, np.einsum("bij,pj->bpi", R, P0), atol=1e-9)


# --- losses ----------------------------------------------------------------------------------------
def _labels_per_kg(b):
    m = b["mass"][:, None, None]
    return b["w"] / m[..., None], b["JT"] / m


def test_forward_loss_small_for_true_labels(planar, seqs):
    m, k = planar
    cfg = tiny("loss.horizon=8")
    b = window_batch(seqs, 17, 8)
    L = Losses(cfg, m, k)
    w, jt = _labels_per_kg(b)
    lt, sk = L.forward_loss(b, w, jt)
    lz, _ = L.forward_loss(b, torch.zeros_like(w), torch.zeros_like(jt))
    assert sk == 0
    assert float(lt) < 0.03 * float(lz), (float(lt), float(lz))
    assert float(L.inverse_loss(b, w)) < 1e-8 < float(L.inverse_loss(b, torch.zeros_like(w)))


def test_forward_loss_gradient_reaches_network(planar, seqs):
    m, k = planar
    cfg = tiny("variant=fnet", "loss.w_sup=0")
    torch.manual_seed(0)
    bundle = Bundle.create(cfg, seqs, model=m)
    b = window_batch(seqs, 12, 12)
    L = Losses(cfg, m, k)
    o = bundle.outputs(b)
    loss, _ = L.forward_loss(b, o["w_per_kg"], o["jt_per_kg"])
    loss.backward()
    g = [p.grad for p in bundle.net.parameters()]
    assert all(x is not None and bool(torch.isfinite(x).all()) for x in g)
    assert sum(float(x.abs().sum()) for x in g) > 0
    # what the network receives is the loss's derivative in its outputs (float64 physics):
    # directional central differences along random directions
    w = o["w_per_kg"].detach().double().requires_grad_(True)
    jt = o["jt_per_kg"].detach().double().requires_grad_(True)
    lw, _ = L.forward_loss(b, w, jt)
    gw, gjt = torch.autograd.grad(lw, (w, jt))
    gen = torch.Generator().manual_seed(1)
    for _ in range(3):
        vw = torch.randn(w.shape, generator=gen, dtype=w.dtype)
        vj = torch.randn(jt.shape, generator=gen, dtype=jt.dtype)
        analytic = float((gw * vw).sum() + (gjt * vj).sum())
        h = 1e-6
        with torch.no_grad():
            lp = float(L.forward_loss(b, w + h * vw, jt + h * vj)[0])
            lm = float(L.forward_loss(b, w - h * vw, jt - h * vj)[0])
        numeric = (lp - lm) / (2 * h)
        assert abs(analytic - numeric) <= 1e-6 * abs(numeric) + 1e-9, (analytic, numeric)


def test_supervised_loss_masks_unlabelled(planar, seqs, weak):
    m, k = planar
    cfg = tiny("variant=baseline")
    torch.manual_seed(0)
    bundle = Bundle.create(cfg, weak, model=m)
    b = window_batch(weak, 12, 12)
    assert b["labelled"].any() and (~b["labelled"]).any()
    o = bundle.outputs(b)
    o["y_n"].retain_grad()
    r = Losses(cfg, m, k)(b, o)
    lab = b["labelled"]
    d = (o["y_n"] - o["target_n"])[lab]
    assert torch.allclose(r["sup"], (d[torch.isfinite(d)] ** 2).mean())  # the masked MSE, by hand
    r["sup"].backward()
    g = o["y_n"].grad
    assert bool((g[~lab] == 0).all()) and bool((g[lab] != 0).any())        # no gradient from unlabelled windows
    assert all(bool(torch.isfinite(p.grad).all()) for p in bundle.net.parameters())


def test_diverged_chunks_are_skipped(planar, seqs):
    m, k = planar
    cfg = tiny("loss.horizon=11", "loss.clamp_per_kg=1e6", "loss.diverge_threshold=50")
    b = window_batch(seqs[:1], 12, 12)
    L = Losses(cfg, m, k)
    w, jt = _labels_per_kg(b)
    jt = jt.clone().requires_grad_(True)
    big = jt.detach().clone()
    big[0] *= 1e4  # the first window blows up
    jt2 = big.requires_grad_(True)
    loss, sk = L.forward_loss(b, w, jt2)
    assert sk >= 1 and torch.isfinite(loss)
    loss.backward()
    assert torch.isfinite(jt2.grad).all()
    # the diverged window is left out of the loss: no gradient reaches it, while the others get one
    assert bool((jt2.grad[0] == 0).all()) and bool((jt2.grad[1:] != 0).any())


@pytest.mark.parametrize("variant", ["baseline", "fnet", "finet", "cfinet", "pcnet"])
def test_variants_lower_their_loss_on_a_fixed_batch(planar, seqs, weak, variant):
    m, k = planar
    cfg = tiny(f"variant={variant}", "net.dropout=0")
    torch.manual_seed(0)
    use = seqs if variant == "baseline" else weak
    bundle = Bundle.create(cfg, use, model=m)
    b = window_batch(use, 12, 12)
    L = Losses(cfg, m, k)
    opt = torch.optim.Adam(bundle.net.parameters(), lr=3e-3)
    first = None
    for _ in range(15):
        r = L(b, bundle.outputs(b))
        first = float(r["total"].detach()) if first is None else first
        opt.zero_grad()
        r["total"].backward()
        opt.step()
    with torch.no_grad():
        last = float(L(b, bundle.outputs(b))["total"])
    assert set(r) >= {"sup", "total"} | ({"fwd"} if variant not in ("baseline", "pcnet") else set())
    assert ("inv" in r) == (variant in ("finet", "cfinet"))
    assert last < 0.8 * first, (first, last)


# --- training loop ---------------------------------------------------------------------------------
def _read_log(d):
    return [json.loads(x) for x in (d / "log.jsonl").read_text().splitlines()]


def test_train_reproducible_and_checkpoint(tmp_path, weak, seqs):
    cfg = tiny("train.steps=6")
    b1 = train(cfg, weak, out_dir=tmp_path / "a", log=None, val_sequences=seqs[2:])
    b2 = train(cfg, weak, out_dir=tmp_path / "b", log=None)
    la, lb = _read_log(tmp_path / "a"), _read_log(tmp_path / "b")
    assert [r["total"] for r in la] == [r["total"] for r in lb]
    assert "val_rmse_grf_per_kg" in la[-1]
    bl = load(tmp_path / "a" / "last.pt")
    pred = bl.predict(seqs[0])
    pred1 = b1.predict(seqs[0])
    assert pred["w"].shape == seqs[0].w.shape and pred["JT"].shape == seqs[0].JT.shape
    np.testing.assert_allclose(pred["w"], pred1["w"], rtol=1e-5, atol=1e-4)
    w, jt = bl.predict_batch(collate([dict(seqs[0].window(0, 20), rate=100.0)]))
    assert w.shape == (1, 20, 2, 6) and jt.shape == (1, 20, 7)


def test_resume_reproduces(tmp_path, weak):
    full = tiny("train.steps=6", "train.ckpt_every=3", "net.dropout=0.1")
    train(full, weak, out_dir=tmp_path / "full", log=None)
    half = tiny("train.steps=3", "train.ckpt_every=3", "net.dropout=0.1")
    train(half, weak, out_dir=tmp_path / "res", log=None)
    b = train(full, weak, out_dir=tmp_path / "res", resume=True, log=None)
    a, r = _read_log(tmp_path / "full"), _read_log(tmp_path / "res")
    assert a[-1]["step"] == r[-1]["step"] == 6
    assert a[-1]["total"] == r[-1]["total"]
    assert b.history[-1]["total"] == a[-1]["total"]


def test_cfinet_predict_uses_contacts(tmp_path, weak, seqs):
    cfg = tiny("variant=cfinet", "train.steps=2")
    b = train(cfg, weak, out_dir=None, log=None)
    s = seqs[0]
    p1 = b.predict(s)
    import dataclasses
    s2 = dataclasses.replace(s, contact=~s.contact)
    p2 = b.predict(s2)
    assert not np.allclose(p1["w"], p2["w"])


def test_checkpoint_records_rate_and_predict_refuses_another(tmp_path, weak, seqs):
    """The convolutions count frames: a sequence at another frame rate than the training one is
    refused with the fix named, and accepted once resampled."""
    from symgait.errors import InputError
    from training.data import resample
    cfg = tiny("train.steps=2")
    bundle = train(cfg, weak, out_dir=tmp_path, log=lambda *a: None)
    b = load(tmp_path / "last.pt")
    assert b.rate == pytest.approx(seqs[0].rate) and bundle.rate == b.rate
    other = resample(seqs[0], seqs[0].rate / 2)
    with pytest.raises(InputError, match="resample"):
        b.predict(other)
    out = b.predict(resample(other, b.rate))
    assert np.isfinite(out["w"]).all() and out["JT"].shape[1] == len(seqs[0].actuated)


def test_layers_in_float32_match_float64(planar, seqs):
    """loss.layer_dtype: the float32 physics layers give the float64 losses and gradients to float32
    accuracy (the network itself is float32 either way)."""
    m, k = planar
    b = window_batch(seqs, 12, 12)
    w, jt = _labels_per_kg(b)
    w = (0.9 * w).float().requires_grad_()
    jt = (0.9 * jt).float().requires_grad_()
    res = {}
    for dt in ("float64", "float32"):
        L = Losses(tiny("variant=finet", f"loss.layer_dtype={dt}"), m, k)
        lf, _ = L.forward_loss(b, w, jt)
        li = L.inverse_loss(b, w)
        gw, gj = torch.autograd.grad(lf + li, (w, jt))
        res[dt] = (float(lf.detach()), float(li.detach()), gw, gj)
    a, c = res["float64"], res["float32"]
    assert c[0] == pytest.approx(a[0], rel=1e-3) and c[1] == pytest.approx(a[1], rel=1e-3)
    for x, y in zip(a[2:], c[2:]):
        assert float((x - y).abs().max()) <= 1e-3 * float(x.abs().max())
