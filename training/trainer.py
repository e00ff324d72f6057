"""Training loop: windows -> shuffled mixed batches -> network -> loss terms -> AdamW.

* Windows of ``data.window`` frames every ``data.stride`` (:class:`symgait.datasets.windows.WindowDataset`),
  collated once; each step draws ``train.batch_size`` windows with a seeded numpy generator: a
  share ``data.labelled_fraction`` from labelled windows, the rest from motion-only ones
  (uniformly from all when the fraction is < 0 or a pool is empty; ``baseline``: labelled only).
* Deterministic on CPU for a seed and config (``torch.manual_seed``, one numpy generator, the
  kernels are per-sample deterministic). ``out_dir/last.pt`` is written every ``train.ckpt_every``
  steps, atomically (:func:`training.checkpoint.save`); ``resume=True`` restores network,
  optimizer, learning-rate scheduler, step, the RNG states (torch, numpy, Python's ``random``),
  the position in the data order and the log accumulators from it, and cuts ``log.jsonl`` back to
  its step: the continued run ends with the same weights as the uninterrupted one, bit for bit on
  CPU, however the first run ended (SIGKILL included).
* Divergence: a non-finite loss, gradient norm, weight or optimizer state stops training with
  :class:`TrainingDiverged` naming the step, before that state is written: ``last.pt`` and
  ``best.pt`` keep the last finite one.
* Ctrl-C (SIGINT) raises :class:`TrainingInterrupted` (a ``KeyboardInterrupt``) whose message names
  the step reached and the step ``last.pt`` holds; ``python -m training`` prints it as one line and
  exits with status 130.
* ``data.mirror``: every training window is added a second time as its sagittal mirror image
  (:func:`symgait.trials.augment.mirror_map`: motion, wrenches, torques, contact labels and
  parameters; skipped with a note for a model that is not left/right symmetric).
* Validation (``val_sequences``) at every log step; the network with the best validation score
  (``val_rmse_grf_per_kg`` where the validation set has labels, else ``val_total``) is written to
  ``best.pt`` beside ``last.pt``; with ``train.patience`` > 0 training stops after that many
  validations without improvement. ``loss.png`` (the curves of ``log.jsonl``) is written at the end.
* Diverged forward simulations (a simulated state beyond ``loss.diverge_threshold``) are dropped
  inside the loss (``skipped``); what remains must be finite (see Divergence above).
* DDP: under ``torchrun`` (``WORLD_SIZE`` > 1) the process group is initialised (gloo on CPU, nccl on
  CUDA), the network wrapped in DistributedDataParallel; every rank draws the same global batch and
  keeps the rows ``rank::world_size``; only rank 0 writes files, logs and shows progress.
"""
from __future__ import annotations

import json
import math
import os
import random
import sys
import time
from pathlib import Path
from typing import Callable, Dict

import numpy as np
import torch

from .batch import collate, index_batch
from symgait.errors import InputError, SymgaitError

from .checkpoint import Bundle, CheckpointError, save
from symgait.atomic import write_text
from .config import Config
from .plots import plot_loss
from .provenance import record
from .losses import Losses
from .metrics import rmse
from symgait.datasets.windows import WindowDataset
import symgait
from symgait.trials.augment import mirror_map
from .features import Normalizer

__all__ = ["train", "collate", "init_distributed", "window_batch", "resolve_device", "mirrored_window",
           "val_score", "TrainingDiverged", "TrainingInterrupted"]


class TrainingDiverged(SymgaitError, RuntimeError):
    """Training produced a non-finite loss, gradient, weight or optimizer state (the message names the
    step and the checkpoint that keeps the last finite state)."""


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C during training; the message names the step reached and the last complete checkpoint."""


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
        out["JT"] = mirror.actuated(d["JT"], actuated)
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
    """Every random state training may draw from: the batch generator ``rng`` (the data order),
    torch's (initialisation, dropout), numpy's global one and Python's ``random``."""
    s = {"numpy": rng.bit_generator.state, "torch": torch.get_rng_state(),
         "numpy_global": np.random.get_state(), "python": random.getstate()}
    if torch.cuda.is_available():
        s["cuda"] = torch.cuda.get_rng_state_all()
    return s


def _set_rng_state(rng, s):
    rng.bit_generator.state = s["numpy"]
    torch.set_rng_state(s["torch"])
    if "numpy_global" in s:
        np.random.set_state(s["numpy_global"])
    if "python" in s:
        random.setstate(s["python"])
    if "cuda" in s and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(s["cuda"])


def _lr_factor(schedule: str, steps: int):
    """The multiplier of ``train.lr`` at a step (``torch.optim.lr_scheduler.LambdaLR``)."""
    if schedule == "cosine":
        return lambda k: 0.5 * (1.0 + math.cos(math.pi * min(k, steps) / steps))
    return lambda k: 1.0


def _nonfinite(named_tensors) -> list:
    """Names of the tensors that hold a NaN or an infinity."""
    return [n for n, t in named_tensors if torch.is_tensor(t) and t.is_floating_point()
            and not bool(torch.isfinite(t).all())]


def _optimizer_tensors(opt):
    for i, st in enumerate(opt.state.values()):
        for k, v in st.items():
            yield f"optimizer state {k} of parameter {i}", v


def _cut_log(path: Path, step: int) -> None:
    """Keep the records of ``log.jsonl`` up to ``step`` (those a killed run wrote after its last
    checkpoint are written again by the resumed run); a partly written last line is dropped."""
    if not path.exists():
        return
    keep = []
    for line in path.read_text().splitlines():
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        if isinstance(rec, dict) and rec.get("step", math.inf) <= step:
            keep.append(line)
    write_text(path, "".join(x + "\n" for x in keep))


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
        write_text(out / "config.yaml", yaml.safe_dump(cfg.to_dict(), sort_keys=False))
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
    bundle.seen = record(sequences, val_sequences or ())
    net = bundle.net.to(device)
    opt = torch.optim.AdamW(net.parameters(), lr=T.lr, weight_decay=T.weight_decay)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, _lr_factor(T.lr_schedule, T.steps))
    losses = Losses(cfg, model, kern)
    step, history = 0, []
    acc: Dict[str, float] = {}
    ckpt = out / "last.pt" if out is not None else None
    saved_step = None  # the step last.pt holds
    best = {"score": math.inf, "step": 0, "stale": 0}
    n_windows = len(labelled)
    if resume:
        if ckpt is None or not ckpt.exists():
            raise FileNotFoundError(f"resume=True but there is no checkpoint {ckpt}")
        try:
            d = torch.load(ckpt, map_location="cpu", weights_only=False)
            ts = d["train_state"]
            ts["optimizer"], ts["step"], ts["rng"]
        except Exception as e:
            raise CheckpointError(f"{ckpt} cannot be resumed from ({type(e).__name__}: {str(e)[:200]}); "
                                  f"start again without --resume or in another --out folder") from None
        pos = ts.get("data") or {}
        if pos.get("windows", n_windows) != n_windows:
            raise CheckpointError(f"{ckpt} was written for {pos['windows']} training windows, the data "
                                  f"and data.* settings now give {n_windows}: resume with the same data")
        net.load_state_dict(d["net"])
        bundle.normalizer = Normalizer.from_state_dict(d["normalizer"])
        opt.load_state_dict(ts["optimizer"])
        if ts.get("scheduler") is not None:
            sched.load_state_dict(ts["scheduler"])
        step, acc = ts["step"], ts["acc"]
        losses.skipped = ts["skipped"]
        history = list(d.get("history") or [])
        best = dict(ts.get("best", best))
        _set_rng_state(rng, ts["rng"])
        saved_step = step
        if main and out is not None:
            _cut_log(out / "log.jsonl", step)
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

    def where_saved():
        if ckpt is None:
            return "no checkpoint is written (no output folder)"
        if saved_step is None:
            return f"no checkpoint was written yet (train.ckpt_every={T.ckpt_every})"
        return f"{ckpt} keeps step {saved_step}"

    def diverged(at: int, what: str):
        lr = opt.param_groups[0]["lr"]
        raise TrainingDiverged(
            f"training diverged at step {at}: {what}; stopped before writing that state, {where_saved()}. "
            f"Lower train.lr (now {lr:g}) or the loss weights, or clip the gradient norm with a smaller "
            f"train.grad_clip (now {T.grad_clip:g}; 0 is off), and train again")

    def check_state(at: int):
        bad = _nonfinite(list(net.named_parameters()) + list(_optimizer_tensors(opt)))
        if bad:
            diverged(at, f"non-finite values in {', '.join(bad[:3])}{' ...' if len(bad) > 3 else ''}")

    def any_rank(flag: bool) -> bool:
        """``flag`` on any rank (every rank takes the same branch under DDP)."""
        if world <= 1:
            return flag
        import torch.distributed as dist
        t = torch.tensor([float(flag)], device=device if device.type == "cuda" else "cpu")
        dist.all_reduce(t, op=dist.ReduceOp.MAX)
        return bool(t.item() > 0)

    def checkpoint():
        nonlocal saved_step
        if ckpt is None or not main:
            return
        check_state(step)
        bundle.history = history
        ts = {"optimizer": opt.state_dict(), "scheduler": sched.state_dict(), "step": step, "acc": dict(acc),
              "skipped": losses.skipped, "rng": _rng_state(rng), "best": dict(best),
              "data": {"windows": n_windows, "batches_drawn": step}}
        save(ckpt, bundle.state(train_state=ts))
        saved_step = step

    def _step() -> bool:
        """One optimisation step (with logging, validation and checkpoints); True to stop early."""
        nonlocal step, acc, t_last, n_last
        stop = False
        idx = _sample(rng, lab_idx, unl_idx, T.batch_size, cfg.data.labelled_fraction)
        b = index_batch(data, idx[rank::world])
        o = bundle.outputs(b, net=run_net)
        res = losses(b, o)
        # a non-finite loss stops before its backward pass (whose NaN would reach the physics layers)
        if any_rank(not bool(torch.isfinite(res["total"].detach()))):
            terms = ", ".join(f"{k}={float(v.detach()):g}" for k, v in res.items() if k != "skipped")
            diverged(step + 1, f"the loss is not finite ({terms})")
        opt.zero_grad(set_to_none=True)
        try:
            res["total"].backward()
        except InputError as e:  # a physics layer refuses a non-finite incoming gradient
            if "NaN or inf" not in str(e):
                raise
            diverged(step + 1, f"the gradient is not finite inside the physics layers ({e})")
        grads = [p.grad.detach() for p in net.parameters() if p.grad is not None]
        gnorm = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in grads])) \
            if grads else torch.zeros(())
        if any_rank(not bool(torch.isfinite(gnorm))):
            diverged(step + 1, f"the gradient norm is {float(gnorm):g} (loss {float(res['total'].detach()):g})")
        if T.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(net.parameters(), T.grad_clip)
        opt.step()
        sched.step()
        bad_w = _nonfinite(net.named_parameters())
        if bad_w:
            diverged(step + 1, f"the update made weights non-finite ({', '.join(bad_w[:3])}"
                               f"{' ...' if len(bad_w) > 3 else ''}; gradient norm {float(gnorm):g})")
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
                   "lr": opt.param_groups[0]["lr"],
                   "steps_per_s": n_last / dt if dt > 0 else float("nan")}
            if "skipped" in rec:
                rec["skipped"] = rec["skipped"] * nn_  # total chunks skipped since the last record
            if val is not None and main:
                rec.update(_validate(bundle, val, val_losses))
                score = val_score(rec)
                if score < best["score"]:
                    best.update(score=score, step=step, stale=0)
                    if out is not None:
                        check_state(step)
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
            return True
        return stop

    say(f"training {cfg.variant} on {cfg.model}: {len(sequences)} sequences, {len(labelled)} windows "
        f"({len(lab_idx)} labelled), {sum(p.numel() for p in net.parameters())} parameters, "
        f"device {device}, world size {world}")
    from tqdm import tqdm
    bar = tqdm(total=T.steps, initial=step, disable=not (main and sys.stderr.isatty()), desc=cfg.variant)
    t_last, n_last = time.perf_counter(), 0
    net.train()
    try:
        stop = False
        while step < T.steps and not stop:
            stop = _step()
    except KeyboardInterrupt:
        bar.close()
        raise TrainingInterrupted(f"interrupted at step {step} of {T.steps}; "
                                  + (where_saved() + (": continue with --resume" if saved_step is not None
                                                      else "") if ckpt is not None else
                                     "nothing was saved (no output folder)")) from None
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
