"""Command line: ``symgait <command>``, one module per command, registered in :data:`COMMANDS`
(the training commands too: ``symgait train`` is ``python -m training train``).

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

from training.config import ConfigError

from ..errors import SymgaitError
from .errors import USER_ERRORS, report_error

# command modules, in the order ``symgait --help`` lists them: symgait.cli's own and the training
# commands (training.cli, also run as ``python -m training``)
COMMANDS = ("symgait.cli.generate", "symgait.cli.info", "symgait.cli.export_urdf", "symgait.cli.check",
            "symgait.cli.verify", "symgait.cli.id", "training.cli.predict", "training.cli.train",
            "training.cli.evaluate", "training.cli.experiment", "training.cli.main_job", "symgait.cli.dataset",
            "symgait.cli.inventory", "symgait.cli.references", "symgait.cli.opensim_id", "symgait.cli.synchrony")


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="symgait", description="Human body models to exact, fast, "
                                 "differentiable dynamics; inverse dynamics of a trial; training data.")
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name in COMMANDS:
        importlib.import_module(name).add_cli(sub)
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
    except ConfigError as e:
        print(f"symgait: config error: {e}", file=sys.stderr)
        return 2
    except (SymgaitError,) + USER_ERRORS as e:
        return report_error("symgait", e)
    if getattr(a, "cmd", "") != "export-urdf":
        print(f"done in {time.perf_counter() - t:.1f} s", file=sys.stderr)
    return rc or 0


if __name__ == "__main__":
    sys.exit(main())
