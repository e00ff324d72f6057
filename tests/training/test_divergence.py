"""Training that diverges stops at the step that produced a non-finite loss or gradient, naming it,
and never writes that state: last.pt and best.pt keep the last finite one (tiny config, planar)."""
from __future__ import annotations

import re

import pytest
import torch

from training.checkpoint import load
from training.config import load_config
from training.losses import Losses
from training.trainer import TrainingDiverged, train


def tiny(*over):
    return load_config("tiny", ["train.log_every=2", "train.ckpt_every=2", *over])


def _all_finite(path) -> bool:
    d = torch.load(path, map_location="cpu", weights_only=False)
    tensors = list(d["net"].values())
    ts = d.get("train_state") or {}
    for st in (ts.get("optimizer") or {}).get("state", {}).values():
        tensors += [v for v in st.values() if torch.is_tensor(v)]
    return all(bool(torch.isfinite(t).all()) for t in tensors if t.is_floating_point())


def _inject(monkeypatch, at_call: int, how: str):
    """Make the ``at_call``-th training loss (1-based; validation runs without gradients and is not
    counted) non-finite (``how="loss"``) or finite with a NaN gradient (``how="grad"``)."""
    real = Losses.__call__
    calls = {"n": 0}

    def patched(self, b, o):
        res = real(self, b, o)
        if torch.is_grad_enabled():
            calls["n"] += 1
            if calls["n"] == at_call:
                if how == "loss":
                    res["total"] = res["total"] * float("nan")
                else:  # d sqrt(x)/dx at 0 is inf, times 0: a NaN gradient under a finite loss
                    res["total"] = res["total"] + torch.sqrt((o["y_n"] * 0).sum().abs()).to(res["total"])
        return res
    monkeypatch.setattr(Losses, "__call__", patched)


@pytest.mark.parametrize("how, words", [("loss", "the loss is not finite"),
                                        ("grad", "the gradient norm is nan")])
def test_divergence_stops_and_keeps_last_finite_checkpoint(tmp_path, monkeypatch, weak, seqs, how, words):
    out = tmp_path / "run"
    _inject(monkeypatch, 5, how)
    with pytest.raises(TrainingDiverged) as e:
        train(tiny("train.steps=10"), weak, out_dir=out, log=None, val_sequences=seqs[2:])
    msg = str(e.value)
    assert "diverged at step 5" in msg and words in msg, msg
    assert f"{out / 'last.pt'} keeps step 4" in msg and "train.lr" in msg, msg
    last = load(out / "last.pt")
    assert last.train_state["step"] == 4
    assert _all_finite(out / "last.pt") and _all_finite(out / "best.pt")
    assert max(r["step"] for r in last.history) == 4
    # the kept state is the one an uninterrupted 4-step run ends with
    monkeypatch.undo()
    ref = train(tiny("train.steps=4"), weak, out_dir=tmp_path / "ref", log=None, val_sequences=seqs[2:])
    for k, v in ref.net.state_dict().items():
        assert torch.equal(last.net.state_dict()[k], v), k


def test_huge_learning_rate_diverges_with_finite_checkpoint(tmp_path, weak):
    out = tmp_path / "lr"
    with pytest.raises(TrainingDiverged) as e:
        train(tiny("train.steps=20", "train.lr=1e30", "train.ckpt_every=1"), weak, out_dir=out, log=None)
    msg = str(e.value)
    m = re.search(r"diverged at step (\d+): .* keeps step (\d+)", msg)
    assert m, msg
    assert int(m.group(2)) == int(m.group(1)) - 1
    assert "1e+30" in msg
    assert load(out / "last.pt").train_state["step"] == int(m.group(2))
    assert _all_finite(out / "last.pt")


def test_divergence_before_any_checkpoint_says_so(tmp_path, monkeypatch, weak):
    _inject(monkeypatch, 1, "loss")
    with pytest.raises(TrainingDiverged, match=r"diverged at step 1: .*no checkpoint was written yet"):
        train(tiny("train.steps=4"), weak, out_dir=tmp_path / "r", log=None)
    assert not (tmp_path / "r" / "last.pt").exists()
