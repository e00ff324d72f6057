"""Two trainings of one config started at once into different folders, sharing one user cache
(the synthetic sequences are built into it by both): both succeed with the same weights, bit for
bit on CPU, and every output beside the checkpoints is whole (written atomically: no temporary
file left, config.yaml and the plot complete)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import torch
import yaml

from symgait_testing import subprocess_env

REPO = Path(__file__).resolve().parents[2]


def test_two_trainings_at_once_end_with_the_same_weights(tmp_path):
    env = subprocess_env(SYMGAIT_CACHE_DIR=str(tmp_path / "cache"))
    outs = [tmp_path / "a", tmp_path / "b"]
    procs = [subprocess.Popen([sys.executable, "-m", "training", "train", "--config", "tiny", "--set", "train.steps=20",
                               "--out", str(o)], cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for o in outs]
    for p in procs:
        _, err = p.communicate(timeout=600)
        assert p.returncode == 0, err[-3000:]
    a, b = (torch.load(o / "last.pt", map_location="cpu", weights_only=False) for o in outs)
    assert a["train_state"]["step"] == b["train_state"]["step"] == 20
    assert a["net"].keys() == b["net"].keys()
    for k in a["net"]:
        assert torch.equal(a["net"][k], b["net"][k]), k
    for sa, sb in zip(a["train_state"]["optimizer"]["state"].values(),
                      b["train_state"]["optimizer"]["state"].values()):
        assert all(torch.equal(sa[k], sb[k]) for k in sa)
    for o in outs:
        cfg = yaml.safe_load((o / "config.yaml").read_text())
        assert cfg["model"] == "planar" and cfg["train"]["steps"] == 20
        assert (o / "loss.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert not [p.name for p in o.iterdir() if p.name.endswith(".tmp")]
    assert not [p for p in (tmp_path / "cache").rglob("*") if p.name.endswith(".tmp")]
