"""Training loop: windows -> shuffled mixed batches -> network -> loss terms -> AdamW.

* Windows of ``data.window`` frames every ``data.stride`` (:class:`symgait.datasets.windows.WindowDataset`),
  collated once; each step draws ``train.batch_size`` windows with a seeded numpy generator: a
  share ``data.labelled_fraction`` from labelled windows, the rest from motion-only ones
  (uniformly from all when the fraction is < 0 or a pool is empty; ``baseline``: labelled only).
* Deterministic on CPU for a seed and config (``torch.manual_seed``, one numpy generator, the
  kernels are per-sample deterministic). ``resume=True`` restores network, optimizer, step, RNG
  states and the log accumulators from ``out_dir/last.pt``: the continued run reproduces the
  uninterrupted one.
* ``data.mirror``: every training window is added a second time as its sagittal mirror image
  (:func:`symgait.trials.augment.mirror_map`: motion, wrenches, torques, contact labels and
  parameters; skipped with a note for a model that is not left/right symmetric).
* Validation (``val_sequences``) at every log step; the network with the best validation score
  (``val_rmse_grf_per_kg`` where the validation set has labels, else ``val_total``) is written to
  ``best.pt`` beside ``last.pt``; with ``train.patience`` > 0 training stops after that many
  validations without improvement. ``loss.png`` (the curves of ``log.jsonl``) is written at the end.
* A step whose gradient is non-finite is skipped (counted in ``bad_steps``); diverged forward
  simulations are dropped inside the loss (``skipped``).
* DDP: under ``torchrun`` (``WORLD_SIZE`` > 1) the process group is initialised (gloo on CPU, nccl on
  CUDA), the network wrapped in DistributedDataParallel; every rank draws the same global batch and
  keeps the rows ``rank::world_size``; only rank 0 writes files, logs and shows progress.
"""
from __future__ import annotations

import json
import math
import os
import sys
import time
from pathlib import Path
from typing import Callable, Dict

import numpy as np
import torch

from .batch import collate, index_batch
from .checkpoint import Bundle, save
from .config import Config
from .plots import plot_loss
from .losses import Losses
from .metrics import rmse
from symgait.datasets.windows import WindowDataset
import symgait
from symgait.trials.augment import mirror_map
from .features import Normalizer

__all__ = ["train", "collate", "init_distributed", "window_batch", "resolve_device", "mirrored_window",
           "val_score"]


def init_distributed(device: str = "cpu"):
    """(rank, world_size); initialises torch.distributed when launched by torchrun."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return 0, 1
    import torch.distributed as dist
    if not dist.is_initialized():
        backend = "nccl" if device == "cuda" else "gloo"
        dist.init_process_group(backend=backend)
    return dist.get_rank(), dist.get_world_size()


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda":
        if not torch.cuda.is_available():
            raise RuntimeError("train.device=cuda but no CUDA device is available (use cpu or auto)")
        return torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
    return torch.device("cpu")


def mirrored_window(d: dict, mirror, actuated) -> dict:
    """A window dict's sagittal mirror image (``mirror``: :class:`symgait.trials.augment.Mirror`;
    ``actuated``: indices of ``JT``'s coordinates, a set closed under mirroring)."""
    out = mirror.sample(d)
    if d.get("JT") is not None:
        jt = np.asarray(d["JT"], float)
        full = np.zeros(jt.shape[:-1] + (len(mirror.perm),))
        full[..., actuated] = jt
        out["JT"] = mirror.coordinates(full)[..., actuated]
    return out


def window_batch(sequences, window: int, stride: int, kinds=None, mirror=None) -> Dict[str, torch.Tensor]:
    """All windows of the sequences collated into one batch (with each window's frame rate);
    with ``mirror`` (a :class:`symgait.trials.augment.Mirror`) each window's mirror image is added."""
    ds = WindowDataset(sequences, window, stride, kinds=kinds)
    items = []
    for k, (i, st) in enumerate(ds.index):
        d = ds[k]
        d["rate"] = ds.sequences[i].rate
        items.append(d)
        if mirror is not None:
            items.append(mirrored_window(d, mirror, mirror.model.actuated_indices))
    if not items:
        raise ValueError(f"no window of {window} frames in {len(ds.sequences)} sequences "
                         f"(lengths {[len(s) for s in ds.sequences]}): lower data.window")
    return collate(items)


def _sample(rng, lab, unl, B, frac):
    def draw(pool, k):
        return pool[rng.choice(len(pool), size=k, replace=len(pool) < k)] if k > 0 else pool[:0]
    if frac < 0 or not len(lab) or not len(unl):
        pool = np.concatenate([lab, unl])
        return draw(pool, B)
    nl = int(round(frac * B))
    return np.concatenate([draw(lab, nl), draw(unl, B - nl)])


def _rng_state(rng):
    s = {"numpy": rng.bit_generator.state, "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        s["cuda"] = torch.cuda.get_rng_state_all()
    return s


def _set_rng_state(rng, s):
    rng.bit_generator.state = s["numpy"]
    torch.set_rng_state(s["torch"])
    if "cuda" in s and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(s["cuda"])


def train(cfg: Config, sequences, *, out_dir=None, resume: bool = False, log: Callable = print,
          val_sequences=None) -> Bundle:
    """Train ``cfg``'s variant on ``sequences`` (list of :class:`~symgait.trials.sequence.Sequence`);
    returns the :class:`~training.checkpoint.Bundle` (``.history``: the logged records)."""
    cfg.validate()
    T = cfg.train
    if T.num_threads > 0:
        torch.set_num_threads(T.num_threads)
        try:
            import numba
            numba.set_num_threads(min(T.num_threads, numba.config.NUMBA_NUM_THREADS))
        except Exception:  # pragma: no cover
            pass
    device = resolve_device(T.device)
    rank, world = init_distributed(device.type)
    main = rank == 0
    out = Path(out_dir) if out_dir is not None else None
    if out is not None and main:
        out.mkdir(parents=True, exist_ok=True)
        import yaml
        (out / "config.yaml").write_text(yaml.safe_dump(cfg.to_dict(), sort_keys=False))
    say = log if (main and log is not None) else (lambda *a, **k: None)

    model = symgait.load_model(cfg.model)
    kern = symgait.kernels(model)
    sequences = list(sequences)
    kinds = None
    if cfg.variant == "baseline":
        kinds = ("measured", "derived")
    mirror = None
    if cfg.data.mirror:
        try:
            mirror = mirror_map(model)
        except ValueError as e:
            say(f"no mirroring augmentation: {e}")
    data = window_batch(sequences, cfg.data.window, cfg.data.stride, kinds=kinds, mirror=mirror)
    labelled = data["labelled"].numpy()
    lab_idx, unl_idx = np.nonzero(labelled)[0], np.nonzero(~labelled)[0]
    if not len(lab_idx) and cfg.variant == "baseline":
        raise ValueError("the baseline variant needs labelled sequences; none were given")

    torch.manual_seed(T.seed)
    rng = np.random.default_rng(T.seed)
    bundle = Bundle.create(cfg, sequences, model=model)
    net = bundle.net.to(device)
    opt = torch.optim.AdamW(net.parameters(), lr=T.lr, weight_decay=T.weight_decay)
    losses = Losses(cfg, model, kern)
    step, history = 0, []
    acc: Dict[str, float] = {}
    bad_steps = 0
    ckpt = out / "last.pt" if out is not None else None
    best = {"score": math.inf, "step": 0, "stale": 0}
    if resume:
        if ckpt is None or not ckpt.exists():
            raise FileNotFoundError(f"resume=True but there is no checkpoint {ckpt}")
        d = torch.load(ckpt, map_location="cpu", weights_only=False)
        net.load_state_dict(d["net"])
        bundle.normalizer = Normalizer.from_state_dict(d["normalizer"])
        ts = d["train_state"]
        opt.load_state_dict(ts["optimizer"])
        step, acc, bad_steps = ts["step"], ts["acc"], ts["bad_steps"]
        losses.skipped = ts["skipped"]
        history = list(d.get("history") or [])
        best = dict(ts.get("best", best))
        _set_rng_state(rng, ts["rng"])
        say(f"resumed from {ckpt} at step {step}")
    run_net = net
    if world > 1:
        from torch.nn.parallel import DistributedDataParallel as DDP
        run_net = DDP(net, device_ids=[device.index] if device.type == "cuda" else None)

    val = None
    if val_sequences:
        vb = window_batch(list(val_sequences), cfg.data.window, cfg.data.stride)
        n = vb["q"].shape[0]
        keep = np.unique(np.linspace(0, n - 1, min(n, T.val_windows)).round().astype(int))
        val = index_batch(vb, keep)
        val_losses = Losses(cfg, model, kern)

    def checkpoint():
        if ckpt is None or not main:
            return
        bundle.history = history
        ts = {"optimizer": opt.state_dict(), "step": step, "acc": dict(acc), "bad_steps": bad_steps,
              "skipped": losses.skipped, "rng": _rng_state(rng), "best": dict(best)}
        save(ckpt, bundle.state(train_state=ts))

    say(f"training {cfg.variant} on {cfg.model}: {len(sequences)} sequences, {len(labelled)} windows "
        f"({len(lab_idx)} labelled), {sum(p.numel() for p in net.parameters())} parameters, "
        f"device {device}, world size {world}")
    from tqdm import tqdm
    bar = tqdm(total=T.steps, initial=step, disable=not (main and sys.stderr.isatty()), desc=cfg.variant)
    t_last, n_last = time.perf_counter(), 0
    net.train()
    while step < T.steps:
        stop = False
        idx = _sample(rng, lab_idx, unl_idx, T.batch_size, cfg.data.labelled_fraction)
        b = index_batch(data, idx[rank::world])
        o = bundle.outputs(b, net=run_net)
        res = losses(b, o)
        opt.zero_grad(set_to_none=True)
        res["total"].backward()
        grads = [p.grad for p in net.parameters() if p.grad is not None]
        finite = bool(torch.isfinite(torch.stack([g.norm() for g in grads])).all()) if grads else True
        if finite:
            if T.grad_clip > 0:
                torch.nn.utils.clip_grad_norm_(net.parameters(), T.grad_clip)
            opt.step()
        else:
            bad_steps += 1
        step += 1
        n_last += 1
        for k, v in res.items():
            acc[k] = acc.get(k, 0.0) + float(v.detach())
        acc["_n"] = acc.get("_n", 0.0) + 1
        bar.update(1)
        if step % T.log_every == 0 or step == T.steps:
            vals = torch.tensor([acc[k] for k in sorted(acc)], dtype=torch.float64)
            if world > 1:
                import torch.distributed as dist
                dist.all_reduce(vals)
                vals /= world
            m = dict(zip(sorted(acc), vals.tolist()))
            nn_ = m.pop("_n")
            dt = time.perf_counter() - t_last
            rec = {"step": step, **{k: v / nn_ for k, v in m.items()},
                   "bad_steps": bad_steps, "lr": opt.param_groups[0]["lr"],
                   "steps_per_s": n_last / dt if dt > 0 else float("nan")}
            if "skipped" in rec:
                rec["skipped"] = rec["skipped"] * nn_  # total chunks skipped since the last record
            if val is not None and main:
                rec.update(_validate(bundle, val, val_losses))
                score = val_score(rec)
                if score < best["score"]:
                    best.update(score=score, step=step, stale=0)
                    if out is not None:
                        bundle.history = history + [rec]
                        save(out / "best.pt", bundle.state())
                else:
                    best["stale"] += 1
                    stop = 0 < T.patience <= best["stale"]
                rec["best_step"] = best["step"]
            if world > 1:
                import torch.distributed as dist
                flag = torch.tensor([float(stop)], device=device if device.type == "cuda" else "cpu")
                dist.broadcast(flag, 0)
                stop = bool(flag.item())
            history.append(rec)
            if main:
                say(" ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in rec.items()))
                if out is not None:
                    with open(out / "log.jsonl", "a") as f:
                        f.write(json.dumps(rec) + "\n")
            acc = {}
            t_last, n_last = time.perf_counter(), 0
        if step % T.ckpt_every == 0 or step == T.steps or stop:
            checkpoint()
        if stop:
            say(f"early stop at step {step}: no better validation score for {T.patience} evaluations "
                f"(best at step {best['step']}: {best['score']:.4g}, {out / 'best.pt' if out else 'not saved'})")
            break
    bar.close()
    if out is not None and main and history:
        try:
            plot_loss(out / "loss.png", out / "log.jsonl", title=cfg.variant)
        except ImportError as e:  # no matplotlib: the run itself is complete
            say(f"no loss plot: {type(e).__name__}: {e}")
    bundle.history = history
    bundle.net = net
    if world > 1:
        import torch.distributed as dist
        dist.barrier()
    return bundle


def val_score(rec: dict) -> float:
    """The validation score that selects ``best.pt`` (lower is better): ``val_rmse_grf_per_kg``
    where the validation set has labels, else ``val_total``."""
    v = rec.get("val_rmse_grf_per_kg", rec.get("val_total", math.inf))
    return float(v) if v is not None and math.isfinite(v) else math.inf


@torch.no_grad()
def _validate(bundle: Bundle, val, losses: Losses) -> Dict[str, float]:
    net = bundle.net
    was = net.training
    net.eval()
    try:
        o = bundle.outputs(val)
        res = losses(val, o)
        out = {f"val_{k}": float(v) for k, v in res.items() if k != "skipped"}
        lab = val["labelled"]
        if bool(lab.any()):
            m = val["mass"][lab].numpy()
            wt = val["w"][lab].numpy() / m[:, None, None, None]
            wp = o["w_per_kg"][lab].double().cpu().numpy()
            out["val_rmse_grf_per_kg"] = rmse(wp[..., :3], wt[..., :3])
            jt = val["JT"][lab].numpy() / m[:, None, None]
            out["val_rmse_jt_per_kg"] = rmse(o["jt_per_kg"][lab].double().cpu().numpy(), jt)
    finally:
        net.train(was)
    return out
