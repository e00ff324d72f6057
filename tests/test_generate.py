"""`symgait generate` reproduces the committed generated/ code byte for byte (each built-in model),
deterministically under different hash seeds."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from symgait_testing import BUILTIN, REPO

FILES = ("device.py", "cpu.py", "cuda.py", "__init__.py", "manifest.json")


@pytest.mark.parametrize("name", BUILTIN)
def test_regenerate_matches_committed(name, tmp_path):
    out = tmp_path / name
    env = dict(os.environ, PYTHONHASHSEED="12345")
    r = subprocess.run([sys.executable, "-m", "symgait.cli", "generate", name, "--out", str(out)],
                       cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    for stage in ("[1/4]", "[2/4]", "[3/4]", "[4/4]"):
        assert stage in r.stdout
    for f in FILES:
        committed = (REPO / "generated" / name / f).read_text()
        assert (out / f).read_text() == committed, f"generated/{name}/{f} differs from a fresh `symgait generate`"
