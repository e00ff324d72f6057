"""GPU check and benchmark of backend="cuda": agreement with the CPU backend, compile time,
forward-dynamics-derivative throughput, registers / spills / occupancy, launch configuration.

    python bench/gpu.py                       # on a machine with an NVIDIA GPU (all sections)
    python bench/gpu.py --quick               # fewer batch sizes and repeats
    python bench/gpu.py --static              # no GPU needed: registers and spills from the CUDA toolkit
    python bench/gpu.py --static --chunks 1000 2000 4000 --models gait3d

GPU mode prints markdown tables (paste them into docs/benchmarks.md with the date, GPU and driver
the script prints) and, with --json FILE, the raw figures:

1. CUDA vs CPU: max relative error of every kernel (B = 64), float64 and float32;
2. compile time: first call of the CUDA kernels in a fresh process with an empty Numba cache, and
   again with the cache warm;
3. registers per thread, local memory per thread (spills and stack), max threads per block and
   theoretical occupancy of the large kernels;
4. forward_dynamics_derivatives evaluations per second for gait3d and fullbody at several B:
   the kernel alone (preallocated device arrays, CUDA events) and the full call on PyTorch CUDA
   tensors (input checks, allocation, one host sync), beside the CPU backend on this machine;
5. launch configuration: threads per block x work layout x register cap at the largest B.

--static compiles the generated kernels to PTX with Numba and NVVM and assembles them with ptxas
(-v) for --cc (default 9.0, H100); it needs the CUDA toolkit (libnvvm, ptxas) but no GPU or driver.
Numba's device-function compiler asks the current device for its compute capability, so static
mode answers for it (a stand-in, in this script only). --chunks regenerates the model into a
temporary directory with another statements-per-function limit (symgait.codegen.device_source.CHUNK).
--layers (alone, or with --sections) runs the physics layers' section on backend="cuda":
6. ``torch.autograd.gradcheck`` of ForwardDynamics (RK4 sensitivity, semi-implicit Euler adjoint)
   and InverseDynamics (residual, joint torques) on CUDA tensors, float64, planar, tiny batches;
7. ForwardDynamics forward+backward time on gait3d, RK4, T = 50 (``--layer-frames``), B in {64,
   1024, 16384} (``--layer-batches``), both gradient modes, beside the same dynamics in plain
   PyTorch with autograd (``TorchDynamics`` of bench/bench_layers.py) on the same GPU, with peak GPU
   memory; a method that runs out of GPU memory is reported as such.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

BIG = ["forward_dynamics_derivatives", "inverse_dynamics_derivatives", "forward_dynamics_vjp",
       "inverse_dynamics_vjp", "forward_dynamics", "mass_matrix", "point_jacobians"]
METHODS = {  # public method -> argument names
    "mass_matrix": "q p", "inverse_dynamics": "q qd qdd w p", "root_residual": "q qd qdd w p",
    "forward_dynamics": "q qd tau w p", "inverse_dynamics_derivatives": "q qd qdd w p",
    "forward_dynamics_derivatives": "q qd tau w p", "inverse_dynamics_vjp": "q qd qdd w p mu",
    "root_residual_vjp": "q qd qdd w p nu", "forward_dynamics_vjp": "q qd tau w p g", "points": "q p",
    "point_jacobians": "q p", "contact_points": "q p", "contact_jacobians": "q p",
}
NO_GPU = ("bench/gpu.py needs an NVIDIA GPU with a working CUDA driver, and none is usable here "
          "(numba.cuda.is_available() is False). Without a GPU, `python bench/gpu.py --static` reports "
          "registers and spills from the CUDA toolkit; the correctness tests run in Numba's simulator: "
          "NUMBA_ENABLE_CUDASIM=1 python -m pytest tests/cuda -n 0")


def table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


def state(model, batch, seed=0):
    rng = np.random.default_rng(seed)
    n, nc = model.nq, model.n_contacts
    return dict(q=rng.uniform(-0.5, 0.5, (batch, n)), qd=rng.uniform(-1.5, 1.5, (batch, n)),
                qdd=rng.uniform(-3, 3, (batch, n)), tau=rng.uniform(-20, 20, (batch, n)),
                w=rng.normal(0, 40, (batch, nc, 6)), p=model.parameters(), mu=rng.normal(size=(batch, n)),
                nu=rng.normal(size=(batch, 6)), g=rng.normal(size=(batch, n)))


def occupancy(regs: int, threads: int, regs_per_sm=65536, threads_per_sm=2048, blocks_per_sm=32,
              local_alloc=256) -> float:
    """Theoretical occupancy (active warps / max warps per SM) from the register count alone
    (no shared memory here). Registers are allocated per warp in units of ``local_alloc``."""
    warps = -(-threads // 32)
    per_warp = -(-max(regs, 1) * 32 // local_alloc) * local_alloc
    by_regs = (regs_per_sm // per_warp) // warps
    blocks = min(by_regs, threads_per_sm // threads, blocks_per_sm)
    return blocks * warps / (threads_per_sm // 32)


# --- static mode (no GPU) -----------------------------------------------------------------------
PTXAS_ENTRY = re.compile(r"Compiling entry function '([^']+)'")
PTXAS_PROPS = re.compile(r"(\d+) bytes stack frame, (\d+) bytes spill stores, (\d+) bytes spill loads")
PTXAS_REGS = re.compile(r"Used (\d+) registers")


PTXAS_FUNC = re.compile(r"Function properties for (\S+)")
PTXAS_CUMUL = re.compile(r"(\d+) bytes cumulative stack size")


def parse_ptxas(text: str) -> dict:
    """From ``ptxas -v`` output: the kernel's registers and cumulative stack (which include the
    out-of-line device functions it calls), its own stack frame and spills, and the spills summed over
    every function (the kernel and the device functions kept out of line, see symgait/runtime/jit.py)."""
    lines = text.splitlines()
    res = {"functions": 0, "spill_stores_all": 0, "spill_loads_all": 0}
    entry = None
    for i, line in enumerate(lines):
        m = PTXAS_ENTRY.search(line)
        if m:
            entry = m.group(1)
            continue
        mp = PTXAS_PROPS.search(line)
        mf = PTXAS_FUNC.search(lines[i - 1]) if i > 0 else None
        if mp and mf:
            res["functions"] += 0 if mf.group(1).startswith("__internal") else 1  # libdevice helpers aside
            res["spill_stores_all"] += int(mp.group(2))
            res["spill_loads_all"] += int(mp.group(3))
            if mf.group(1) == entry:
                res.update(stack=int(mp.group(1)), spill_stores=int(mp.group(2)), spill_loads=int(mp.group(3)))
        mr = PTXAS_REGS.search(line)
        if mr and entry is not None and "regs" not in res:
            res["regs"] = int(mr.group(1))
            mc = PTXAS_CUMUL.search(line)
            res["stack_cumulative"] = int(mc.group(1)) if mc else None
    return res


def static_worker(model_name: str, gen: str, cc: tuple, kernels: list, dtypes: list, caps: list,
                  layout: str = "rows") -> list:
    """(In a subprocess.) PTX of each kernel, then ptxas -v for each register cap."""
    import types as pytypes

    import numba.cuda.dispatcher as disp
    disp.get_current_device = lambda: pytypes.SimpleNamespace(compute_capability=cc)  # no device here
    if os.environ.get("SYMGAIT_BENCH_INLINE_ALL") == "1":
        import symgait.runtime.jit as jit
        jit.CUDA_OUTLINE_LINES = 0  # NVVM inlines every device function (the behaviour before noinline)
    from numba import cuda
    from numba.core import types as nt

    import symgait
    from symgait.runtime.loader import import_backend
    m = symgait.load_model(model_name)
    mod, man = import_backend(m, "cuda", gen or None)
    if kernels == ["parts"]:  # every _partN device function, each launched as a kernel of its own
        kernels = sorted((n for n in mod.DEVICE if re.search(r"_part\d+$", n)),
                         key=lambda n: (n.rsplit("_part", 1)[0], int(n.rsplit("_part", 1)[1])))
    out = []
    with tempfile.TemporaryDirectory() as d:
        for kern in kernels:
            parent = kern.rsplit("_part", 1)[0]
            sig = man["kernels"][parent]
            if kern == parent:
                pyfunc = getattr(mod, kern).py_func
            else:
                names = [a for a, _ in sig["inputs"] + sig["outputs"]]
                src = (f"def part_kernel({', '.join(names)}, work):\n"
                       f"    for b in range(cuda.grid(1), q.shape[0], cuda.gridsize(1)):\n"
                       f"        part({', '.join(f'{a}[b]' for a in names)}, work[b])\n")
                ns = {"cuda": cuda, "part": mod.DEVICE[kern]}
                exec(src, ns)
                pyfunc = ns["part_kernel"]
            for dt in dtypes:
                ty = nt.Array(getattr(nt, dt), 2, "C")
                wty = nt.Array(getattr(nt, dt), 2, "F" if layout == "interleaved" else "C")
                argtypes = tuple([ty] * (len(sig["inputs"]) + len(sig["outputs"])) + [wty])
                t0 = time.perf_counter()
                ptx, _ = cuda.compile_ptx(pyfunc, argtypes, cc=cc)
                t_ptx = time.perf_counter() - t0
                path = Path(d) / f"{kern}_{dt}.ptx"
                path.write_text(ptx)
                for cap in caps:
                    cmd = ["ptxas", f"-arch=sm_{cc[0]}{cc[1]}", "-v", str(path), "-o", os.devnull]
                    if cap:
                        cmd.insert(1, f"-maxrregcount={cap}")
                    t1 = time.perf_counter()
                    r = subprocess.run(cmd, capture_output=True, text=True)
                    t_as = time.perf_counter() - t1
                    if r.returncode != 0:
                        raise RuntimeError(r.stderr[-2000:])
                    info = parse_ptxas(r.stderr)
                    out.append(dict(model=model_name, kernel=kern, dtype=dt, cap=cap or 255, work=sig["work"],
                                    layout=layout,
                                    ptx_lines=ptx.count("\n"), numba_nvvm_s=round(t_ptx, 1), ptxas_s=round(t_as, 1),
                                    **info))
                    print(json.dumps(out[-1]), file=sys.stderr, flush=True)
    return out


def run_static(args):
    from shutil import which
    if which("ptxas") is None:
        sys.exit("--static needs the CUDA toolkit's ptxas on PATH (and libnvvm for Numba)")
    cc = tuple(int(x) for x in args.cc.split("."))
    rows = []
    for name in args.models:
        for chunk in (args.chunks or [None]):
            gen = ""
            tmp = None
            if chunk is not None:
                tmp = tempfile.TemporaryDirectory()
                gen = str(Path(tmp.name) / name)
                code = ("import sys; import symgait.codegen.device_source as ds; ds.CHUNK = int(sys.argv[2]); "
                        "from symgait.codegen import generate; generate(sys.argv[1], out=sys.argv[3], log=lambda *a: None)")
                subprocess.run([sys.executable, "-c", code, name, str(chunk), gen], check=True, cwd=REPO)
            kernels = "parts" if args.parts else ",".join(args.kernels)
            env = dict(os.environ, SYMGAIT_BENCH_INLINE_ALL="1" if args.inline_all else "0")
            r = subprocess.run([sys.executable, __file__, "--static-worker", name, gen, args.cc,
                                kernels, ",".join(args.dtypes), ",".join(map(str, args.caps)), args.layout],
                               capture_output=True, text=True, cwd=REPO, env=env)
            if r.returncode != 0:
                sys.exit(f"static compile of {name} failed:\n{r.stderr[-3000:]}")
            for row in json.loads(r.stdout.strip().splitlines()[-1]):
                row["chunk"] = chunk or "default"
                rows.append(row)
            if tmp is not None:
                tmp.cleanup()
    print(f"\n## Static resource usage (ptxas -v, sm_{cc[0]}{cc[1]}; no GPU run)\n")
    print(f"date {datetime.date.today()}, {platform.node()}, {platform.processor() or platform.machine()}; "
          f"ptxas: {subprocess.run(['ptxas', '--version'], capture_output=True, text=True).stdout.splitlines()[-1]}\n")
    hdr = ["model", "kernel", "dtype", "chunk", "work layout", "outlined", "reg cap", "regs", "stack B (cumul.)",
           "spill st/ld B (all functions)", "work", "occ. 128 thr", "numba+NVVM s", "ptxas s"]
    print(table(hdr, [[r["model"], r["kernel"], r["dtype"], r["chunk"], r["layout"], r["functions"] - 1, r["cap"], r.get("regs"),
                       r.get("stack_cumulative"), f"{r['spill_stores_all']}/{r['spill_loads_all']}", r["work"],
                       f"{occupancy(r.get('regs', 255), 128):.1%}", r["numba_nvvm_s"], r["ptxas_s"]] for r in rows]))
    print("\noutlined: device functions kept as separate functions (noinline, symgait/runtime/jit.py); "
          "regs and stack are the kernel's, including its callees; numba+NVVM s excludes device functions "
          "already compiled for an earlier kernel of the same run.")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))


# --- GPU mode -----------------------------------------------------------------------------------
def gpu_info():
    from numba import cuda
    from numba.cuda.cudadrv import driver as cudadriver
    dev = cuda.get_current_device()
    drv = cudadriver.driver.get_version()
    info = dict(date=str(datetime.date.today()), gpu=dev.name.decode() if isinstance(dev.name, bytes) else dev.name,
                cc=".".join(map(str, dev.compute_capability)), sms=dev.MULTIPROCESSOR_COUNT,
                driver_cuda=".".join(map(str, drv)), host=platform.node(), cpu=platform.processor() or platform.machine(),
                cpu_count=os.cpu_count())
    try:
        r = subprocess.run(["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
                           capture_output=True, text=True, timeout=30)
        info["driver"] = r.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        info["driver"] = "?"
    import numba
    info["numba"] = numba.__version__
    try:
        import torch
        info["torch"] = torch.__version__ + (" (CUDA)" if torch.cuda.is_available() else " (no CUDA)")
    except ImportError:
        info["torch"] = "-"
    return info


def agreement(models, batch=64):
    import symgait
    from symgait.runtime import cuda_arrays as ca
    rows = []
    for name in models:
        m = symgait.load_model(name)
        kc, kg = symgait.kernels(m, backend="cpu"), symgait.kernels(m, backend="cuda")
        s = state(m, batch)
        for dt in ("float64", "float32"):
            worst = (0.0, "")
            vs64 = 0.0
            for meth, argn in METHODS.items():
                args = [s[a].astype(dt) if a != "p" else s[a] for a in argn.split()]
                dargs = [ca.to_device(a) if a.ndim > 1 else a for a in args]
                g, c = getattr(kg, meth)(*dargs), getattr(kc, meth)(*args)
                c64 = getattr(kc, meth)(*[s[a] for a in argn.split()])
                gd = {k: ca.to_host(v) for k, v in g.items()} if isinstance(g, dict) else {"": ca.to_host(g)}
                cd = c if isinstance(c, dict) else {"": c}
                cd64 = c64 if isinstance(c64, dict) else {"": c64}
                for key in cd:
                    err = float(np.abs(gd[key] - cd[key]).max() / max(1.0, np.abs(cd[key]).max()))
                    if err >= worst[0]:
                        worst = (err, f"{meth}{'.' + key if key else ''}")
                    vs64 = max(vs64, float(np.abs(gd[key] - cd64[key]).max() / max(1.0, np.abs(cd64[key]).max())))
            rows.append([name, dt, f"{worst[0]:.2e}", worst[1], f"{vs64:.2e}"])
    return rows


def compile_times(models):
    code = r'''
import json, sys, time
t0 = time.perf_counter()
import numpy as np, symgait
from symgait.runtime import cuda_arrays as ca
m = symgait.load_model(sys.argv[1]); k = symgait.kernels(m, backend="cuda")
rng = np.random.default_rng(0); n, nc = m.nq, m.n_contacts
x = [ca.to_device(rng.normal(size=(2, n)) * 0.3) for _ in range(3)]; w = ca.to_device(rng.normal(size=(2, nc, 6)))
res = {}
for meth in ("inverse_dynamics", "forward_dynamics", "forward_dynamics_derivatives"):
    t = time.perf_counter(); getattr(k, meth)(*x, w, m.parameters()); res[meth] = time.perf_counter() - t
res["process"] = time.perf_counter() - t0
print(json.dumps(res))
'''
    rows = []
    for name in models:
        with tempfile.TemporaryDirectory() as d:
            env = dict(os.environ, NUMBA_CACHE_DIR=d)
            got = []
            for _ in ("cold", "warm"):
                r = subprocess.run([sys.executable, "-c", code, name], capture_output=True, text=True, cwd=REPO, env=env)
                if r.returncode != 0:
                    raise RuntimeError(r.stderr[-3000:])
                got.append(json.loads(r.stdout.strip().splitlines()[-1]))
        cold, warm = got
        rows.append([name] + [f"{cold[k]:.1f} / {warm[k]:.2f}" for k in
                              ("inverse_dynamics", "forward_dynamics", "forward_dynamics_derivatives", "process")])
    return rows


def _device_args(k, name, batch, dtype, layout="rows"):
    """Preallocated Numba device arrays for a direct launch of kernel ``name``."""
    from numba import cuda
    m = k.model
    sig = k.manifest["kernels"][name]
    s = state(m, batch)
    args = []
    for a, size in sig["inputs"]:
        x = s[a][None] if a == "p" else s[a]
        args.append(cuda.to_device(np.ascontiguousarray(x.reshape(x.shape[0], -1), dtype=dtype)))
    for a, size in sig["outputs"]:
        args.append(cuda.device_array((batch, size), dtype=dtype))
    if layout == "interleaved":
        args.append(cuda.device_array((sig["work"], batch), dtype=dtype).T)
    else:
        args.append(cuda.device_array((batch, sig["work"]), dtype=dtype))
    return args


def time_kernel(kernel, args, blocks, threads, reps):
    from numba import cuda
    kernel[blocks, threads](*args)
    cuda.synchronize()
    t0, t1 = cuda.event(), cuda.event()
    times = []
    for _ in range(3):
        t0.record()
        for _ in range(reps):
            kernel[blocks, threads](*args)
        t1.record()
        t1.synchronize()
        times.append(t0.elapsed_time(t1) / 1e3 / reps)
    return min(times)


def _overload_attr(getter, key):
    """A per-signature attribute of a CUDA dispatcher (dict keyed by argument types) for ``key``."""
    got = getter()
    if not isinstance(got, dict):
        return got
    return got.get(key, next(iter(got.values())))


def resources(models, kernels, dtypes=("float64",), threads=128):
    import symgait
    from numba import cuda, typeof
    dev = cuda.get_current_device()
    lim = dict(regs_per_sm=getattr(dev, "MAX_REGISTERS_PER_MULTIPROCESSOR", 65536),
               threads_per_sm=getattr(dev, "MAX_THREADS_PER_MULTI_PROCESSOR", 2048))
    rows = []
    for name in models:
        k = symgait.kernels(name, backend="cuda")
        mod = k.cuda_module()
        for kern in kernels:
            for dt in dtypes:
                args = _device_args(k, kern, 32, dt)
                disp = getattr(mod, kern)
                t = time.perf_counter()
                disp[1, 32](*args)
                cuda.synchronize()
                first = time.perf_counter() - t
                key = tuple(typeof(a) for a in args)
                regs = _overload_attr(disp.get_regs_per_thread, key)
                local = _overload_attr(disp.get_local_mem_per_thread, key)
                maxt = _overload_attr(disp.get_max_threads_per_block, key)
                rows.append([name, kern, dt, regs, local, maxt, f"{occupancy(regs, threads, **lim):.1%}",
                             f"{first:.1f}"])
    return rows


def throughput(models, batches, reps, dtypes=("float64", "float32")):
    import symgait
    from numba import cuda
    from symgait.runtime import cuda_arrays as ca
    rows = []
    free = cuda.current_context().get_memory_info()[0]
    for name in models:
        m = symgait.load_model(name)
        kg, kc = symgait.kernels(m, backend="cuda"), symgait.kernels(m, backend="cpu")
        kern = kg.cuda_module().forward_dynamics_derivatives
        sig = kg.manifest["kernels"]["forward_dynamics_derivatives"]
        per_sample = sum(s for _, s in sig["inputs"] + sig["outputs"]) + sig["work"]
        s = state(m, 4096)
        args = [s[a] for a in "q qd tau w p".split()]
        kc.forward_dynamics_derivatives(*args)
        t = time.perf_counter()
        kc.forward_dynamics_derivatives(*args)
        cpu_rate = 4096 / (time.perf_counter() - t)
        for dt in dtypes:
            item = np.dtype(dt).itemsize
            for batch in batches:
                if per_sample * item * batch * 1.3 > free:
                    rows.append([name, dt, batch, "(out of memory)", "", "", ""])
                    continue
                dargs = _device_args(kg, "forward_dynamics_derivatives", batch, dt)
                blocks, threads = ca.launch_config(batch)
                sec = time_kernel(kern, dargs, blocks, threads, reps)
                e2e = ""
                try:
                    import torch
                    if torch.cuda.is_available():
                        ts = state(m, batch)
                        targs = [torch.as_tensor(ts[a].astype(dt), device="cuda") for a in "q qd tau w".split()]
                        kg.forward_dynamics_derivatives(*targs, ts["p"])
                        torch.cuda.synchronize()
                        tt = []
                        for _ in range(max(3, reps // 4)):
                            t = time.perf_counter()
                            kg.forward_dynamics_derivatives(*targs, ts["p"])
                            torch.cuda.synchronize()
                            tt.append(time.perf_counter() - t)
                        e2e = f"{batch / statistics.median(tt) / 1e6:.2f}"
                        del targs
                except ImportError:
                    pass
                rows.append([name, dt, batch, f"{blocks}x{threads}", f"{batch / sec / 1e6:.2f}", e2e,
                             f"{cpu_rate / 1e6:.3f}"])
                del dargs
    return rows


def launch_sweep(name, batch, reps, caps=(), dtype="float64"):
    """Threads per block x work layout (x register caps, each a full recompile) for forward_dynamics_derivatives."""
    import symgait
    from numba import cuda
    kg = symgait.kernels(name, backend="cuda")
    base = kg.cuda_module().forward_dynamics_derivatives
    rows = []
    for cap in (None, *caps):
        kern = base if cap is None else cuda.jit(max_registers=cap)(base.py_func)
        for layout in (("rows", "interleaved") if cap is None else ("rows",)):
            args = _device_args(kg, "forward_dynamics_derivatives", batch, dtype, layout)
            for threads in (32, 64, 128, 256):
                try:
                    sec = time_kernel(kern, args, -(-batch // threads), threads, reps)
                    rows.append([cap or "none (255)", layout, threads, f"{batch / sec / 1e6:.2f}"])
                except Exception as e:  # e.g. too many resources requested for launch
                    rows.append([cap or "none (255)", layout, threads, f"failed: {type(e).__name__}"])
            del args
    return rows


SECTIONS = ("agree", "compile", "resources", "throughput", "sweep")
LAYER_SECTION = "layers"


# --- the physics layers on the GPU (--layers) -----------------------------------------------------
def _bench_layers_module():
    """bench/bench_layers.py (its plain-PyTorch TorchDynamics and its inputs), imported, not copied."""
    here = str(Path(__file__).resolve().parent)
    if here not in sys.path:
        sys.path.insert(0, here)
    import bench_layers
    return bench_layers


def _sync(device):
    import torch
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize(device)


def _is_oom(e) -> bool:
    import torch
    return isinstance(e, getattr(torch.cuda, "OutOfMemoryError", ())) or "out of memory" in str(e)


def layers_gradcheck(device="cuda", model="planar", backend="cuda", frames=2, substeps=2):
    """gradcheck (float64) of both layers on ``backend`` with inputs on ``device``: rows [layer, case, ok, s].
    ``model``: a name or a Kernels object (the tests pass a small test model's)."""
    import torch

    import symgait
    from symgait.layers import ForwardDynamics, InverseDynamics
    from symgait.runtime import Kernels
    m = model.model if isinstance(model, Kernels) else symgait.load_model(model)
    model = model if isinstance(model, Kernels) else m
    rng = np.random.default_rng(7)
    n, na, nc = m.nq, m.n_actuated, m.n_contacts

    def t(a):
        return torch.from_numpy(np.asarray(a, dtype=np.float64)).to(device).requires_grad_()
    rows = []
    for integrator, gradient, per_sample in (("rk4", "sensitivity", False), ("semi_implicit_euler", "adjoint", True)):
        B, T = 1 + per_sample, frames
        p = m.parameters()[None] * rng.uniform(0.95, 1.05, (B, 1)) if per_sample else m.parameters()
        ins = [t(np.concatenate([rng.uniform(-0.3, 0.3, (B, n)), rng.uniform(-1, 1, (B, n))], 1)),
               t(rng.uniform(-10, 10, (B, T, na))), t(rng.normal(0, 20, (B, T, nc, 6))), t(p)]
        layer = ForwardDynamics(model, 0.01, substeps=substeps, integrator=integrator, gradient=gradient,
                                backend=backend)
        t0 = time.perf_counter()
        ok = torch.autograd.gradcheck(layer, ins, eps=1e-6, atol=1e-6, rtol=1e-6, raise_exception=False)
        rows.append(["ForwardDynamics", f"{integrator}, {gradient}, B={B}, T={T}, substeps={substeps}",
                     "pass" if ok else "FAIL", f"{time.perf_counter() - t0:.1f}"])
    inv = InverseDynamics(model, backend=backend)
    B, T = 2, 2
    q, qd, qdd = (t(rng.uniform(-1, 1, (B, T, n))) for _ in range(3))
    w, p = t(rng.normal(0, 20, (B, T, nc, 6))), t(m.parameters())
    for name, fn in (("residual", inv), ("joint_torques", inv.joint_torques)):
        t0 = time.perf_counter()
        ok = torch.autograd.gradcheck(fn, [q, qd, qdd, w, p], eps=1e-6, atol=1e-6, rtol=1e-6, raise_exception=False)
        rows.append(["InverseDynamics", f"{name}, B={B}, T={T}", "pass" if ok else "FAIL",
                     f"{time.perf_counter() - t0:.1f}"])
    return rows


def layer_benchmark(model="gait3d", batches=(64, 1024, 16384), frames=50, dt=0.005, repeat=3, torch_repeat=1,
                    device="cuda", backend="cuda", torch_max_batch=None, log=None):
    """Forward+backward of ForwardDynamics (RK4, 1 step per frame) in both gradient modes and of the plain-
    PyTorch autograd version, per batch size: rows [B, method, forward s, backward s, total s, vs plain,
    peak memory GiB] (wall-clock minima, synchronized), and a list of notes (agreement checks)."""
    import torch

    import symgait
    from symgait.layers import ForwardDynamics
    bl = _bench_layers_module()
    m = symgait.load_model(model)
    cuda_dev = torch.device(device).type == "cuda"
    td = bl.TorchDynamics(m).to(device)
    e_id, e_fd = bl.check_torch_version(m, symgait.kernels(m, backend="auto"), td, device)
    notes = [f"plain-PyTorch dynamics vs kernels on {device}: inverse dynamics max abs diff {e_id:.1e}, forward "
             f"dynamics max rel diff {e_fd:.1e}"]
    layers = {mode: ForwardDynamics(m, dt, gradient=mode, backend=backend) for mode in ("sensitivity", "adjoint")}

    def timed(fn, ins, G):
        if cuda_dev:
            torch.cuda.empty_cache()
            torch.cuda.reset_peak_memory_stats(device)
        _sync(device)
        ts = [x.detach().clone().requires_grad_() for x in ins]
        t0 = time.perf_counter()
        x = fn(*ts)
        _sync(device)
        t1 = time.perf_counter()
        (x * G).sum().backward()
        _sync(device)
        t2 = time.perf_counter()
        peak = torch.cuda.max_memory_allocated(device) / 2**30 if cuda_dev else float("nan")
        return t1 - t0, t2 - t1, peak, x.detach(), [t.grad for t in ts]

    def best(fn, ins, G, reps):
        runs = []
        try:
            for _ in range(reps):
                runs.append(timed(fn, ins, G))
        except Exception as e:  # out of GPU memory: report, free, go on
            if not _is_oom(e):
                raise
            if cuda_dev:
                torch.cuda.empty_cache()
            return None
        return min(runs, key=lambda r: r[0] + r[1])

    rows = []
    for B in batches:
        ins = [x.to(device) for x in bl.inputs(m, B, frames)]
        G = torch.from_numpy(np.random.default_rng(2).normal(size=(B, frames + 1, 2 * m.nq))).to(device)
        small = [ins[0][:2], ins[1][:2, :1], ins[2][:2, :1], ins[3]]
        res = {}
        for mode, layer in layers.items():
            timed(layer, small, G[:2, :2])  # compile / load the kernels before timing
            res[mode] = best(layer, ins, G, repeat)
        plain = None
        if torch_max_batch is None or B <= torch_max_batch:
            plain = best(lambda *a: td.rollout(*a, dt), ins, G, torch_repeat)
        ref = plain[0] + plain[1] if plain else None
        for name, r in (("ForwardDynamics sensitivity", res["sensitivity"]),
                        ("ForwardDynamics adjoint", res["adjoint"]), ("plain PyTorch + autograd", plain)):
            if r is None:
                skipped = name.startswith("plain") and torch_max_batch is not None and B > torch_max_batch
                rows.append([B, name, "-", "-", "skipped" if skipped else "out of memory", "-", "-"])
                continue
            ratio = f"{ref / (r[0] + r[1]):.1f}x" if ref else "-"
            rows.append([B, name, f"{r[0]:.3f}", f"{r[1]:.3f}", f"{r[0] + r[1]:.3f}", ratio,
                         "-" if r[2] != r[2] else f"{r[2]:.2f}"])
        if res["sensitivity"] and res["adjoint"]:
            agree = max(((a - b).abs().max() / a.abs().max().clamp(min=1)).item()
                        for a, b in zip(res["sensitivity"][4], res["adjoint"][4]))
            msg = f"B={B}: sensitivity vs adjoint gradients max rel diff {agree:.1e}"
            if plain:
                ex = (plain[3] - res["sensitivity"][3]).abs().max().item()
                eg = max(((a - b).abs().max() / a.abs().max().clamp(min=1)).item()
                         for a, b in zip(plain[4], res["sensitivity"][4]))
                msg += f"; plain PyTorch vs layer: trajectory max abs diff {ex:.1e}, gradients max rel diff {eg:.1e}"
            notes.append(msg)
        if log:
            log(table(LAYER_HEADER, [r for r in rows if r[0] == B]))
        del ins, G
    return rows, notes


LAYER_HEADER = ["B", "method", "forward (s)", "backward (s)", "forward+backward (s)", "speed-up vs plain PyTorch",
                "peak GPU memory (GiB)"]


def run_layers(args, res):
    import torch
    if not torch.cuda.is_available():
        sys.exit("--layers needs a CUDA build of PyTorch with a usable GPU (torch.cuda.is_available() is False)")
    print("\n### Physics layers on backend='cuda': gradcheck (float64, planar, CUDA tensors)\n", flush=True)
    res["layers_gradcheck"] = layers_gradcheck("cuda")
    print(table(["layer", "case", "gradcheck", "s (incl. compile)"], res["layers_gradcheck"]), flush=True)
    print(f"\n### ForwardDynamics forward+backward on the GPU: {args.layer_model}, RK4, 1 step/frame, "
          f"T = {args.layer_frames}, dt = {args.layer_dt}, float64 (best of {args.repeat_layers}; plain PyTorch "
          f"best of {args.torch_repeat})\n", flush=True)
    rows, notes = layer_benchmark(args.layer_model, args.layer_batches, args.layer_frames, args.layer_dt,
                                  args.repeat_layers, args.torch_repeat, "cuda", "cuda", args.torch_max_batch,
                                  log=lambda t: print("(partial)\n" + t + "\n", flush=True))
    res["layers"], res["layers_notes"] = rows, notes
    print(table(LAYER_HEADER, rows))
    print("\n" + "\n".join(notes), flush=True)


def run_gpu(args):
    if os.environ.get("NUMBA_ENABLE_CUDASIM") == "1":
        sys.exit("NUMBA_ENABLE_CUDASIM=1 is set: simulator timings mean nothing; unset it to benchmark a GPU")
    from numba import cuda
    if not cuda.is_available():
        sys.exit(NO_GPU)
    info = gpu_info()
    print("## GPU check (bench/gpu.py)\n")
    print(", ".join(f"{k} {v}" for k, v in info.items()) + "\n", flush=True)
    res = {"info": info}
    if args.quick:
        batches, reps, check_models = [4096, 65536], 5, ["planar"]
        res_kernels, models = ["forward_dynamics_derivatives"], args.models[:1]
    else:
        batches, reps, check_models = args.batches, args.repeat, args.check_models
        res_kernels, models = args.kernels, args.models
    sections = args.sections or (() if args.layers else SECTIONS)
    if "agree" in sections:
        print("### CUDA vs CPU (B = 64; error relative to max(1, |CPU|))\n")
        res["agreement"] = agreement(check_models)
        print(table(["model", "dtype", "max rel. error vs CPU, same dtype", "where", "vs CPU float64"],
                    res["agreement"]), flush=True)
    if "compile" in sections:
        print("\n### Compile time, s (cold: empty Numba cache / warm: cached), first call on B = 2\n")
        res["compile"] = compile_times(models)
        print(table(["model", "inverse_dynamics", "forward_dynamics", "forward_dynamics_derivatives", "whole process"],
                    res["compile"]), flush=True)
    if "resources" in sections:
        print("\n### Registers and occupancy (128 threads per block)\n")
        res["resources"] = resources(models, res_kernels)
        print(table(["model", "kernel", "dtype", "regs/thread", "local mem B/thread", "max threads/block",
                     "occupancy", "first call s"], res["resources"]), flush=True)
    if "throughput" in sections:
        print("\n### forward_dynamics_derivatives, million evaluations / s\n")
        res["throughput"] = throughput(models, batches, reps)
        print(table(["model", "dtype", "B", "grid (blocks x threads)", "kernel", "full call (torch CUDA tensors)",
                     "CPU backend (this host)"], res["throughput"]), flush=True)
    if "sweep" in sections:
        big = max(batches)
        print(f"\n### Launch configuration: {models[0]} forward_dynamics_derivatives, B = {big}, float64, "
              f"million evaluations / s\n")
        res["sweep"] = launch_sweep(models[0], big, reps, caps=[c for c in args.caps if c])
        print(table(["register cap", "work layout", "threads/block", "M eval/s"], res["sweep"]))
    if args.layers:
        run_layers(args, res)
    from symgait.runtime import cuda_arrays as ca
    print(f"\nruntime defaults: {ca.THREADS_PER_BLOCK} threads per block (halved down to "
          f"{ca.MIN_THREADS_PER_BLOCK} while blocks < SMs), work layout {ca.WORK_LAYOUT!r}, no register cap")
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=1))


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", nargs="+", default=None,
                    help="throughput / compile / resources models (default gait3d fullbody; --static: all three)")
    ap.add_argument("--check-models", nargs="+", default=["planar", "gait3d", "fullbody"])
    ap.add_argument("--batches", nargs="+", type=int, default=[1024, 4096, 16384, 65536, 262144])
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--quick", action="store_true", help="planar agreement; gait3d only, B in {4096, 65536}")
    ap.add_argument("--sections", nargs="+", choices=SECTIONS, default=None)
    ap.add_argument("--json", default=None)
    ap.add_argument("--kernels", nargs="+", default=["forward_dynamics_derivatives", "inverse_dynamics_derivatives",
                                                        "forward_dynamics_vjp", "forward_dynamics"])
    ap.add_argument("--caps", nargs="+", type=int, default=[0],
                    help="register caps (ptxas -maxrregcount / cuda.jit(max_registers=...)); 0: none")
    ap.add_argument("--static", action="store_true", help="no GPU: PTX + ptxas -v figures")
    ap.add_argument("--cc", default="9.0", help="--static: compute capability to compile for")
    ap.add_argument("--dtypes", nargs="+", default=["float64"], help="--static: dtypes")
    ap.add_argument("--chunks", nargs="+", type=int, default=None, help="--static: statements per function")
    ap.add_argument("--inline-all", action="store_true",
                    help="--static: let NVVM inline every device function (for comparison)")
    ap.add_argument("--parts", action="store_true",
                    help="--static: compile every _partN device function as a kernel of its own")
    ap.add_argument("--layout", choices=["rows", "interleaved"], default="rows", help="--static: work layout")
    ap.add_argument("--static-worker", dest="static_worker", nargs=7, default=None, help=argparse.SUPPRESS)
    ap.add_argument("--layers", action="store_true",
                    help="the physics layers on the GPU: gradcheck, and forward+backward beside plain PyTorch "
                         "(alone, or with the --sections given)")
    ap.add_argument("--layer-model", default="gait3d")
    ap.add_argument("--layer-batches", nargs="+", type=int, default=[64, 1024, 16384])
    ap.add_argument("--layer-frames", type=int, default=50)
    ap.add_argument("--layer-dt", type=float, default=0.005)
    ap.add_argument("--repeat-layers", type=int, default=3)
    ap.add_argument("--torch-repeat", type=int, default=1, help="--layers: repeats of the plain-PyTorch version")
    ap.add_argument("--torch-max-batch", type=int, default=None,
                    help="--layers: largest B for the plain-PyTorch version (default: all; out-of-memory is reported)")
    return ap.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if args.static_worker:
        name, gen, cc, kernels, dtypes, caps, layout = args.static_worker
        rows = static_worker(name, gen, tuple(int(x) for x in cc.split(".")), kernels.split(","),
                             dtypes.split(","), [int(c) for c in caps.split(",")], layout)
        print(json.dumps(rows))
        return
    if args.static:
        args.models = args.models or ["planar", "gait3d", "fullbody"]
        run_static(args)
    else:
        args.models = args.models or ["gait3d", "fullbody"]
        run_gpu(args)


if __name__ == "__main__":
    main()
