"""``symgait opensim-id [DATA]``: OpenSim's inverse dynamics of the shared subject01 trials reproduced,
printed as Markdown (:mod:`symgait.trials.opensim_id`)."""
from __future__ import annotations

import sys
from pathlib import Path


def add_cli(sub) -> None:
    ap = sub.add_parser("opensim-id", help="OpenSim's inverse dynamics of the shared subject01 trials reproduced (docs/validation.md)", description=__doc__)
    ap.add_argument("data", nargs="?", default=None, help="shared data folder (default ../shared/data)")
    ap.set_defaults(fn=_run)


def _run(a) -> int:
    from ..paths import default_data_dir
    from ..trials.opensim_id import format_rows, run_subject01

    data = Path(a.data) if a.data else default_data_dir()
    for which in ("gait2354-osim", "gait2354-gait3d", "gait10dof-osim", "gait10dof-planar"):
        res, rows = run_subject01(data, which)
        print(f"\n### {which}\n")
        for n in res.notes:
            print(f"note: {n}\n")
        print(format_rows(rows))
    return 0


def main(argv=None) -> int:
    """``python -m symgait.cli.opensim_id ...``: the same as ``symgait opensim-id ...``."""
    from . import main as symgait_main
    return symgait_main(["opensim-id", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
