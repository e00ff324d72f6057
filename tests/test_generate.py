"""`symgait generate` reproduces the committed generated/ code byte for byte (each built-in model),
deterministically under different hash seeds."""
from __future__ import annotations

import difflib
import os
import subprocess
import sys

import pytest

from symgait_testing import BUILTIN, REPO

FILES = ("device.py", "model_data.py", "__init__.py", "manifest.json")


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
        fresh = (out / f).read_text()
        if fresh != committed:
            diff = difflib.unified_diff(committed.splitlines(keepends=True), fresh.splitlines(keepends=True),
                                        f"generated/{name}/{f} (committed)", f"{f} (fresh)", n=2)
            text = "".join(list(diff)[:200])
            pytest.fail(f"generated/{name}/{f} differs from a fresh `symgait generate` (regenerate with "
                        f"`symgait generate --all`); first lines of the diff:\n{text}")


def test_generate_all_refuses_a_model_too():
    r = subprocess.run([sys.executable, "-m", "symgait.cli", "generate", "planar", "--all"], cwd=REPO,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode != 0 and "not both" in r.stderr
