"""``symgait floor DATASET``: the physics floor of a built dataset (``python -m training dataset``)
per source and per activity — the root residual force, motion-implied total force minus the
plates', RMS per kg, vertical / AP / ML / 3-D — measured, at the fitted parameters, after the
kinematic change, and per kinematics recipe (:func:`symgait.datasets.references.floor_rows`);
with ``--arms``, the built-in ``fullbody`` (arms tracked from the trials' arm markers) beside
``gait3d`` on the same trials and frames (:func:`symgait.datasets.references.arms_floor_rows`).
``--save`` keeps the per-trial rows; ``--load`` tabulates them again without recomputing."""
from __future__ import annotations

import json
import sys
from pathlib import Path


def add_cli(sub) -> None:
    ap = sub.add_parser("floor", help="the physics floor of a built dataset per source "
                        "(--arms: fullbody beside gait3d)", description=__doc__)
    ap.add_argument("dataset", nargs="?", help="a built dataset folder (index.json, sequences/, cache/); "
                    "not needed with --load")
    ap.add_argument("--data", default=None, help="the shared data folder the dataset was built from "
                    "(default ../shared/data): --arms reads the arm markers from its files")
    ap.add_argument("--arms", action="store_true", help="fullbody beside gait3d on the trials with arm markers")
    ap.add_argument("--trials", nargs="*", help="only these trial names")
    ap.add_argument("--save", help="write the per-trial rows to this JSON file")
    ap.add_argument("--load", help="tabulate the rows of a JSON file written by --save (nothing recomputed)")
    ap.set_defaults(fn=_run)


def _run(a) -> int:
    from ..atomic import write_json
    from ..datasets.references import (arms_floor_rows, arms_floor_table, floor_by_activity, floor_by_source,
                                       floor_rows, floor_source_table)
    from ..errors import InputError
    from ..paths import default_data_dir

    if a.load:
        rows = json.loads(Path(a.load).read_text())
        arms = a.arms or any("fullbody" in r for r in rows)
    else:
        if a.dataset is None or not (Path(a.dataset) / "index.json").is_file():
            raise InputError(f"{a.dataset}: no index.json, not a built dataset; build one with "
                             "`python -m training dataset --out DATASET`")
        arms = a.arms
        data = Path(a.data) if a.data else default_data_dir()
        if arms and not data.is_dir():
            raise InputError(f"--data {data}: not a folder (the shared data the dataset was built from; "
                             "set SYMGAIT_DATA or give --data)")
        rows = (arms_floor_rows(a.dataset, data, names=a.trials) if arms
                else floor_rows(a.dataset, names=a.trials))
    if a.save:
        print(f"wrote {write_json(a.save, rows)}", file=sys.stderr)
    print(arms_floor_table(rows) if arms
          else floor_source_table({**floor_by_source(rows), **floor_by_activity(rows)}))
    return 0


def main(argv=None) -> int:
    """``python -m symgait.cli.floor ...``: the same as ``symgait floor ...``."""
    from . import main as symgait_main
    return symgait_main(["floor", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
