"""Command line: ``python -m training train | main [| evaluate | predict | experiment]``.

``train --config CFG [--set key=value ...] --out DIR [--resume] [--data synthetic|DIR]``;
``main [--out runs/main]``: check the planar kernels, verify the layers, train ``main.yaml`` on the
synthetic set, save, and evaluate when :mod:`training.evaluate` is available.
Other modules register sub-commands with ``add_cli(subparsers)``.
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys
import time
from pathlib import Path

__all__ = ["main", "build_parser", "load_data"]


def load_data(cfg, data: str = "synthetic", log=print, hold_out_test: bool = True):
    """``{"train": [...], "val": [...], "test": [...]}`` sequences: the synthetic set
    (``data.n_sequences`` training sequences of which ``data.n_labelled`` keep their labels,
    ``data.n_val`` validation and ``data.n_test`` test ones) or, for a directory, its built dataset
    (:func:`training.data.dataset_dir_for`: a raw folder such as ``../shared/data`` is built into the
    user cache once) split by subject (:func:`training.data.load_dataset`): a ``data.val_fraction``
    of the labelled subjects validate, and with ``hold_out_test`` a seeded fifth of them are test
    subjects (else every other labelled subject trains). The validation set chooses ``best.pt``
    and stops training early; the test set is only evaluated."""
    import symgait
    model = symgait.load_model(cfg.model)
    if data == "synthetic":
        from symgait.data.dataset import SequenceCache
        from symgait.data.synthetic import synthetic_gait
        from .data import without_labels
        from .trainer import init_distributed
        D = cfg.data
        rank, world = init_distributed(cfg.train.device if cfg.train.device != "auto" else "cpu")

        def gen():
            return synthetic_gait(model, n_sequences=D.n_sequences + D.n_test + D.n_val, seconds=D.seconds,
                                  seed=D.seed, cache=SequenceCache())
        if world > 1:  # rank 0 fills the cache first (no concurrent writes of one file)
            import torch.distributed as dist
            if rank == 0:
                seqs = gen()
            dist.barrier()
            if rank != 0:
                seqs = gen()
        else:
            seqs = gen()
        n_tt = D.n_sequences + D.n_test
        tr, te, va = seqs[:D.n_sequences], seqs[D.n_sequences:n_tt], seqs[n_tt:]
        nl = len(tr) if D.n_labelled < 0 else min(D.n_labelled, len(tr))
        tr = tr[:nl] + [without_labels(s) for s in tr[nl:]]
        if rank == 0:
            log(f"synthetic {cfg.model}: {len(tr)} training sequences ({nl} labelled), {len(va)} validation, "
                f"{len(te)} test")
        return {"train": tr, "val": va, "test": te}
    p = Path(data)
    if not p.is_dir():
        raise SystemExit(f"--data must be 'synthetic' or a data directory; {data!r} is neither")
    from .data import dataset_dir_for, load_dataset
    from .evaluate import REAL_RATE
    d = load_dataset(dataset_dir_for(p, log=log), model=model, rate=REAL_RATE,
                     test_subjects=None if hold_out_test else (), val_fraction=cfg.data.val_fraction,
                     seed=cfg.data.seed, include_motion_only=cfg.variant != "baseline", log=log,
                     train_kinematics=cfg.data.kinematics)
    if not d["train"] or (hold_out_test and not d["test"]):
        raise SystemExit(f"{data}: no usable labelled training or test trials (see the log above)")
    return d


def _cmd_train(a) -> int:
    from .config import load_config
    from .trainer import train
    cfg = load_config(a.config, a.set or [])
    d = load_data(cfg, a.data, hold_out_test=False)
    train(cfg, d["train"], out_dir=a.out, resume=a.resume, val_sequences=d.get("val") or None)
    print(f"best checkpoint (for predict and evaluate): {Path(a.out) / 'best.pt'}")
    return 0


def _cmd_main(a) -> int:
    """The main job: the model's kernels (regenerated if stale, self-checked), a quick
    ``symgait verify`` of the kernels and both layers, training (``main.yaml`` on the built-in
    synthetic set; with ``--data DIR`` ``real.yaml`` on the real trials of ``DIR``), evaluation on
    the held-out sequences with the network of ``OUT/best.pt`` (chosen on the validation sequences): ``OUT/last.pt``, ``best.pt``, ``log.jsonl``, ``metrics.json``, ``metrics.md``, plots."""
    import symgait
    from symgait.codegen import generate
    from symgait.layers.verify import verify
    from symgait.runtime.selfcheck import selfcheck
    from .config import load_config
    from .trainer import train
    cfg = load_config(a.config or ("main" if a.data == "synthetic" else "real"), a.set or [])
    out = Path(a.out)
    t0 = time.perf_counter()
    generate(cfg.model)
    if selfcheck(cfg.model, log=print) != 0:
        print("kernel self-check failed", file=sys.stderr)
        return 1
    rep = verify(cfg.model, samples=1, log=print)
    if not rep.ok:
        print("layer verification failed", file=sys.stderr)
        return 1
    d = load_data(cfg, a.data)
    bundle = train(cfg, d["train"], out_dir=out, val_sequences=d.get("val") or None)
    if (out / "best.pt").exists():  # the network chosen on the validation set, not the last one
        from .checkpoint import load
        bundle = load(out / "best.pt")
    kept = "best.pt" if (out / "best.pt").exists() else "last.pt"
    print(f"checkpoint: {out / kept}; log: {out / 'log.jsonl'} ({time.perf_counter() - t0:.0f} s)")
    try:
        ev = importlib.import_module("training.evaluate")
    except ImportError:
        print("training.evaluate not available: skipping the evaluation")
        return 0
    ev.evaluate_and_report(bundle, d["test"], out)
    return 0


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="python -m training", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("train", help="train a network (see training/configs)")
    t.add_argument("--config", default=None, help="YAML file or built-in name (default, main, tiny)")
    t.add_argument("--set", action="append", metavar="KEY=VALUE", help="override, e.g. train.steps=200 (repeatable)")
    t.add_argument("--out", required=True, help="output directory (last.pt, log.jsonl, config.yaml)")
    t.add_argument("--resume", action="store_true", help="continue from OUT/last.pt")
    t.add_argument("--data", default="synthetic", help="'synthetic' or a data directory (training.data.load_real)")
    t.set_defaults(fn=_cmd_train)
    m = sub.add_parser("main", help="check kernels, verify layers, train main.yaml, evaluate")
    m.add_argument("--config", default=None, help="default: main (synthetic) or real (--data DIR)")
    m.add_argument("--data", default="synthetic", help="'synthetic' (built in, no downloads) or a data "
                   "directory such as ../shared/data")
    m.add_argument("--set", action="append", metavar="KEY=VALUE")
    m.add_argument("--out", default="runs/main")
    m.set_defaults(fn=_cmd_main)
    for name in ("training.evaluate", "training.predict", "training.experiments", "training.dataset"):
        try:
            mod = importlib.import_module(name)
        except ImportError:
            continue
        if hasattr(mod, "add_cli"):
            mod.add_cli(sub)
    return ap


def main(argv=None) -> int:
    a = build_parser().parse_args(argv)
    from symgait.cli import USER_ERRORS, report_error
    from symgait.errors import SymgaitError
    from .config import ConfigError
    try:
        return int(a.fn(a) or 0)
    except KeyboardInterrupt as e:  # Ctrl-C: one line, no traceback, the shell's status for SIGINT
        print(f"python -m training: {e or 'interrupted'}", file=sys.stderr)
        return 130
    except ConfigError as e:
        print(f"python -m training: config error: {e}", file=sys.stderr)
        return 2
    except (SymgaitError,) + USER_ERRORS as e:
        return report_error("python -m training", e)


if __name__ == "__main__":
    sys.exit(main())
