"""Core benchmark: derivation, compile and per-sample kernel times beside Pinocchio.

    python bench/bench_core.py [--models planar gait3d fullbody] [--batch 4096] [--skip-compile]
    python bench/bench_core.py --models tests/models/mjcf_humanoid.xml --skip-compile   # a free-flyer root

A model file other than a built-in (e.g. an MJCF humanoid with a quaternion free-flyer root, which
Pinocchio reads from the exported URDF's ``floating`` joint as its JointModelFreeFlyer) is generated
into the user cache first.

Prints a markdown table. Pinocchio runs through its Python bindings, one call per sample
(a call costs roughly a microsecond of binding overhead, which is included and reported:
``pin call overhead`` times a trivial binding call). symgait runs batched; per-sample time =
batch time / batch size, median of repeats. "1 thread" sets Numba to one thread.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bench_compile import measure_fresh

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def median_time(fn, repeat=7, number=1):
    ts = []
    for _ in range(repeat):
        t = time.perf_counter()
        for _ in range(number):
            fn()
        ts.append((time.perf_counter() - t) / number)
    return statistics.median(ts)


def compile_times(name: str) -> dict:
    """Fresh generation into a temp dir, then first-call compile time per kernel, then cached import."""
    code = r'''
import json, sys, time, numpy as np
t0 = time.perf_counter()
import symgait
from symgait.codegen import generate
out = sys.argv[2]
m = symgait.load_model(sys.argv[1])
res = {}
if sys.argv[3] == "generate":
    t = time.perf_counter(); generate(sys.argv[1], out=out, log=lambda *a: None); res["derive+write"] = time.perf_counter() - t
k = symgait.kernels(m, generated=out)
p = m.parameters(); n = m.nq; nc = m.n_contacts
rng = np.random.default_rng(0)
q, qd, x = (rng.normal(size=(2, n)) * 0.3 for _ in range(3)); w = rng.normal(size=(2, nc, 6))
t = time.perf_counter()
k.inverse_dynamics(q, qd, x, w, p); res["inverse_dynamics"] = time.perf_counter() - t
t = time.perf_counter()
k.forward_dynamics(q, qd, x, w, p); res["forward_dynamics"] = time.perf_counter() - t
t = time.perf_counter()
k.forward_dynamics_derivatives(q, qd, x, w, p, parameters=False); res["forward_dynamics_derivatives"] = time.perf_counter() - t
res["process"] = time.perf_counter() - t0
print(json.dumps(res))
'''
    with tempfile.TemporaryDirectory() as d:
        r1 = subprocess.run([sys.executable, "-c", code, name, d, "generate"], capture_output=True, text=True, cwd=REPO)
        first = json.loads(r1.stdout.strip().splitlines()[-1])
        r2 = subprocess.run([sys.executable, "-c", code, name, d, "cached"], capture_output=True, text=True, cwd=REPO)
        cached = json.loads(r2.stdout.strip().splitlines()[-1])
    return {"first": first, "cached": cached}


def random_states(m, k, batch):
    """Seeded random (q, q̇, q̈, w) of ``batch`` samples (unit quaternions) and the τ of inverse dynamics
    with them."""
    n, nc = m.nv, m.n_contacts
    rng = np.random.default_rng(0)
    q = k.space.normalize(rng.uniform(-0.5, 0.5, (batch, m.nq)))
    qd = rng.uniform(-1, 1, (batch, n))
    qdd = rng.uniform(-2, 2, (batch, n))
    w = rng.normal(0, 50, (batch, nc, 6))
    return q, qd, qdd, w, k.inverse_dynamics(q, qd, qdd, w, m.parameters())


def pinocchio_peer(pin, m, p, batch):
    """Pinocchio on the model's exported URDF (same dynamics; checked to 1e-9 in
    tests/test_pinocchio.py): (model, data, zero external forces, ``loop``), where ``loop(f)`` is a
    callable that runs ``f(b)`` for the first min(batch, 512) samples (``loop.samples``). Pinocchio
    may order the coordinates differently; random states cost the same either way."""
    pm = pin.buildModelFromXML(m.to_urdf(p))
    pm.gravity.linear = np.array(m.gravity)
    data = pm.createData()
    fext = pin.StdVec_Force()
    for _ in range(pm.njoints):
        fext.append(pin.Force.Zero())
    ns = min(batch, 512)

    def loop(f):
        def g():
            for b in range(ns):
                f(b)
        return g
    loop.samples = ns
    return pm, data, fext, loop


def peer_configurations(pin, pm, q):
    """Pinocchio's configurations for the timing: ``q`` itself for one-coordinate joints, else random
    ones of Pinocchio's layout with unit quaternions (its joint order may differ from ours; random
    states cost the same)."""
    if pm.nq == pm.nv:
        return q
    rng = np.random.default_rng(1)
    return np.stack([pin.normalize(pm, x) for x in rng.uniform(-0.5, 0.5, (min(len(q), 512), pm.nq))])


def load(name):
    """(Model, Kernels) of a built-in model, or of a model file (generated into the user cache first)."""
    import symgait
    from symgait.codegen import generate
    from symgait.paths import BUILTIN_MODELS
    m = symgait.load_model(name)
    if name not in BUILTIN_MODELS:
        generate(m, log=lambda *a: None)
    return m, symgait.kernels(m)


def run(models, batch, skip_compile):
    import numba
    import pinocchio as pin

    from symgait.runtime import threads
    rows = []
    info = []
    for name in models:
        m, k = load(name)
        name = m.name
        man = k.manifest
        p = m.parameters()
        n = m.nq if m.nq == m.nv else f"{m.nq} (nv {m.nv})"
        q, qd, qdd, w, tau = random_states(m, k, batch)
        k.forward_dynamics(q, qd, tau, w, p)
        k.forward_dynamics_derivatives(q, qd, tau, w, p, parameters=False)
        pm, data, fext, pin_loop = pinocchio_peer(pin, m, p, batch)
        q = peer_configurations(pin, pm, q) if pm.nq != pm.nv else q
        ns = pin_loop.samples
        t_overhead = median_time(pin_loop(lambda b: pin.neutral(pm))) / ns
        t_rnea = median_time(pin_loop(lambda b: pin.rnea(pm, data, q[b], qd[b], qdd[b], fext))) / ns
        t_aba = median_time(pin_loop(lambda b: pin.aba(pm, data, q[b], qd[b], tau[b], fext))) / ns
        t_abad = median_time(pin_loop(lambda b: pin.computeABADerivatives(pm, data, q[b], qd[b], tau[b], fext)),
                             repeat=5) / ns
        res = {}
        q = random_states(m, k, batch)[0]  # ours again (Pinocchio's above, for its loop)
        for nt in (1, numba.config.NUMBA_NUM_THREADS):
            numba.set_num_threads(nt)
            res[nt] = (
                median_time(lambda: k.inverse_dynamics(q, qd, qdd, w, p)) / batch,
                median_time(lambda: k.forward_dynamics(q, qd, tau, w, p)) / batch,
                median_time(lambda: k.forward_dynamics_derivatives(q, qd, tau, w, p, parameters=False),
                            repeat=5) / batch,
            )
        numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
        allc = numba.config.NUMBA_NUM_THREADS
        for label, ours1, oursN, peer in (("ID vs rnea", res[1][0], res[allc][0], t_rnea),
                                          ("FD vs aba", res[1][1], res[allc][1], t_aba),
                                          ("FD derivatives (q, qd, tau, w) vs computeABADerivatives", res[1][2], res[allc][2], t_abad)):
            rows.append((name, n, label, ours1 * 1e6, oursN * 1e6, peer * 1e6, ours1 / peer))
        ops = man["operations"]
        entry = {"model": name, "nq": n, "ops_ID": ops["inverse_dynamics"], "ops_M": ops["mass_matrix"],
                 "ops_dID": ops["inverse_dynamics_derivatives"], "ops_FDderiv": ops["forward_dynamics_derivatives"],
                 "pin_overhead_us": t_overhead * 1e6}
        if not skip_compile and name in ("planar", "gait3d", "fullbody"):
            entry.update(compile_times(name))
            entry["device"] = measure_fresh(Path(k.device_module.__file__).parent)
        info.append(entry)
    print(f"\nsymgait core benchmark — {time.strftime('%Y-%m-%d')}, {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores, Python {platform.python_version()}, numba {numba.__version__}, "
          f"pinocchio {pin.__version__}, batch {batch}, threading layer {threads.layer()}\n")
    print("| model | nq | kernel vs Pinocchio | symgait 1 thread (µs/sample) | symgait all cores (µs/sample) "
          "| Pinocchio (µs/call) | ratio (1 thread / Pinocchio) |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r[0]} | {r[1]} | {r[2]} | {r[3]:.2f} | {r[4]:.2f} | {r[5]:.2f} | {r[6]:.2f} |")
    print("\n| model | ops ID | ops M | ops dID | ops FD-deriv (total) | derive+write (s) | first compile ID / FD / "
          "FD-deriv (s) | cached process (s) | Pinocchio binding overhead (µs) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for e in info:
        f, c = e.get("first", {}), e.get("cached", {})
        fc = (f"{f.get('inverse_dynamics', float('nan')):.1f} / {f.get('forward_dynamics', float('nan')):.1f} / "
              f"{f.get('forward_dynamics_derivatives', float('nan')):.1f}") if f else "skipped"
        print(f"| {e['model']} | {e['ops_ID']} | {e['ops_M']} | {e['ops_dID']} | {e['ops_FDderiv']} | "
              f"{f.get('derive+write', float('nan')):.1f} | {fc} | {c.get('process', float('nan')):.2f} | "
              f"{e['pin_overhead_us']:.2f} |")
    for e in info:
        if "device" in e:
            print(f"\nfirst compile of the device functions, {e['model']}, one thread, seconds (incremental, "
                  f"manifest order): " + ", ".join(f"{k} {v}" for k, v in e["device"].items()))


def paired(ours, peer, n_ours, n_peer, repeat=9):
    """Median time per sample of ``ours`` (``n_ours`` samples a call) and of ``peer`` (``n_peer``) and
    the median of their ratios, each repeat timing the two back to back (so that a shared machine's
    load changes both alike)."""
    to, tp, r = [], [], []
    for _ in range(repeat):
        a = median_time(ours, repeat=1) / n_ours
        b = median_time(peer, repeat=1) / n_peer
        to.append(a)
        tp.append(b)
        r.append(a / b)
    return statistics.median(to), statistics.median(tp), statistics.median(r)


def breakdown(models, batch, repeat=9):
    """Where ∇FD's time goes, one thread, per sample, beside Pinocchio's corresponding routines:
    ID vs ``rnea``; FD vs ``aba``; ∂ID/∂(q, q̇, q̈, w) (``inverse_dynamics_derivatives`` without
    ∂/∂p: ID, M and the state derivatives) vs ``computeRNEADerivatives``; the rest of ∇FD (LTDL
    factor of M, the 3n + 6n_c solves, copies) vs ``computeABADerivatives`` minus
    ``computeRNEADerivatives``; ∇FD vs ``computeABADerivatives``. Each pair is timed back to back,
    ``repeat`` times; the ratio is the median of the pairs' ratios."""
    import numba
    import pinocchio as pin

    numba.set_num_threads(1)
    print(f"\n∇FD breakdown — {time.strftime('%Y-%m-%d')}, one thread, batch {batch}, µs per sample, "
          f"median of {repeat} back-to-back pairs; load average before {os.getloadavg()[0]:.1f}\n")
    print("| model | part | symgait (µs) | Pinocchio routine | Pinocchio (µs) | ratio (median of pairs) |")
    print("|---|---|---|---|---|---|")
    for name in models:
        m, k = load(name)
        name = m.name
        p = m.parameters()
        q, qd, qdd, w, tau = random_states(m, k, batch)
        k.forward_dynamics_derivatives(q, qd, tau, w, p, parameters=False)
        k.inverse_dynamics_derivatives(q, qd, qdd, w, p, parameters=False)
        pm, data, fext, loop = pinocchio_peer(pin, m, p, batch)
        qp = peer_configurations(pin, pm, q)
        ns = loop.samples
        pairs = {
            "ID": (lambda: k.inverse_dynamics(q, qd, qdd, w, p), "rnea",
                   loop(lambda b: pin.rnea(pm, data, qp[b], qd[b], qdd[b], fext))),
            "FD": (lambda: k.forward_dynamics(q, qd, tau, w, p), "aba",
                   loop(lambda b: pin.aba(pm, data, qp[b], qd[b], tau[b], fext))),
            "∂ID/∂(q, q̇, q̈, w) (with ID, M)": (
                lambda: k.inverse_dynamics_derivatives(q, qd, qdd, w, p, parameters=False), "computeRNEADerivatives",
                loop(lambda b: pin.computeRNEADerivatives(pm, data, qp[b], qd[b], qdd[b], fext))),
            "∇FD": (lambda: k.forward_dynamics_derivatives(q, qd, tau, w, p, parameters=False),
                    "computeABADerivatives",
                    loop(lambda b: pin.computeABADerivatives(pm, data, qp[b], qd[b], tau[b], fext))),
        }
        res = {}
        for part, (ours, routine, peer) in pairs.items():
            to, tp, r = paired(ours, peer, batch, ns, repeat)
            res[part] = (to, tp)
            print(f"| {name} | {part} | {to * 1e6:.2f} | {routine} | {tp * 1e6:.2f} | {r:.2f} |")
        d, f = res["∂ID/∂(q, q̇, q̈, w) (with ID, M)"], res["∇FD"]
        print(f"| {name} | rest of ∇FD: LTDL factor, q̈ solve, 3n + 6n_c solves, copies | {(f[0] - d[0]) * 1e6:.2f} "
              f"| ABA minus RNEA derivatives | {(f[1] - d[1]) * 1e6:.2f} | {(f[0] - d[0]) / (f[1] - d[1]):.2f} |")
        sys.stdout.flush()


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", nargs="+", default=["planar", "gait3d", "fullbody"])
    ap.add_argument("--batch", type=int, default=4096)
    ap.add_argument("--skip-compile", action="store_true", help="skip the fresh-compile measurement")
    ap.add_argument("--breakdown", action="store_true", help="only ∇FD's parts beside Pinocchio's (one thread)")
    ap.add_argument("--repeat", type=int, default=9, help="back-to-back pairs per figure (--breakdown)")
    a = ap.parse_args()
    if a.breakdown:
        breakdown(a.models, a.batch, a.repeat)
    else:
        run(a.models, a.batch, a.skip_compile)
