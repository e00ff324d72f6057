"""The dataset build run twice at once, killed, damaged and interrupted: real
``python -m training dataset`` processes on a tiny slice of the shared data (2 trials, 60
frames), compared with an uninterrupted build by the SHA-256 of every array of every sequence
file and of the index rows (without timings and cache flags)."""
from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from symgait_testing import default_sigint, subprocess_env

from symgait.datasets.cache import SequenceCache
from symgait.paths import default_data_dir

pytestmark = pytest.mark.xdist_group("gait3d")

REPO = Path(__file__).resolve().parents[2]
TRIALS = ["subject01_walk1", "08_01"]
VOLATILE = ("seconds", "cached", "fit_cached", "fit_seconds")


def _start(out: Path, cache: Path | None = None) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "training", "dataset", "--data", str(default_data_dir()), "--trials", *TRIALS,
           "--max-frames", "60", "--out", str(out)] + (["--cache", str(cache)] if cache else [])
    return subprocess.Popen(cmd, cwd=REPO, env=subprocess_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=default_sigint, start_new_session=True)  # its own process group, as a shell job


def _finish(proc: subprocess.Popen, timeout: float = 600):
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        pytest.fail(f"the build did not end in {timeout} s")
    return proc.returncode, out, err


def _wait_for(proc: subprocess.Popen, ready, what: str, timeout: float = 300) -> None:
    t0 = time.monotonic()
    while not ready():
        if proc.poll() is not None or time.monotonic() - t0 > timeout:
            os.killpg(proc.pid, signal.SIGKILL)
            pytest.fail(f"no {what}: {proc.stderr.read()[-2000:]}")
        time.sleep(0.05)


def _rows(out: Path) -> dict:
    return {r["name"]: r for r in json.loads((out / "index.json").read_text())["rows"]}


def _digest(out: Path) -> dict:
    """{sequence file: SHA-256 of its arrays and metadata}, and the index rows' SHA-256."""
    d = {}
    for f in sorted((out / "sequences").rglob("*.npz")):
        h = hashlib.sha256()
        with np.load(f) as z:
            for k in sorted(z.files):
                h.update(k.encode() + (z[k].tobytes() if k != "meta" else str(z[k]).encode()))
        d[str(f.relative_to(out))] = h.hexdigest()
    rows = list(_rows(out).values())
    for r in rows:
        for k in VOLATILE:
            r.pop(k, None)
        for k in VOLATILE:
            (r.get("kinematic_change") or {}).pop(k, None)
    d["index.json"] = hashlib.sha256(json.dumps(rows, sort_keys=True).encode()).hexdigest()
    return d


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    if not default_data_dir().is_dir():
        pytest.skip(f"shared data not found at {default_data_dir()}")
    out = tmp_path_factory.mktemp("reference") / "ds"
    rc, _, err = _finish(_start(out))
    assert rc == 0, err[-3000:]
    d = _digest(out)
    assert len(d) == 4, d       # two sequences, one residual-reduced motion, the index
    return d


def test_builds_at_once_into_one_out_and_sharing_a_cache(reference, tmp_path):
    """Two builds into the same OUT (its cache) and a third into another OUT with --cache on that
    same cache, all started together: all succeed with the uninterrupted build's results, and each
    trial is processed once (the others wait for its entry and read it)."""
    a, b = tmp_path / "a", tmp_path / "b"
    procs = [_start(a), _start(a), _start(b, cache=a / "cache")]
    results = [_finish(p) for p in procs]
    for rc, _, err in results:
        assert rc == 0 and "Traceback" not in err, err[-3000:]
    assert _digest(a) == reference and _digest(b) == reference
    for name in TRIALS:   # a's index is the last writer's; b's is its own: at most one built each
        assert [_rows(a)[name]["cached"], _rows(b)[name]["cached"]].count(False) <= 1
    cache = a / "cache"
    assert not [p.name for p in cache.rglob("*") if p.name.endswith(".tmp")]


def test_killed_build_with_a_damaged_entry_resumes_to_the_same_result(reference, tmp_path):
    """SIGKILL (the whole process group) once the first trial's cache entry is complete; then that
    entry's sequence is cut to half its bytes by hand. The same command again completes, processes
    the damaged trial again (never loading it) and gives the uninterrupted build's results."""
    out = tmp_path / "ds"
    proc = _start(out)
    cache = out / "cache"
    _wait_for(proc, lambda: cache.is_dir() and list(cache.glob("*.json")), "trial cache entry")
    os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate()
    assert proc.returncode == -signal.SIGKILL and not (out / "index.json").exists()
    entries = sorted(p for p in cache.glob("*.json") if not p.name.startswith(("fit-", "kin-")))
    written = {p: p.stat().st_mtime_ns for p in entries}
    entry = entries[0]
    assert json.loads(entry.read_text())["status"] == "usable"
    npz = cache / f"{entry.stem}.npz"
    data = npz.read_bytes()
    npz.write_bytes(data[: len(data) // 2])
    rc, _, err = _finish(_start(out))
    assert rc == 0 and "Traceback" not in err, err[-3000:]
    assert _digest(out) == reference
    assert npz.read_bytes() != data[: len(data) // 2]             # processed again
    assert entry.stat().st_mtime_ns != written[entry]
    for p in entries[1:]:                                          # the intact entries reused
        assert p.stat().st_mtime_ns == written[p], p
    assert sum(not r["cached"] for r in _rows(out).values()) == len(TRIALS) - len(entries) + 1


def test_ctrl_c_stops_the_build_with_one_line(tmp_path):
    """SIGINT to the build's process group (what Ctrl-C in a terminal sends) while its workers
    process trials: exit status 130, one line naming the cache, no traceback, no process left."""
    if not default_data_dir().is_dir():
        pytest.skip(f"shared data not found at {default_data_dir()}")
    out = tmp_path / "ds"
    proc = _start(out)
    locks = out / "cache" / "locks"
    _wait_for(proc, lambda: locks.is_dir() and list(locks.glob("*.lock")), "worker at work")
    time.sleep(1.0)
    os.killpg(proc.pid, signal.SIGINT)
    rc, _, err = _finish(proc, timeout=120)
    lines = [x for x in err.replace("\r", "\n").splitlines() if x.strip() and not x.startswith("trials:")]
    assert rc == 130, err[-3000:]
    assert "Traceback" not in err and len(lines) == 1, err[-3000:]
    assert "interrupted" in lines[0] and str(out / "cache") in lines[0]
    t0 = time.monotonic()
    with pytest.raises(ProcessLookupError):     # the workers are gone too (reaped within seconds)
        while time.monotonic() - t0 < 30:
            os.killpg(proc.pid, 0)
            time.sleep(0.2)


_CACHE_CODE = """
import sys, time, numpy as np
from pathlib import Path
from symgait.datasets.cache import SequenceCache
from symgait.trials.sequence import Sequence
root, log = sys.argv[1], Path(sys.argv[2])
def build():
    with open(log, "a") as f:
        f.write("built\\n")
    time.sleep(1.0)
    T = 50
    z = np.zeros((T, 2))
    return Sequence(name="x", model="planar", rate=100.0, time=np.arange(T) / 100.0, q=z + 1, qd=z, qdd=z,
                    w=np.zeros((T, 1, 6)), tau=z, contact=np.zeros((T, 1), bool), p=np.ones(3), mass=70.0,
                    height=1.8, source="t", label_kind="derived", coordinates=("a", "b"), contacts=("c",),
                    actuated=("b",))
s = SequenceCache(root).get_or_build("k", build)
print(float(s.q.sum()))
"""


def test_sequence_cache_built_once_by_concurrent_processes(tmp_path):
    env = subprocess_env()
    log = tmp_path / "builds.log"
    procs = [subprocess.Popen([sys.executable, "-c", _CACHE_CODE, str(tmp_path / "c"), str(log)], cwd=REPO, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(3)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), [e for _, e in outs]
    assert [o.strip() for o, _ in outs] == ["100.0"] * 3
    assert log.read_text() == "built\n"           # one process built it, two waited and read it
    path = SequenceCache(tmp_path / "c").path("k")
    path.write_bytes(path.read_bytes()[:100])     # damaged: rebuilt on the next request
    assert SequenceCache(tmp_path / "c").load("k") is None and not path.exists()
