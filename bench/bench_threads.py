"""Serial vs parallel CPU launch per kernel and batch size: where parallel starts to pay.

    python bench/bench_threads.py [--models planar gait3d] [--batches 1 4 16 64 256 1024]

Times each kernel through :class:`symgait.Kernels` with every batch forced serial
(``<kernel>_serial``) and forced parallel (all of Numba's threads), median of repeats, and prints a
markdown table with the threading layer that ran, the crossover batch (the smallest measured B from
which parallel is faster) and the batch from which the runtime launches in parallel
(``symgait.runtime.threads.PARALLEL_MIN_OPS`` / the kernel's operation count).
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

KERNELS = ("inverse_dynamics", "mass_matrix", "forward_dynamics", "inverse_dynamics_vjp", "forward_dynamics_vjp",
           "forward_dynamics_derivatives")


def median_time(fn, budget=0.2, repeat=7):
    fn()
    ts = []
    for _ in range(repeat):
        t, n = time.perf_counter(), 0
        while True:
            fn()
            n += 1
            if time.perf_counter() - t > budget / repeat:
                break
        ts.append((time.perf_counter() - t) / n)
    return statistics.median(ts)


def call(k, name, s):
    m = getattr(k, name)
    if name == "mass_matrix":
        return lambda: m(s["q"], s["p"])
    if name.startswith("inverse"):
        extra = [s["mu"]] if name.endswith("vjp") else []
        return lambda: m(s["q"], s["qd"], s["qdd"], s["w"], s["p"], *extra)
    if name == "forward_dynamics_derivatives":
        return lambda: m(s["q"], s["qd"], s["tau"], s["w"], s["p"], parameters=False)
    extra = [s["mu"]] if name.endswith("vjp") else []
    return lambda: m(s["q"], s["qd"], s["tau"], s["w"], s["p"], *extra)


def run(models, batches):
    import numba

    import symgait
    from symgait.runtime import threads
    rows, default_limit = [], threads.PARALLEL_MIN_OPS
    for name in models:
        k = symgait.kernels(name)
        mdl = k.model
        rng = np.random.default_rng(0)
        big = max(batches)
        n, nc = mdl.nq, mdl.n_contacts
        full = dict(q=rng.uniform(-.5, .5, (big, n)), qd=rng.uniform(-1, 1, (big, n)), qdd=rng.uniform(-2, 2, (big, n)),
                    tau=rng.uniform(-5, 5, (big, n)), w=rng.normal(0, 50, (big, nc, 6)), mu=rng.normal(size=(big, n)),
                    p=mdl.parameters())
        for kern in KERNELS:
            ops = k.manifest["operations"][kern]
            times = {}
            for B in batches:
                s = {a: (v[:B] if a != "p" else v) for a, v in full.items()}
                f = call(k, kern, s)
                for mode, limit in (("serial", 1 << 62), ("parallel", 0)):
                    threads.PARALLEL_MIN_OPS = limit
                    times[(B, mode)] = median_time(f)
            cross = next((B for B in batches if times[(B, "parallel")] < times[(B, "serial")]), None)
            rows.append((name, kern, ops, times, cross))
    threads.PARALLEL_MIN_OPS = default_limit
    print(f"\nserial vs parallel launch — {time.strftime('%Y-%m-%d')}, {platform.machine()}, {os.cpu_count()} cores, "
          f"numba {numba.__version__}, {numba.get_num_threads()} threads, threading layer {threads.layer()}\n")
    print("| model | kernel | ops | " + " | ".join(f"B={B} serial / parallel (µs)" for B in batches)
          + " | parallel faster from B | runtime parallel from B |")
    print("|---|---|---|" + "---|" * len(batches) + "---|---|")
    for name, kern, ops, times, cross in rows:
        cells = " | ".join(f"{times[(B, 'serial')] * 1e6:.0f} / {times[(B, 'parallel')] * 1e6:.0f}" for B in batches)
        print(f"| {name} | {kern} | {ops} | {cells} | {cross or '-'} | {-(-default_limit // ops)} |")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", nargs="+", default=["planar", "gait3d"])
    ap.add_argument("--batches", nargs="+", type=int, default=[1, 4, 16, 64, 256, 1024])
    a = ap.parse_args()
    run(a.models, a.batches)
