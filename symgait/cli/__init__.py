"""Command line: ``symgait <command>``, one module per command, registered in :data:`COMMANDS`.

Each command module defines ``add_cli(subparsers)``, which adds its parser and sets ``fn``; a
module imports only what its parser needs at the top, and the work's heavy imports (SymPy, torch,
SciPy) inside ``fn``, so that ``symgait --help`` starts at once.  The training commands keep their
own entry point, ``python -m training`` (:mod:`training.cli`), which registers ``dataset``
from here too."""
from __future__ import annotations

import argparse
import importlib
import sys
import time

from ..errors import SymgaitError
from .errors import USER_ERRORS, report_error

# command modules of symgait.cli, in the order ``symgait --help`` lists them
COMMANDS = ("generate", "info", "export_urdf", "check", "verify", "id", "dataset", "inventory",
            "references", "opensim_id", "synchrony")


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="symgait", description="Human body models to exact, fast, "
                                 "differentiable dynamics; inverse dynamics of a trial; training data.")
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name in COMMANDS:
        importlib.import_module(f"{__name__}.{name}").add_cli(sub)
    return ap


def main(argv=None) -> int:
    ap = build_parser()
    a = ap.parse_args(argv)
    t = time.perf_counter()
    try:
        rc = a.fn(a)
    except KeyboardInterrupt as e:  # Ctrl-C: one line, no traceback, the shell's status for SIGINT
        print(f"symgait: {e or 'interrupted'}", file=sys.stderr)
        return 130
    except (SymgaitError,) + USER_ERRORS as e:
        return report_error("symgait", e)
    if getattr(a, "cmd", "") != "export-urdf":
        print(f"done in {time.perf_counter() - t:.1f} s", file=sys.stderr)
    return rc or 0


if __name__ == "__main__":
    sys.exit(main())
