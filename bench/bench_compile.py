"""First-compile time of each generated device function (CPU, Numba, one thread, no cache).

    NUMBA_NUM_THREADS=1 python bench/bench_compile.py GENERATED_DIR [--kernels NAME ...]

Compiles the device functions of ``GENERATED_DIR/device.py`` (a copy in a temporary folder, with
Numba's cache in another, so nothing is reused) and calls each kernel once on one sample, in the
order given (default: the manifest's). Each time is incremental: a kernel's callees compiled for an
earlier kernel are not compiled again. Prints one JSON object: {kernel: seconds, ..., "total": s}.
Launchers are left out: their cost does not depend on the model.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def measure(gdir: Path, names=None) -> dict:
    from symgait.runtime.jit import compile_device
    man = json.loads((gdir / "manifest.json").read_text())
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copy(gdir / "device.py", Path(tmp) / "bench_device.py")
        spec = importlib.util.spec_from_file_location("bench_device", Path(tmp) / "bench_device.py")
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        dev = compile_device(mod, "cpu")
        rng = np.random.default_rng(0)
        out, total = {}, 0.0
        for name in names or list(man["kernels"]):
            sig = man["kernels"][name]
            args = [rng.uniform(0.5, 1.0, size) for _, size in sig["inputs"]]
            args += [np.empty(size) for _, size in sig["outputs"]] + [np.empty(sig["work"])]
            t = time.perf_counter()
            dev[name](*args)
            out[name] = round(time.perf_counter() - t, 2)
            total += out[name]
        out["total"] = round(total, 2)
    return out


def measure_fresh(gdir: Path, names=None) -> dict:
    """:func:`measure` in a new process with one Numba thread and an empty cache."""
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_NUM_THREADS="1", NUMBA_CACHE_DIR=cache)
        cmd = [sys.executable, __file__, str(gdir)] + (["--kernels", *names] if names else [])
        r = subprocess_run(cmd, env)
    return json.loads(r.strip().splitlines()[-1])


def subprocess_run(cmd, env) -> str:
    import subprocess
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
    return r.stdout


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("generated", type=Path, help="a generated/<model> folder")
    ap.add_argument("--kernels", nargs="+", help="kernels to compile, in this order (default: all)")
    a = ap.parse_args()
    print(json.dumps(measure(a.generated, a.kernels)))
