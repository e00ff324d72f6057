"""Benchmark of the forward-dynamics layer (not a test).

    python bench/bench_layers.py [--model gait3d] [--batch 64] [--frames 50] [--dt 0.005] [--skip-torch]

1. Forward + backward of ``ForwardDynamics`` (RK4, one step per frame) for B x T on the model, in
   both gradient modes, beside the same dynamics written in plain PyTorch operations with autograd:
   a batched recursive Newton-Euler (the equations of symgait/symbolic/rnea.py, built from
   ``model.spec``), the mass matrix from n+1 RNEA evaluations (unit accelerations), a Cholesky solve,
   and RK4 -- what a user would write without the library. The plain version is first checked
   against the generated kernels (inverse and forward dynamics to 1e-9).
2. Peak memory of both modes for T in {50, 200}: the bytes the layer keeps for the backward pass
   (its saved tensors) and the peak resident-memory growth of a fresh process over forward+backward.

Prints markdown tables. Timings are wall-clock minima over ``--repeat`` runs (the layers; the plain
version ``--torch-repeat`` runs), the usual estimator on a machine shared with other jobs; the load
average is printed before and after.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import time

import numpy as np
import sympy as sp
import torch

import symgait
from symgait.layers import ForwardDynamics


# --- the same dynamics in plain PyTorch --------------------------------------------------------
def _cross(a, b):
    return torch.linalg.cross(a, b, dim=-1)


def _mv(E, v):  # E (B,3,3) or (3,3) @ v (B,3)
    return (E @ v.unsqueeze(-1)).squeeze(-1)


def _mTv(E, v):  # E^T v
    return (E.transpose(-1, -2) @ v.unsqueeze(-1)).squeeze(-1)


class TorchDynamics:
    """Batched RNEA / mass matrix / forward dynamics of a model in plain torch ops (autograd-able)."""

    def __init__(self, model):
        spec = model.spec
        self.model, self.n = model, model.nq
        syms = list(spec.parameter_symbols)
        mods = [{"sqrt": torch.sqrt, "sin": torch.sin, "cos": torch.cos}, "math"]

        def fn(exprs):
            f = sp.lambdify([syms], [sp.sympify(e) for e in exprs], modules=mods)

            def call(p):  # p (B, n_p) -> (B, len)
                cols = f([p[:, j] for j in range(p.shape[1])])
                return torch.stack([c if torch.is_tensor(c) else torch.full_like(p[:, 0], float(c))
                                    for c in cols], 1)
            return call
        self.frames = []
        for f in spec.frames:
            self.frames.append(dict(rotates=f.motion.rotates, translates=f.motion.translates, parent=f.parent, coord=f.coordinate,
                                    axis=torch.tensor(f.axis, dtype=torch.float64),
                                    rot=torch.tensor(f.rotation, dtype=torch.float64),
                                    ax_parent=torch.tensor(f.rotation @ f.axis, dtype=torch.float64),
                                    offset=fn(f.offset)))
        self.bodies = [dict(frame=b.frame, mass=fn([b.mass]), com=fn(b.com), inertia=fn(b.inertia))
                       for b in spec.bodies]
        self.contacts = [c.frame for c in spec.contacts]
        self.gravity = torch.tensor(spec.gravity, dtype=torch.float64)

    def to(self, device):
        """Move the constant tensors to ``device`` once (bench/gpu.py runs this on a GPU); returns self."""
        for fr in self.frames:
            for key in ("axis", "rot", "ax_parent"):
                fr[key] = fr[key].to(device)
        self.gravity = self.gravity.to(device)
        return self

    def _rot(self, fr, qj):
        k = fr["axis"].to(qj)
        K = torch.zeros(3, 3, dtype=qj.dtype, device=qj.device)
        K[0, 1], K[0, 2], K[1, 0], K[1, 2], K[2, 0], K[2, 1] = -k[2], k[1], k[2], -k[0], -k[1], k[0]
        s, c = torch.sin(qj)[:, None, None], torch.cos(qj)[:, None, None]
        R = torch.eye(3, dtype=qj.dtype, device=qj.device) + s * K + (1 - c) * (K @ K)
        return fr["rot"].to(qj) @ R

    def rnea(self, q, qd, qdd, w, p, gravity=True):
        """Generalized forces ID(q, qd, qdd, w, p): (B, n)."""
        B, dt = q.shape[0], q.dtype
        zero = torch.zeros(B, 3, dtype=dt, device=q.device)
        g = -self.gravity.to(q).expand(B, 3) if gravity else zero
        E, rho, om, al, ac, Rw = {}, {}, {}, {}, {}, {}
        for i, fr in enumerate(self.frames):
            off = fr["offset"](p)
            if fr["rotates"]:
                E[i], rho[i] = self._rot(fr, q[:, fr["coord"]]), off
            else:
                E[i] = fr["rot"].to(q).expand(B, 3, 3)
                rho[i] = off + fr["ax_parent"].to(q) * q[:, fr["coord"], None] if fr["translates"] else off
            pi = fr["parent"]
            om_p, al_p, ac_p = (zero, zero, g) if pi < 0 else (om[pi], al[pi], ac[pi])
            a_lin = ac_p + _cross(al_p, rho[i]) + _cross(om_p, _cross(om_p, rho[i]))
            a_i, om_r, al_r = _mTv(E[i], a_lin), _mTv(E[i], om_p), _mTv(E[i], al_p)
            if not (fr["rotates"] or fr["translates"]):
                om[i], al[i], ac[i] = om_r, al_r, a_i
            else:
                s = fr["axis"].to(q)
                sqd = s * qd[:, fr["coord"], None]
                sqdd = s * qdd[:, fr["coord"], None]
                if fr["rotates"]:
                    om[i], al[i], ac[i] = om_r + sqd, al_r + sqdd + _cross(om_r, sqd), a_i
                else:
                    om[i], al[i], ac[i] = om_r, al_r, a_i + sqdd + 2 * _cross(om_r, sqd)
            Rw[i] = E[i] if pi < 0 else Rw[pi] @ E[i]
        fo = {i: zero for i in range(len(self.frames))}
        no = dict(fo)
        for b in self.bodies:
            i = b["frame"]
            m, c, I = b["mass"](p), b["com"](p), b["inertia"](p)
            Ic = torch.stack([I[:, [0, 3, 4]], I[:, [3, 1, 5]], I[:, [4, 5, 2]]], 1)
            F = m * (ac[i] + _cross(al[i], c) + _cross(om[i], _cross(om[i], c)))
            fo[i] = F
            no[i] = _mv(Ic, al[i]) + _cross(om[i], _mv(Ic, om[i])) + _cross(c, F)
        for kc, i in enumerate(self.contacts):
            fo[i] = fo[i] - _mTv(Rw[i], w[:, kc, :3])
            no[i] = no[i] - _mTv(Rw[i], w[:, kc, 3:])
        tau = [None] * self.n
        for i in reversed(range(len(self.frames))):
            fr = self.frames[i]
            s = fr["axis"].to(q)
            if fr["rotates"]:
                tau[fr["coord"]] = no[i] @ s
            elif fr["translates"]:
                tau[fr["coord"]] = fo[i] @ s
            pi = fr["parent"]
            if pi >= 0:
                fp = _mv(E[i], fo[i])
                fo[pi] = fo[pi] + fp
                no[pi] = no[pi] + _mv(E[i], no[i]) + _cross(rho[i], fp)
        return torch.stack(tau, 1)

    def forward_dynamics(self, q, qd, tau, w, p):
        """qdd = M^-1 (tau - ID(q, qd, 0, w)), M from n RNEA calls with unit accelerations (one batch)."""
        B, n = q.shape
        if p.dim() == 1:
            p = p.expand(B, -1)
        h = self.rnea(q, qd, torch.zeros_like(q), w, p)
        eye = torch.eye(n, dtype=q.dtype, device=q.device)
        qn = q.repeat_interleave(n, 0)
        Mcols = self.rnea(qn, torch.zeros_like(qn), eye.repeat(B, 1),
                          torch.zeros(B * n, w.shape[1], 6, dtype=q.dtype, device=q.device),
                          p.repeat_interleave(n, 0), gravity=False)
        M = Mcols.reshape(B, n, n).transpose(1, 2)
        L = torch.linalg.cholesky(0.5 * (M + M.transpose(1, 2)))
        return torch.cholesky_solve((tau - h).unsqueeze(-1), L).squeeze(-1)

    def rollout(self, x0, tau_act, w, p, dt):
        """RK4 over the frames (inputs held per frame), like ForwardDynamics(..., integrator='rk4')."""
        n = self.n
        act = self.model.actuated_indices
        xs, x = [x0], x0
        act = torch.tensor(act, device=x0.device)
        for k in range(tau_act.shape[1]):
            tk = x0.new_zeros(x0.shape[0], n).index_copy(1, act, tau_act[:, k])
            f = lambda x: torch.cat([x[:, n:], self.forward_dynamics(x[:, :n], x[:, n:], tk, w[:, k], p)], 1)  # noqa: E731
            k1 = f(x)
            k2 = f(x + dt / 2 * k1)
            k3 = f(x + dt / 2 * k2)
            k4 = f(x + dt * k3)
            x = x + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
            xs.append(x)
        return torch.stack(xs, 1)


# --- helpers -----------------------------------------------------------------------------------------
def inputs(model, B, T, seed=0):
    rng = np.random.default_rng(seed)
    n, na, nc = model.nq, model.n_actuated, model.n_contacts
    q0 = rng.uniform(-0.2, 0.2, (B, n))
    q0[:, 1] += 0.9  # pelvis height (any value works: no contact model, wrenches are inputs)
    x0 = np.concatenate([q0, rng.uniform(-0.5, 0.5, (B, n))], 1)
    # moderate inputs that keep the light distal segments (toes: ~0.1 kg) integrable at dt = 0.005 s
    # over 200 frames (no balance controller here: body-weight foot forces would fold the legs):
    # joint torques = diag(M(q0)) x random accelerations of +-0.5 rad/s^2, small foot wrenches
    k = symgait.kernels(model)
    Mdiag = np.diagonal(k.mass_matrix(q0, model.parameters()), axis1=1, axis2=2)[:, model.actuated_indices]
    tau = Mdiag[:, None, :] * rng.uniform(-0.5, 0.5, (B, T, na))
    w = np.concatenate([rng.normal(0, 2, (B, T, nc, 3)), rng.normal(0, 0.05, (B, T, nc, 3))], 3)
    p = model.parameters()
    return [torch.from_numpy(a) for a in (x0, tau, w, p)]


def fwd_bwd(fn, ins, G):
    ts = [t.detach().clone().requires_grad_() for t in ins]
    t0 = time.perf_counter()
    x = fn(*ts)
    t1 = time.perf_counter()
    (x * G).sum().backward()
    t2 = time.perf_counter()
    return t1 - t0, t2 - t1, x.detach(), [t.grad for t in ts]


def check_torch_version(model, k, td, device="cpu"):
    """(max abs diff of inverse dynamics, max rel diff of forward dynamics) between ``td`` and the
    kernels ``k`` (e.g. backend 'auto' for tensors on a GPU), on ``device``."""
    rng = np.random.default_rng(1)
    B, n, nc = 4, model.nq, model.n_contacts
    q, qd, qdd, tau = (torch.from_numpy(rng.uniform(-0.5, 0.5, (B, n))).to(device) for _ in range(4))
    w = torch.from_numpy(rng.normal(0, 30, (B, nc, 6))).to(device)
    p = torch.from_numpy(model.parameters()).to(device)
    pb = p.expand(B, -1)
    e_id = (td.rnea(q, qd, qdd, w, pb) - k.inverse_dynamics(q, qd, qdd, w, p)).abs().max().item()
    ref = k.forward_dynamics(q, qd, tau, w, p)
    e_fd = ((td.forward_dynamics(q, qd, tau, w, p) - ref).abs().max() / ref.abs().max().clamp(min=1)).item()
    return e_id, e_fd


def _status_mib(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def _reset_peak_rss() -> bool:
    """Reset the kernel's resident-set high-water mark (VmHWM) of this process (Linux >= 4.0)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def mem_child(model, mode, B, T, dt):
    """Run in a fresh process: forward+backward once (after a warm-up), report memory."""
    m = symgait.load_model(model)
    layer = ForwardDynamics(m, dt, gradient=mode)
    ins = inputs(m, B, T)
    fwd_bwd(layer, [t[:1, :1] if t.dim() > 1 and i in (1, 2) else (t[:1] if t.dim() > 1 else t)
                    for i, t in enumerate(ins)], torch.ones(1, 2, 2 * m.nq, dtype=torch.float64))  # compile/warm
    ts = [t.detach().clone().requires_grad_() for t in ins]
    import ctypes
    import gc
    gc.collect()
    try:  # hand freed heap memory back to the OS, so that new allocations show up in the RSS
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except OSError:
        pass
    before = _status_mib("VmRSS")
    if not _reset_peak_rss():
        print(json.dumps({"saved_mib": float("nan"), "peak_growth_mib": float("nan")}))
        return
    x = layer(*ts)
    fn = x.grad_fn
    saved = sum(s.numel() * s.element_size() for s in fn.saved_tensors) - sum(
        t.numel() * t.element_size() for t in ts[1:])
    x.sum().backward()
    peak = _status_mib("VmHWM")
    print(json.dumps({"saved_mib": saved / 2**20, "peak_growth_mib": peak - before}))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="gait3d")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--frames", type=int, default=50)
    ap.add_argument("--dt", type=float, default=0.005)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--torch-repeat", type=int, default=1)
    ap.add_argument("--skip-torch", action="store_true", help="skip the plain-PyTorch comparison")
    ap.add_argument("--mem-frames", default="50,200")
    ap.add_argument("--threads", type=int, default=None,
                    help="torch and numba threads for every method (default: leave as configured). On a "
                         "shared, loaded machine 1 is far faster and more reproducible")
    ap.add_argument("--mem-child", dest="mem_child", nargs=3, help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    import numba
    if a.threads:
        torch.set_num_threads(a.threads)
        numba.set_num_threads(a.threads)
    if a.mem_child:
        mem_child(a.model, a.mem_child[0], int(a.mem_child[1]), int(a.mem_child[2]), a.dt)
        return 0
    m = symgait.load_model(a.model)
    k = symgait.kernels(m)
    B, T = a.batch, a.frames
    print(f"# symgait forward layer benchmark: {m.name} (n={m.nq}, actuated {m.n_actuated}, contacts "
          f"{m.n_contacts}, parameters {m.n_parameters}), B={B}, T={T}, dt={a.dt}, RK4, 1 step/frame")
    print(f"{datetime.datetime.now().isoformat(timespec='seconds')}; {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}; torch {torch.__version__} "
          f"({torch.get_num_threads()} threads), numba {numba.__version__} ({numba.get_num_threads()} threads)\n")
    ins = inputs(m, B, T)
    G = torch.from_numpy(np.random.default_rng(2).normal(size=(B, T + 1, 2 * m.nq)))
    layers = {mode: ForwardDynamics(m, a.dt, gradient=mode) for mode in ("sensitivity", "adjoint")}
    small = [ins[0][:2], ins[1][:2, :1], ins[2][:2, :1], ins[3]]
    for layer in layers.values():  # compile / load the kernels before timing
        fwd_bwd(layer, small, G[:2, :2])
    rows, results, times = [], {}, {mode: [] for mode in layers}
    for _ in range(a.repeat):  # interleaved, so that a change of the machine's load hits both modes
        for mode, layer in layers.items():
            times[mode].append(fwd_bwd(layer, ins, G))
    for mode in layers:
        best = min(times[mode], key=lambda t: t[0] + t[1])
        rows.append((f"ForwardDynamics {mode}", best[0], best[1]))
        results[mode] = best
    g_s, g_a = results["sensitivity"][3], results["adjoint"][3]
    agree = max(((x - y).abs().max() / x.abs().max().clamp(min=1)).item() for x, y in zip(g_s, g_a))
    torch_note = ""
    if not a.skip_torch:
        td = TorchDynamics(m)
        e_id, e_fd = check_torch_version(m, k, td)
        print(f"plain-PyTorch dynamics vs kernels: inverse dynamics max abs diff {e_id:.2e}, forward dynamics "
              f"max rel diff {e_fd:.2e}")
        if not (e_id < 1e-9 and e_fd < 1e-9):
            raise SystemExit("the plain-PyTorch version does not match the kernels; not timing it")
        runs = [fwd_bwd(lambda *t: td.rollout(*t, a.dt), ins, G) for _ in range(a.torch_repeat)]
        tf, tb, xt, gt = min(runs, key=lambda t: t[0] + t[1])
        rows.append(("plain PyTorch + autograd (RNEA, n+1 RNEA mass matrix, Cholesky, RK4)", tf, tb))
        ex = ((xt - results["sensitivity"][2]).abs().max()).item()
        eg = max(((x - y).abs().max() / x.abs().max().clamp(min=1)).item() for x, y in zip(gt, g_s))
        torch_note = (f"plain PyTorch vs layer: trajectory max abs diff {ex:.1e}, gradients max rel diff {eg:.1e} "
                      f"(best of {a.torch_repeat}; layers best of {a.repeat})")
    ref = rows[-1][1] + rows[-1][2] if not a.skip_torch else None
    print("\n| method | forward (s) | backward (s) | forward+backward (s) | speed-up vs plain PyTorch |")
    print("|---|---|---|---|---|")
    for name, f, b in rows:
        su = f"{ref / (f + b):.1f}x" if ref else "-"
        print(f"| {name} | {f:.3f} | {b:.3f} | {f + b:.3f} | {su} |")
    print(f"\nsensitivity vs adjoint gradients: max rel diff {agree:.1e}")
    if torch_note:
        print(torch_note)
    print("\n| mode | T | kept for backward (MiB) | peak RSS growth, forward+backward (MiB) |")
    print("|---|---|---|---|")
    for T2 in [int(t) for t in a.mem_frames.split(",") if t]:
        for mode in ("sensitivity", "adjoint"):
            cmd = [sys.executable, __file__, "--model", a.model, "--dt", str(a.dt), "--mem-child", mode, str(B), str(T2)]
            if a.threads:
                cmd += ["--threads", str(a.threads)]
            out = subprocess.run(cmd, capture_output=True, text=True, check=True)
            r = json.loads(out.stdout.strip().splitlines()[-1])
            print(f"| {mode} | {T2} | {r['saved_mib']:.1f} | {r['peak_growth_mib']:.1f} |")
    print(f"\n(load average at the end {os.getloadavg()[0]:.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
