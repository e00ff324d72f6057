"""`symgait generate` is safe against concurrent and interrupted runs (real processes): two generations
of one model started at once both succeed with the files of a generation alone; a generation killed
(SIGKILL) while it writes leaves a directory that the loader refuses (``StaleKernelsError``) until the
next generation, which cleans up and writes the complete code."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import symgait
from symgait.codegen import generate
from symgait.errors import StaleKernelsError
from symgait.paths import SOURCES, user_dir
from symgait_testing import REPO, TEST_MODELS

MODEL = TEST_MODELS / "double_pendulum3d.yaml"
FILES = SOURCES + ("manifest.json",)

# a generation whose every file write and rename takes a while (so that it can be killed mid-write)
SLOW = r"""
import os, sys, time
import symgait.codegen
g = sys.modules["symgait.codegen.generate"]
write, replace = g.write_source, os.replace
def slow_write(path, data):
    write(path, data)
    time.sleep(0.4)
def slow_replace(a, b):
    replace(a, b)
    time.sleep(0.4)
g.write_source = slow_write
os.replace = slow_replace
g.generate(sys.argv[1], out=sys.argv[2], log=lambda *a: None)
"""


def _files(d: Path) -> dict:
    return {f: (d / f).read_bytes() for f in FILES}


def _cli(*args):
    return subprocess.Popen([sys.executable, "-m", "symgait.cli", "generate", *map(str, args)], cwd=REPO,
                            env=dict(os.environ), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The model generated alone, and its mass matrix at a few states."""
    out = tmp_path_factory.mktemp("reference") / "dp"
    generate(MODEL, out=out, log=lambda *a: None)
    m = symgait.load_model(MODEL)
    q = np.random.default_rng(1).uniform(-1, 1, (3, m.nq))
    return _files(out), q, symgait.kernels(m, generated=out).mass_matrix(q, m.parameters())


def _leftovers(d: Path) -> list:
    return sorted(p.name for p in d.parent.glob(f".{d.name}.tmp-*"))


@pytest.mark.parametrize("where", ["out", "user cache"])
def test_two_generations_at_once_both_succeed(where, tmp_path, reference, monkeypatch):
    monkeypatch.setenv("SYMGAIT_CACHE_DIR", str(tmp_path / "cache"))
    m = symgait.load_model(MODEL)
    out = tmp_path / "gen" / "dp" if where == "out" else user_dir(m)
    args = (MODEL, "--out", out) if where == "out" else (MODEL,)
    procs = [_cli(*args) for _ in range(2)]
    for p in procs:
        stdout, stderr = p.communicate(timeout=300)
        assert p.returncode == 0, stderr
        assert f"[4/4] wrote {out}" in stdout
    files, q, M = reference
    assert _files(out) == files
    assert _leftovers(out) == []
    assert np.array_equal(symgait.kernels(m, generated=out).mass_matrix(q, m.parameters()), M)


def _kill_when(proc, ready, timeout=120.0):
    """SIGKILL ``proc`` as soon as ``ready()`` is true (it must become true before the process ends)."""
    t0 = time.monotonic()
    while not ready():
        assert proc.poll() is None, "the generation ended before it could be killed: " + proc.stderr.read()
        assert time.monotonic() - t0 < timeout
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL


def _slow(model, out):
    return subprocess.Popen([sys.executable, "-c", SLOW, str(model), str(out)], cwd=REPO, env=dict(os.environ),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_killed_first_generation_is_refused_then_regenerated(tmp_path, reference):
    out = tmp_path / "dp"
    proc = _slow(MODEL, out)
    _kill_when(proc, lambda: any((d / "device.py").exists() for d in tmp_path.glob(".dp.tmp-*")))
    assert _leftovers(out) and not out.exists()  # the half-written files are in the temporary directory
    m = symgait.load_model(MODEL)
    with pytest.raises(StaleKernelsError, match="no generated kernels .*; run `symgait generate"):
        symgait.kernels(m, generated=out)
    generate(MODEL, out=out, log=lambda *a: None)
    files, q, M = reference
    assert _files(out) == files and _leftovers(out) == []
    assert np.array_equal(symgait.kernels(m, generated=out).mass_matrix(q, m.parameters()), M)


def test_killed_regeneration_is_refused_then_regenerated(tmp_path, reference):
    """A directory being rewritten for a changed model file: killed after its first file was replaced,
    it is refused for the old and for the new model file alike."""
    path = tmp_path / "dp.yaml"
    old_text = MODEL.read_text()
    path.write_text(old_text)
    out = tmp_path / "dp"
    generate(path, out=out, log=lambda *a: None)
    old_model = symgait.load_model(path)
    symgait.kernels(old_model, generated=out)
    new_text = old_text.replace("m2: 0.4 * mass", "m2: 0.45 * mass")
    assert new_text != old_text
    path.write_text(new_text)
    device_before = (out / "device.py").read_bytes()
    proc = _slow(path, out)
    _kill_when(proc, lambda: (out / "device.py").read_bytes() != device_before)
    assert not (out / "manifest.json").exists()
    new_model = symgait.load_model(path)
    for m in (old_model, new_model):
        with pytest.raises(StaleKernelsError, match="no generated kernels .*; run `symgait generate"):
            symgait.kernels(m, generated=out)
    generate(path, out=out, log=lambda *a: None)
    assert _leftovers(out) == []
    ref = tmp_path / "ref"
    generate(path, out=ref, log=lambda *a: None)
    assert _files(out) == _files(ref)
    q = reference[1]
    M = symgait.kernels(new_model, generated=out).mass_matrix(q, new_model.parameters())
    assert np.array_equal(M, symgait.kernels(new_model, generated=ref).mass_matrix(q, new_model.parameters()))
    assert not np.allclose(M, reference[2])  # the heavier distal link
