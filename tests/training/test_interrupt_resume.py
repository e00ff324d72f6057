"""A training run killed at any moment (SIGKILL) resumes from its last complete checkpoint to the same
final weights as an uninterrupted run, bit for bit on CPU; Ctrl-C (SIGINT) stops it with one line,
no traceback, exit status 130, and a complete checkpoint on disk. Real ``python -m training train``
processes with the tiny config."""
from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from symgait_testing import default_sigint, subprocess_env
import torch

REPO = Path(__file__).resolve().parents[2]
# enough steps that the run is still going when its first checkpoint appears (about 40 steps/s)
STEPS, CKPT = 150, 5


def _train(out: Path, *extra: str) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "training", "train", "--config", "tiny", "--set", f"train.steps={STEPS}",
           "--set", f"train.ckpt_every={CKPT}", "--set", "train.log_every=5", "--set", "net.dropout=0.1", "--out", str(out), *extra]
    return subprocess.Popen(cmd, cwd=REPO, env=subprocess_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=default_sigint)


def _wait_for_checkpoint(proc: subprocess.Popen, path: Path, timeout: float = 120.0) -> None:
    t0 = time.monotonic()
    while not path.exists():
        if proc.poll() is not None:
            pytest.fail(f"the run ended before writing {path}: {proc.stderr.read()[-2000:]}")
        if time.monotonic() - t0 > timeout:
            proc.kill()
            pytest.fail(f"no {path} after {timeout} s")
        time.sleep(0.02)


def _finish(proc: subprocess.Popen, timeout: float = 180.0):
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        pytest.fail(f"the run did not end in {timeout} s")
    return proc.returncode, out, err


def _state(path: Path) -> dict:
    return torch.load(path, map_location="cpu", weights_only=False)


def test_sigkill_then_resume_ends_with_the_uninterrupted_weights(tmp_path):
    full, cut = tmp_path / "full", tmp_path / "cut"
    ref = _train(full)           # both start together (two cores)
    run = _train(cut)
    _wait_for_checkpoint(run, cut / "last.pt")
    run.send_signal(signal.SIGKILL)
    rc, _, _ = _finish(run)
    assert rc == -signal.SIGKILL
    killed_at = _state(cut / "last.pt")["train_state"]["step"]
    assert 0 < killed_at < STEPS, "the run finished before it could be killed: raise STEPS"
    rc, out, err = _finish(_train(cut, "--resume"))
    assert rc == 0, err[-3000:]
    assert f"resumed from {cut / 'last.pt'} at step {killed_at}" in out
    rc, _, err = _finish(ref)
    assert rc == 0, err[-3000:]
    a, b = _state(full / "last.pt"), _state(cut / "last.pt")
    assert a["train_state"]["step"] == b["train_state"]["step"] == STEPS
    assert a["net"].keys() == b["net"].keys()
    for k in a["net"]:
        assert torch.equal(a["net"][k], b["net"][k]), f"{k}: max |diff| {(a['net'][k] - b['net'][k]).abs().max()}"
    for sa, sb in zip(a["train_state"]["optimizer"]["state"].values(),
                      b["train_state"]["optimizer"]["state"].values()):
        assert all(torch.equal(sa[k], sb[k]) for k in sa)
    # the log is the uninterrupted one: no record twice, none lost
    assert (full / "log.jsonl").read_text().count("\n") == (cut / "log.jsonl").read_text().count("\n") \
        == STEPS // 5
    assert not list(cut.glob(".*.tmp"))


def test_sigint_stops_with_one_line_and_a_complete_checkpoint(tmp_path):
    out = tmp_path / "int"
    long_run = 20 * STEPS  # long enough to be mid-training when the signal comes, however loaded the machine
    run = _train(out, "--set", f"train.steps={long_run}")
    _wait_for_checkpoint(run, out / "last.pt")
    time.sleep(0.1)
    run.send_signal(signal.SIGINT)
    rc, _, err = _finish(run)
    assert rc == 130, err[-3000:]
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    saved = _state(out / "last.pt")["train_state"]["step"]
    assert lines[0].startswith("python -m training: interrupted at step ")
    assert f"{out / 'last.pt'} keeps step {saved}: continue with --resume" in lines[0]
    assert saved % CKPT == 0 and 0 < saved < long_run
    assert not list(out.glob(".*.tmp"))
