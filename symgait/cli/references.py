"""``python -m symgait.cli.references``: the Moco references and the physics floor of the shared data
(:mod:`symgait.datasets.references`)."""
from __future__ import annotations

import sys
from pathlib import Path

from ..datasets.references import markdown_sections, validation_tables, walking_floor_rows, write_sections
from ..paths import default_data_dir

def main(argv=None) -> int:
    """``python -m symgait.cli.references [DATA_DIR] [--write FILE]``."""
    import argparse
    ap = argparse.ArgumentParser(prog="python -m symgait.cli.references", description=__doc__.split("\n\n")[0])
    ap.add_argument("data", nargs="?", default=None, help="shared data folder (default ../shared/data)")
    ap.add_argument("--write", help="Markdown file whose two sections are (re)written, e.g. docs/data.md")
    a = ap.parse_args(argv)
    data = Path(a.data) if a.data else default_data_dir()
    moco, floor = validation_tables(data, floor_extra=walking_floor_rows(data))
    sec = markdown_sections(moco, floor)
    if a.write:
        print(f"wrote {write_sections(a.write, sec)}")
    else:
        print("\n".join(sec.values()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
