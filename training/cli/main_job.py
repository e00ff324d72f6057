"""``python -m training main [--data DIR]``: the main job — kernels regenerated and self-checked, a quick
verification of the layers, a short training and its evaluation (see the README)."""
from __future__ import annotations

import importlib
import importlib.resources
import sys
import time
from pathlib import Path

from ..config import builtin_configs


def add_cli(sub) -> None:
    m = sub.add_parser("main", help="check kernels, verify layers, train main.yaml, evaluate")
    m.add_argument("--config", default=None, help="YAML file or built-in config: " + ", ".join(builtin_configs())
                   + " (default: main on the synthetic set, real with --data DIR)")
    m.add_argument("--data", default="synthetic", help="'synthetic' (built in, no downloads) or a data "
                   "directory such as ../shared/data")
    m.add_argument("--set", action="append", metavar="KEY=VALUE", help="config override (repeatable)")
    m.add_argument("--out", default="runs/main", help="output folder (default: runs/main)")
    m.set_defaults(fn=_cmd_main)


def _predict_sample(out: Path) -> int:
    """``symgait predict`` with the shipped model on the bundled trial, scored against its plates."""
    import json

    from . import main as training_main
    sample = importlib.resources.files("training").joinpath("samples", "subject01_walk1")
    t = json.loads(sample.joinpath("trial.json").read_text())
    out.mkdir(parents=True, exist_ok=True)
    print(f"\nthe shipped model on a real trial it never saw ({t['subject']}, {sample.joinpath('README.md')}):")
    return training_main(["predict", str(sample.joinpath(t["motion"])), "--mass", str(t["mass"]),
                          "--height", str(t["height"]), "--forces", str(sample.joinpath(t["forces"])),
                          "--external-loads", str(sample.joinpath(t["external_loads"])),
                          "--out", str(out / "prediction.csv")])


def _cmd_main(a) -> int:
    """The main job: the model's kernels (regenerated if stale, self-checked), a quick
    ``symgait verify`` of the kernels and both layers; the model shipped with symgait predicts the
    bundled real walking trial (``training/samples/subject01_walk1``, a subject it never saw) and scores
    itself against that trial's plates (``OUT/sample/``: CSV, score JSON and plots); then training
    (``main.yaml`` on the built-in synthetic set; with ``--data DIR`` ``real.yaml`` on the real trials of
    ``DIR``) and evaluation on the held-out sequences with the network of ``OUT/best.pt`` (chosen on
    the validation sequences): ``OUT/last.pt``, ``best.pt``, ``log.jsonl``, ``metrics.json``,
    ``metrics.md``, plots."""
    from symgait.codegen import generate
    from symgait.layers.verify import verify
    from symgait.runtime.selfcheck import selfcheck
    from ..config import load_config
    from ..data import load_data
    from ..trainer import train
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
    rc = _predict_sample(out / "sample")
    if rc:
        return rc
    d = load_data(cfg, a.data)
    bundle = train(cfg, d["train"], out_dir=out, val_sequences=d.get("val") or None)
    if (out / "best.pt").exists():  # the network chosen on the validation set, not the last one
        from ..checkpoint import load
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
