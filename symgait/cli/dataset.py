"""``python -m training dataset`` / ``symgait dataset``: every usable trial of the shared data as
training sequences, with a report (:mod:`symgait.datasets.build`).  The output and cache folders
are checked to be writable first; Ctrl-C stops with one line (exit status 130) and the same command
continues from the cached trials."""
from __future__ import annotations

from pathlib import Path

from ..atomic import check_output_folder
from ..paths import default_data_dir

def add_cli(subparsers):
    """``python -m training dataset``."""
    p = subparsers.add_parser("dataset", help="build the training dataset of every usable trial "
                              "(sequences, index.json, report.md)", description=__doc__.split("\n\n")[0])
    p.add_argument("--data", default=None, help="shared data folder (default ../shared/data)")
    p.add_argument("--out", required=True, help="output folder (sequences/, index.json, report.md, cache/)")
    p.add_argument("--cache", default=None, help="cache folder (default OUT/cache); builds may share one, "
                   "also at the same time")
    p.add_argument("--jobs", type=int, default=2, help="processes (default 2)")
    p.add_argument("--trials", nargs="*", help="only these trial names")
    p.add_argument("--max-frames", type=int, default=None, help="cut each sequence to its first frames "
                   "(a quick build)")
    p.add_argument("--no-fit", action="store_true", help="skip the per-subject parameter fit")
    p.add_argument("--no-kinematics", action="store_true", help="skip the kinematic change within the "
                   "marker error (no *.consistent.npz)")
    p.add_argument("--docs", help="Markdown file whose section 'Dataset build and consistency fit' is "
                   "(re)written from the report, e.g. docs/data.md")
    p.set_defaults(fn=_cmd)
    return p


def _cmd(a) -> int:
    from ..datasets.build import DOCS_SECTION, build, docs_section  # heavy: only when it runs
    from ..datasets.markdown import write_sections
    data = Path(a.data) if a.data else default_data_dir()
    if not data.is_dir():
        raise SystemExit(f"--data {data}: not a folder (the shared data set; set SYMGAIT_DATA)")
    check_output_folder(a.out)
    cache = check_output_folder(a.cache, "--cache") if a.cache else Path(a.out) / "cache"
    try:
        rep = build(data, a.out, jobs=a.jobs, trials=a.trials or None, fit=not a.no_fit,
                    kinematics=not a.no_kinematics, max_frames=a.max_frames, cache_dir=cache)
    except KeyboardInterrupt:
        raise KeyboardInterrupt(f"dataset build interrupted; the trials done so far are cached in {cache}: "
                                "the same command continues from them") from None
    if a.docs:
        write_sections(a.docs, {DOCS_SECTION: docs_section(rep)})
        print(f"wrote {a.docs}")
    return 0
