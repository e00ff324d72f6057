"""``python -m training evaluate --checkpoint CKPT [--data synthetic|DIR] --out DIR``: errors of a
trained model on held-out data (:mod:`training.evaluate`)."""
from __future__ import annotations

from pathlib import Path

from symgait.atomic import check_output_folder

def add_cli(subparsers):
    p = subparsers.add_parser("evaluate", help="errors of a checkpoint on held-out data (metrics.md, plots)",
                              description=__doc__)
    p.add_argument("--checkpoint", required=True, help="checkpoint file (.pt) written by training")
    p.add_argument("--data", default="synthetic", help="'synthetic' (default) or a data folder "
                   "(the real force-plate test trials; e.g. ../shared/data)")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--allow-seen", action="store_true", help="also score sequences of subjects the checkpoint "
                   "trained or validated on, labelled seen and pooled apart (default: left out, with a warning)")
    p.set_defaults(fn=_run)
    return p


def _run(a) -> int:
    from ..checkpoint import load  # torch: only when the command runs
    from ..evaluate import COLS, eval_sequences, evaluate_and_report, format_value
    check_output_folder(a.out)
    ck = Path(a.checkpoint)
    if not ck.exists():
        print(f"error: checkpoint {ck} not found")
        return 2
    if a.data not in (None, "synthetic") and not Path(a.data).is_dir():
        print(f"error: data folder {a.data} not found")
        return 2
    bundle = load(ck, map_location="cpu")
    seqs = eval_sequences(bundle.cfg, a.data)
    if not seqs:
        print("error: no held-out sequences to evaluate")
        return 1
    res = evaluate_and_report(bundle, seqs, a.out, title=f"{ck.name} on {a.data}", allow_seen=a.allow_seen)
    pm = res["pooled"]
    if pm:
        print("pooled over subjects the model never saw: " + ", ".join(f"{h} {format_value(pm.get(k))}"
                                                                       for k, h in COLS))
    ps = res.get("seen", {}).get("pooled")
    if ps:
        print("pooled over SEEN subjects (in-sample): " + ", ".join(f"{h} {format_value(ps.get(k))}"
                                                                   for k, h in COLS))
    return 0
