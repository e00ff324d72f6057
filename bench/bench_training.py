"""Benchmark of training steps per second for each variant (not a test).

    python bench/bench_training.py [--model gait3d] [--batch 16] [--steps 20] [--warmup 3]
                                   [--variants baseline,fnet,finet,cfinet,pcnet] [--set key=value ...]

One process, torch and Numba threads 1 (``train.num_threads``), on the built-in synthetic gait set
of the model (2 labelled + 2 motion-only sequences of 4 s at 100 Hz), ``real.yaml``'s settings
otherwise (window 32, forward horizon 2, float64 layers, adjoint gradients). Each variant runs
:func:`training.train` twice: ``--warmup`` steps (kernels compiled or loaded from Numba's cache),
then ``--steps`` steps whose loop rate (``steps_per_s`` of the log: batch draw, network, loss
terms, backward, clip, AdamW) is reported beside the rate including the set-up (windows, mirroring,
normaliser). Prints a markdown table and the load average before and after (the machine may be
shared).
"""
from __future__ import annotations

import argparse
import datetime
import os
import platform
import time

import torch


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="gait3d")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--variants", default="baseline,fnet,finet,cfinet,pcnet")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    a = ap.parse_args(argv)
    import numba
    import symgait
    from symgait.datasets.synthetic import synthetic_gait
    from training.config import load_config
    from training.data import without_labels
    from training.trainer import train
    torch.set_num_threads(1)
    numba.set_num_threads(1)
    m = symgait.load_model(a.model)
    seqs = synthetic_gait(m, n_sequences=4, seconds=4.0, seed=0)
    data = seqs[:2] + [without_labels(s) for s in seqs[2:]]
    load0 = os.getloadavg()
    rows = []
    for v in a.variants.split(","):
        cfg = load_config("real", [f"model={a.model}", f"variant={v}", f"train.batch_size={a.batch}",
                                   "train.num_threads=1", f"train.steps={a.warmup}",
                                   f"train.log_every={a.warmup}", *a.set])
        train(cfg, data, log=None)                       # warm-up: kernels loaded, first steps
        cfg.train.steps, cfg.train.log_every = a.steps, a.steps
        t0 = time.perf_counter()
        b = train(cfg, data, log=None)
        dt = time.perf_counter() - t0
        rec = b.history[-1]
        rows.append((v, a.steps / dt, rec["steps_per_s"]))
        print(f"{v}: {a.steps} steps in {dt:.1f} s", flush=True)
    load1 = os.getloadavg()
    print(f"\n{datetime.date.today()}, {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} logical CPUs, torch {torch.__version__}, numba {numba.__version__}; "
          f"load average before {load0[0]:.1f}, after {load1[0]:.1f}\n")
    print(f"| variant | steps/s ({a.model}, batch {a.batch}, 1 thread; incl. set-up) | steps/s (loop only) |")
    print("|---|---|---|")
    for v, s_all, s_loop in rows:
        print(f"| {v} | {s_all:.2f} | {s_loop:.2f} |")


if __name__ == "__main__":
    main()
