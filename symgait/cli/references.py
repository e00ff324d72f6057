"""``symgait references``: the Moco references and the physics floor of the shared data
(:mod:`symgait.datasets.references`)."""
from __future__ import annotations

import sys
from pathlib import Path


def add_cli(sub) -> None:
    ap = sub.add_parser("references", help="the Moco references and the physics floor of the shared data (docs/data.md)", description=__doc__)
    ap.add_argument("data", nargs="?", default=None, help="shared data folder (default ../shared/data)")
    ap.add_argument("--write", help="Markdown file whose two sections are (re)written, e.g. docs/data.md")
    ap.set_defaults(fn=_run)


def _run(a) -> int:
    from ..datasets.references import markdown_sections, validation_tables, walking_floor_rows
    from ..datasets.markdown import write_sections
    from ..paths import default_data_dir

    data = Path(a.data) if a.data else default_data_dir()
    moco, floor = validation_tables(data, floor_extra=walking_floor_rows(data))
    sec = markdown_sections(moco, floor)
    if a.write:
        print(f"wrote {write_sections(a.write, sec)}")
    else:
        print("\n".join(sec.values()))
    return 0


def main(argv=None) -> int:
    """``python -m symgait.cli.references ...``: the same as ``symgait references ...``."""
    from . import main as symgait_main
    return symgait_main(["references", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
