"""``python -m symgait.cli.opensim_id``: OpenSim's inverse dynamics of the shared subject01 trials reproduced
(:mod:`symgait.trials.opensim_id`)."""
from __future__ import annotations

import sys
from pathlib import Path

from ..paths import default_data_dir
from ..trials.opensim_id import format_rows, run_subject01

def main(argv=None) -> int:
    """Print the four comparisons as Markdown (``python -m symgait.cli.opensim_id [DATA]``)."""
    import sys
    args = list(sys.argv[1:] if argv is None else argv)
    data = Path(args[0]) if args else default_data_dir()
    for which in ("gait2354-osim", "gait2354-gait3d", "gait10dof-osim", "gait10dof-planar"):
        res, rows = run_subject01(data, which)
        print(f"\n### {which}\n")
        for n in res.notes:
            print(f"note: {n}\n")
        print(format_rows(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
