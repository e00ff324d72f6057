"""Command line: train with overrides, and a 2-process DDP run (gloo, CPU)."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from symgait_testing import subprocess_env

REPO = Path(__file__).resolve().parents[2]


def test_cli_train_and_config_error(tmp_path):
    out = tmp_path / "run"
    r = subprocess.run([sys.executable, "-m", "training", "train", "--config", "tiny", "--set", "train.steps=2",
                        "--set", "train.log_every=1", "--out", str(out)], cwd=REPO, env=subprocess_env(),
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert (out / "last.pt").exists() and len((out / "log.jsonl").read_text().splitlines()) == 2
    r = subprocess.run([sys.executable, "-m", "training", "train", "--config", "tiny", "--set", "train.nope=2",
                        "--out", str(out)], cwd=REPO, env=subprocess_env(), capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "train.nope" in r.stderr and "batch_size" in r.stderr


def test_ddp_two_ranks(tmp_path):
    out = tmp_path / "ddp"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
           "-m", "training", "train", "--config", "tiny", "--set", "train.steps=4",
           "--set", "train.log_every=2", "--out", str(out)]
    proc = subprocess.Popen(cmd, cwd=REPO, env=subprocess_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        stdout, stderr = proc.communicate(timeout=180)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # the launcher and both ranks (own session)
        proc.communicate()
        pytest.fail("the DDP run did not finish in 180 s")
    r = subprocess.CompletedProcess(cmd, proc.returncode, stdout, stderr)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert "world size 2" in r.stdout
    assert (out / "last.pt").exists()
    log = [json.loads(x) for x in (out / "log.jsonl").read_text().splitlines()]
    assert [x["step"] for x in log] == [2, 4]          # rank 0 only wrote
    from training.checkpoint import load
    b = load(out / "last.pt")
    assert b.train_state["step"] == 4
