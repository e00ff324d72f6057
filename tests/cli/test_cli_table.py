"""The command lines: one module per command, each in its package's table, and parsers that import
neither SymPy nor torch (``--help`` starts at once; the work's imports come with the command)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import symgait.cli
import training.cli
from training.cli.experiment import NAMES
from training.experiments import EXPERIMENTS, SUBJECT_WISE

ROOT = Path(__file__).resolve().parents[2]
HELPERS = {"__init__", "__main__", "errors", "arguments"}


@pytest.mark.parametrize("package, table", [
    ("symgait/cli", [n.rsplit(".", 1)[1] for n in symgait.cli.COMMANDS if n.startswith("symgait.cli.")]),
    ("training/cli", [n for n, pkg in training.cli.COMMANDS if pkg == "training.cli"]),
])
def test_every_command_module_is_in_the_table(package, table):
    modules = {p.stem for p in (ROOT / package).glob("*.py")} - HELPERS
    assert modules == set(table), f"{package}: modules {sorted(modules)} vs table {sorted(table)}"


def test_symgait_runs_every_training_command():
    own = {f"training.cli.{n}" for n, pkg in training.cli.COMMANDS if pkg == "training.cli"}
    assert own <= set(symgait.cli.COMMANDS)


def test_experiment_names_are_the_experiments():
    assert set(NAMES) == set(EXPERIMENTS) | set(SUBJECT_WISE)


@pytest.mark.parametrize("module", ["symgait.cli", "training.cli"])
def test_parsers_import_neither_sympy_nor_torch(module):
    code = (f"import sys; import {module} as c; ap = c.build_parser(); "
            "[a.choices[n].format_help() for a in ap._subparsers._group_actions for n in a.choices]; "
            "print(sorted(m for m in ('sympy', 'torch', 'scipy', 'numba') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", f"building {module}'s parser imported {out.stdout.strip()}"


def test_symgait_help_lists_every_command():
    out = subprocess.run([sys.executable, "-m", "symgait.cli", "--help"], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout
    for name in ("generate", "info", "export-urdf", "check", "verify", "id", "predict", "train", "evaluate",
                 "experiment", "main", "dataset", "inventory", "references", "floor", "opensim-id", "synchrony"):
        assert name in out
