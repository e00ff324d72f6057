"""Command line of the training side: ``python -m training <command>``, one module per command,
registered in :data:`COMMANDS` (``dataset`` is :mod:`symgait.cli.dataset`).  Parsers import nothing
heavy; each command imports torch and the rest when it runs, so ``--help`` starts at once."""
from __future__ import annotations

import argparse
import importlib

from symgait.cli.errors import run_command

# (module, its package) of each command, in the order --help lists them
COMMANDS = (("train", __name__), ("main_job", __name__), ("evaluate", __name__), ("predict", __name__),
            ("experiment", __name__), ("dataset", "symgait.cli"))


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="python -m training",
        description="Train, evaluate and apply networks that learn ground reaction forces/moments and "
                    "joint torques from motion (Zell, Rosenhahn & Wandt, ECCV 2020).")
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name, package in COMMANDS:
        importlib.import_module(f"{package}.{name}").add_cli(sub)
    return ap


def main(argv=None) -> int:
    a = build_parser().parse_args(argv)
    return run_command("python -m training", a)
