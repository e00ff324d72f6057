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

from .errors import run_command

# command modules, in the order ``symgait --help`` lists them: symgait.cli's own and the training
# commands (training.cli, also run as ``python -m training``)
COMMANDS = ("symgait.cli.generate", "symgait.cli.info", "symgait.cli.export_urdf", "symgait.cli.check",
            "symgait.cli.verify", "symgait.cli.id", "training.cli.predict", "training.cli.train",
            "training.cli.evaluate", "training.cli.experiment", "training.cli.main_job", "symgait.cli.dataset",
            "symgait.cli.inventory", "symgait.cli.references", "symgait.cli.floor", "symgait.cli.opensim_id",
            "symgait.cli.synchrony")


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
    rc = run_command("symgait", a)
    if rc == 0 and getattr(a, "cmd", "") != "export-urdf":
        print(f"done in {time.perf_counter() - t:.1f} s", file=sys.stderr)
    return rc


if __name__ == "__main__":
    sys.exit(main())
