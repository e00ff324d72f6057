"""Packaging: pyproject lists every package and the package data the runtime needs; built-in kernels
and configs are found through the installed packages (importlib.resources), not the checkout.
(.ci/run builds the real wheel and runs it from a fresh virtual environment.)"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap

import pytest

from symgait.model import BUILTIN_MODELS
from symgait_testing import REPO

tomllib = pytest.importorskip("tomllib")


def _setuptools():
    return tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]


def test_every_package_is_listed():
    tree = {str(p.parent.relative_to(REPO)).replace(os.sep, ".")
            for top in ("symgait", "training") for p in (REPO / top).rglob("__init__.py")
            if "__pycache__" not in p.parts}
    gen = {"symgait_generated"} | {f"symgait_generated.{m}" for m in BUILTIN_MODELS}
    assert set(_setuptools()["packages"]) == tree | gen, "update [tool.setuptools] packages in pyproject.toml"
    assert {p.name for p in (REPO / "generated").iterdir() if p.is_dir() and p.name != "__pycache__"} \
        == set(BUILTIN_MODELS), "generated/ holds the built-in models only (user models: the user cache)"


def test_package_data_covers_configs_models_and_manifests():
    st = _setuptools()
    assert st["package-dir"] == {"symgait_generated": "generated"}
    data = st["package-data"]
    assert "configs/*.yaml" in data["training"] and "models/*.yaml" in data["symgait"]
    for m in BUILTIN_MODELS:
        assert "manifest.json" in data[f"symgait_generated.{m}"]


def test_lookup_through_installed_packages(tmp_path):
    """A copy of ``training`` and ``symgait_generated`` elsewhere on sys.path (as an installed package
    would be) is where configs and built-in kernels are read from, from any working directory."""
    site = tmp_path / "site"
    shutil.copytree(REPO / "training", site / "training", ignore=shutil.ignore_patterns("__pycache__"))
    (site / "symgait_generated").mkdir()
    shutil.copy(REPO / "generated" / "__init__.py", site / "symgait_generated")
    shutil.copytree(REPO / "generated" / "planar", site / "symgait_generated" / "planar",
                    ignore=shutil.ignore_patterns("__pycache__"))
    code = textwrap.dedent(f"""
        import pathlib, symgait, training.config as tc
        from symgait.runtime.loader import read_manifest
        site = pathlib.Path({str(site)!r})
        assert pathlib.Path(tc.__file__).is_relative_to(site), tc.__file__
        cfg = tc.load_config("tiny")
        assert cfg.model == "planar" and set(["default", "main", "tiny"]) <= set(tc.builtin_configs())
        gdir, man = read_manifest(symgait.load_model("planar"))
        assert gdir == site / "symgait_generated" / "planar", gdir
        print("ok", cfg.train.steps, man["nq"])
        """)
    env = dict(os.environ, PYTHONPATH=str(site))
    r = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["ok", "6", "10"]  # tiny.yaml: train.steps 6; planar: 10 coordinates
