"""First-compile time of each generated device function (CPU, one thread, no cache).

    NUMBA_NUM_THREADS=1 python bench/bench_compile.py GENERATED_DIR [--kernels NAME ...] [--backend cpu|numba]
    python bench/bench_compile.py GENERATED_DIR --compare      # both backends, each in a fresh process

Compiles the device functions of ``GENERATED_DIR/device.py`` (a copy in a temporary folder, with
Numba's and symgait's caches in others, so nothing is reused) and calls each kernel once on one
sample, in the order given (default: the manifest's). Backend ``cpu`` (what the runtime uses): all
straight-line functions compiled at once by LLVM (reported as ``native``), then per kernel the
Numba code around them; backend ``numba``: every function by Numba. Each time is incremental: a
kernel's callees compiled for an earlier kernel are not compiled again. Prints one JSON object:
{kernel: seconds, ..., "total": s}. Launchers are left out: their cost does not depend on the model.
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


def measure(gdir: Path, names=None, backend: str = "cpu") -> dict:
    from symgait.runtime.jit import compile_device
    man = json.loads((gdir / "manifest.json").read_text())
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["SYMGAIT_CACHE_DIR"] = str(Path(tmp) / "cache")  # no native object from an earlier run
        shutil.copy(gdir / "device.py", Path(tmp) / "bench_device.py")
        spec = importlib.util.spec_from_file_location("bench_device", Path(tmp) / "bench_device.py")
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        t = time.perf_counter()
        dev = compile_device(mod, backend)
        out, total = {}, 0.0
        if backend == "cpu":
            out["native"] = total = round(time.perf_counter() - t, 2)
        rng = np.random.default_rng(0)
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


def measure_fresh(gdir: Path, names=None, backend: str = "cpu") -> dict:
    """:func:`measure` in a new process with one Numba thread and empty caches."""
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_NUM_THREADS="1", NUMBA_CACHE_DIR=cache)
        cmd = [sys.executable, __file__, str(gdir), "--backend", backend] + (["--kernels", *names] if names else [])
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
    ap.add_argument("--backend", choices=["cpu", "numba"], default="cpu")
    ap.add_argument("--compare", action="store_true", help="both backends in fresh processes; a table with the ratio")
    a = ap.parse_args()
    if not a.compare:
        print(json.dumps(measure(a.generated, a.kernels, a.backend)))
        sys.exit(0)
    res = {b: measure_fresh(a.generated, a.kernels, b) for b in ("cpu", "numba")}
    print(f"first compile, {a.generated.name}, one thread (s)")
    print(f"{'kernel':44s} {'LLVM + Numba':>13s} {'Numba only':>11s} {'ratio':>7s}")
    for k in ["native", *(x for x in res["numba"] if x != "total"), "total"]:
        c, n = res["cpu"].get(k), res["numba"].get(k)
        ratio = f"{n / c:7.1f}" if c and n else ""
        print(f"{k:44s} {c if c is not None else '':>13} {n if n is not None else '':>11} {ratio}")
    print(json.dumps(res))
