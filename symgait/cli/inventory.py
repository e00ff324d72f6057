"""``symgait inventory``: every trial of a data folder read, checked and tabulated
(:mod:`symgait.datasets.inventory`)."""
from __future__ import annotations

import sys
from pathlib import Path


def add_cli(sub) -> None:
    ap = sub.add_parser("inventory", help="read every trial of a data folder and write the 'Every trial' table of docs/data.md", description=__doc__)
    ap.add_argument("--data", type=Path, default=None, help="data folder (default: ../shared/data)")
    ap.add_argument("--docs", type=Path, default=Path(__file__).resolve().parents[2] / "docs" / "data.md",
                    help="markdown file whose 'Every trial' section is rewritten")
    ap.add_argument("--print", action="store_true", help="print the table instead of writing it")
    ap.set_defaults(fn=_run)


def _run(a) -> int:
    import time

    from ..datasets.inventory import SECTION, markdown_table, walk
    from ..datasets.markdown import write_sections
    from ..paths import default_data_dir

    root = a.data or default_data_dir()
    if not root.is_dir():
        print(f"error: no data folder {root}", file=sys.stderr)
        return 2
    t0 = time.perf_counter()

    def progress(i, n, r):
        print(f"\r[{i}/{n}] {r.status:11s} {r.trial.path}"[:110].ljust(110), end="", file=sys.stderr)

    results = walk(root, progress=progress)
    print(f"\n{len(results)} trials in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    section = markdown_table(results)
    if a.print:
        print(section)
    else:
        write_sections(a.docs, {SECTION: section})
        print(f"wrote {a.docs}", file=sys.stderr)
    return 0


def main(argv=None) -> int:
    """``python -m symgait.cli.inventory ...``: the same as ``symgait inventory ...``."""
    from . import main as symgait_main
    return symgait_main(["inventory", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
