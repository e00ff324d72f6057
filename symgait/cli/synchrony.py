"""``symgait synchrony DATASET``: timing between motion and forces of every labelled trial
(:mod:`symgait.trials.synchrony`)."""
from __future__ import annotations

import sys
from pathlib import Path

from ..atomic import write_text


def add_cli(sub) -> None:
    ap = sub.add_parser("synchrony", help="timing between motion and forces of every labelled trial of a built dataset", description=__doc__)
    ap.add_argument("dataset", type=Path, help="a dataset build's --out folder (its .npz sequences are read)")
    ap.add_argument("--json", type=Path, help="also write the per-trial figures here")
    ap.add_argument("--max-residual", type=float, help="leave out trials whose residual force (N/kg) is above "
                    "this (the dataset build refuses them above its MAX_RESIDUAL_FORCE, 6 N/kg)")
    ap.set_defaults(fn=_run)


def _run(a) -> int:
    import collections
    import json

    import numpy as np

    import symgait
    from ..trials.synchrony import force_shift_scan, residual_parts, trial_source

    files = sorted(a.dataset.rglob("*.npz"))
    rows, kernels = [], {}
    for f in files:
        status = f.with_suffix(".json")
        if status.is_file() and json.loads(status.read_text()).get("status", "usable") != "usable":
            continue  # refused by the build (the reason is in its report)
        z = np.load(f)
        meta = json.loads(str(z["meta"]))
        if meta.get("label_kind") != "measured":
            continue
        name = meta.get("model", "gait3d")
        if name not in kernels:
            kernels[name] = symgait.kernels(symgait.load_model(name))
        k, p, mass = kernels[name], z["p"][None], float(meta["mass"])
        parts = residual_parts(k, z["q"], z["qd"], z["qdd"], z["w"], p, mass)
        if a.max_residual is not None and parts["rms"] > a.max_residual:
            continue
        scan = force_shift_scan(k, z["q"], z["qd"], z["qdd"], z["w"], p, mass)
        best = min(scan, key=scan.get)
        rows.append({"trial": meta.get("name", f.stem), "source": trial_source(meta.get("source", str(f))),
                     "rate": meta.get("rate"), **parts, "best_shift_frames": best, "rms_at_best": scan[best],
                     "rms_at_zero": scan[0.0]})
    by = collections.defaultdict(list)
    for r in rows:
        by[r["source"]].append(r)
    print("| source | trials | residual force (N/kg) | time-mean part | varying part | median best shift (frames) "
          "| residual at that shift |")
    print("|---|---|---|---|---|---|---|")
    for s, rs in sorted(by.items()):
        med = lambda key: float(np.median([r[key] for r in rs]))  # noqa: E731
        print(f"| {s} | {len(rs)} | {med('rms'):.2f} | {med('mean'):.2f} | {med('varying'):.2f} | "
              f"{med('best_shift_frames'):+.2f} | {med('rms_at_best'):.2f} |")
    if rows:
        med = lambda key: float(np.median([r[key] for r in rows]))  # noqa: E731
        print(f"| all | {len(rows)} | {med('rms'):.2f} | {med('mean'):.2f} | {med('varying'):.2f} | "
              f"{med('best_shift_frames'):+.2f} | {med('rms_at_best'):.2f} |")
    if a.json:
        write_text(a.json, json.dumps(rows, indent=1))
    return 0


def main(argv=None) -> int:
    """``python -m symgait.cli.synchrony ...``: the same as ``symgait synchrony ...``."""
    from . import main as symgait_main
    return symgait_main(["synchrony", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
