"""Command line: ``python -m training train | main [| evaluate | predict | experiment]``.

``train --config CFG [--set key=value ...] --out DIR [--resume] [--data synthetic|DIR]``;
``main [--out runs/main]``: check the planar kernels, verify the layers, train ``main.yaml`` on the
synthetic set, save, and evaluate when :mod:`training.evaluate` is available.
Other modules register sub-commands with ``add_cli(subparsers)``.
"""
from __future__ import annotations

import argparse
import importlib
import sys
import time
from pathlib import Path

__all__ = ["main", "build_parser"]


def _cmd_train(a) -> int:
    from .config import load_config
    from .data import load_data
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
    from symgait.codegen import generate
    from symgait.layers.verify import verify
    from symgait.runtime.selfcheck import selfcheck
    from .config import load_config
    from .data import load_data
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
    for name in ("training.evaluate", "training.predict", "training.experiments", "symgait.cli.dataset"):
        try:
            mod = importlib.import_module(name)
        except ImportError:
            continue
        if hasattr(mod, "add_cli"):
            mod.add_cli(sub)
    return ap


def main(argv=None) -> int:
    a = build_parser().parse_args(argv)
    from symgait.cli.errors import USER_ERRORS, report_error
    from symgait.errors import SymgaitError
    from .config import ConfigError
    try:
        return int(a.fn(a) or 0)
    except ConfigError as e:
        print(f"python -m training: config error: {e}", file=sys.stderr)
        return 2
    except (SymgaitError,) + USER_ERRORS as e:
        return report_error("python -m training", e)


if __name__ == "__main__":
    sys.exit(main())
