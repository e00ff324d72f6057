"""Batched runs on every core beside Pinocchio's own parallel batch routines.

    python bench/bench_parallel.py [--models gait3d fullbody] [--batches 256 1024 4096] [--threads N]

Pinocchio's parallel API (``pin.rneaInParallel``, ``pin.abaInParallel`` with a ``pin.ModelPool``;
OpenMP over the batch) takes whole batches as (nq, B) arrays, so no per-call binding overhead
is in its figure. symgait runs the same batch through its batched kernels with Numba's thread pool
of the same size (``symgait.runtime.threads``). Pinocchio has no parallel routine for the
forward-dynamics derivatives: that row compares against ``computeABADerivatives`` called per sample
(one thread, binding overhead included, as in bench/bench_core.py). Prints µs per sample (median
of 9 batches) and the ratio ours / Pinocchio's.
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

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench_core import load, peer_configurations, pinocchio_peer, random_states  # noqa: E402


def median_seconds(fn, repeat: int = 9) -> float:
    fn()                                  # first call: compile or load, not timed
    ts = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return statistics.median(ts)


def run(models, batches, threads: int) -> None:
    import numba
    import pinocchio as pin
    from symgait.runtime import threads as thread_layer
    numba.set_num_threads(threads)
    print(f"# batched on {threads} threads beside Pinocchio's parallel routines\n\n{platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores, numba {numba.__version__} ({thread_layer.layer()}), pinocchio {pin.__version__}\n")
    print("| model | B | ID ours / rneaInParallel (µs) | ratio | FD ours / abaInParallel (µs) | ratio | "
          "∇FD ours ({t} threads) / computeABADerivatives (1 thread) (µs) | ratio |".format(t=threads))
    print("|---|---|---|---|---|---|---|---|")
    for name in models:
        m, k = load(name)
        p = m.parameters()
        pm, data, fext, loop = pinocchio_peer(pin, m, p, max(batches))
        pool = pin.ModelPool(pm, threads)
        for B in batches:
            q, qd, qdd, w, tau = random_states(m, k, B)
            w0 = np.zeros_like(w)
            tau0 = k.inverse_dynamics(q, qd, qdd, w0, p)
            pq = peer_configurations(pin, pm, q)
            if len(pq) < B:                       # Pinocchio's layout differs: tile its random states
                pq = np.resize(pq, (B, pm.nq))
            Q, V, A, T = (np.asfortranarray(x.T) for x in (pq, qd, qdd, tau0))
            ours_id = median_seconds(lambda: k.inverse_dynamics(q, qd, qdd, w0, p)) / B
            ours_fd = median_seconds(lambda: k.forward_dynamics(q, qd, tau0, w0, p)) / B
            ours_dfd = median_seconds(lambda: k.forward_dynamics_derivatives(q, qd, tau0, w0, p, parameters=False)) / B
            pin_id = median_seconds(lambda: pin.rneaInParallel(threads, pool, Q, V, A)) / B
            pin_fd = median_seconds(lambda: pin.abaInParallel(threads, pool, Q, V, T)) / B
            ns = loop.samples
            pin_dfd = median_seconds(loop(lambda b: pin.computeABADerivatives(pm, data, pq[b % B], qd[b % B], tau0[b % B], fext)),
                                     repeat=5) / ns
            print(f"| {name} | {B} | {1e6 * ours_id:.2f} / {1e6 * pin_id:.2f} | {ours_id / pin_id:.2f} | "
                  f"{1e6 * ours_fd:.2f} / {1e6 * pin_fd:.2f} | {ours_fd / pin_fd:.2f} | "
                  f"{1e6 * ours_dfd:.2f} / {1e6 * pin_dfd:.2f} | {ours_dfd / pin_dfd:.2f} |", flush=True)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", nargs="+", default=["gait3d", "fullbody"])
    ap.add_argument("--batches", nargs="+", type=int, default=[256, 1024, 4096])
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    a = ap.parse_args(argv)
    run(a.models, a.batches, a.threads)
    return 0


if __name__ == "__main__":
    sys.exit(main())
