"""``python -m training train --config CFG [--set k=v] --out DIR [--resume] [--data synthetic|DIR]``:
train a network (:mod:`training.trainer`)."""
from __future__ import annotations

from pathlib import Path

from symgait.atomic import check_output_folder

from ..config import builtin_configs


def add_cli(sub) -> None:
    t = sub.add_parser("train", help="train a network (see training/configs)")
    t.add_argument("--config", default=None, help="YAML file or built-in config: " + ", ".join(builtin_configs())
                   + " (default: default; 'real' trains the variant best on real data, see docs/results.md)")
    t.add_argument("--set", action="append", metavar="KEY=VALUE", help="override, e.g. train.steps=200 (repeatable)")
    t.add_argument("--out", required=True, help="output directory (last.pt, log.jsonl, config.yaml)")
    t.add_argument("--resume", action="store_true", help="continue from OUT/last.pt")
    t.add_argument("--data", default="synthetic", help="'synthetic' (default) or a data folder: a raw one "
                   "such as ../shared/data (built into the user cache once) or a built dataset")
    t.set_defaults(fn=_cmd_train)


def _cmd_train(a) -> int:
    from ..config import load_config  # torch: only when the command runs
    from ..data import load_data
    from ..trainer import train
    cfg = load_config(a.config, a.set or [])
    check_output_folder(a.out)
    d = load_data(cfg, a.data, hold_out_test=False)
    train(cfg, d["train"], out_dir=a.out, resume=a.resume, val_sequences=d.get("val") or None)
    print(f"best checkpoint (for predict and evaluate): {Path(a.out) / 'best.pt'}")
    return 0
