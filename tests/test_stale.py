"""Generated code that does not match its manifest is refused: edited sources (even with a warm Numba
cache), another generator or SymPy version, a manifest without source hashes; a user model named
like a built-in generates into the user cache and leaves the built-in code alone."""
from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import sympy as sp

import symgait
from symgait.codegen import generate
from symgait.errors import StaleKernelsError
from symgait.paths import SOURCES, builtin_model_path, builtin_root, user_dir
from symgait.user_cache import cache_dir
from symgait.runtime.loader import read_manifest
from symgait_testing import REPO, TEST_MODELS

MODEL = TEST_MODELS / "double_pendulum3d.yaml"


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    """A small model generated once, one kernel compiled (Numba's cache written beside its launchers)."""
    out = tmp_path_factory.mktemp("stale") / "dp"
    generate(MODEL, out=out, log=lambda *a: None)
    m = symgait.load_model(MODEL)
    k = symgait.kernels(m, generated=out)
    M = k.mass_matrix(np.zeros((1, m.nq)), m.parameters())
    assert np.all(np.linalg.eigvalsh(M) > 0)  # a mass matrix is positive definite
    assert any((Path(k.module.__file__).parent / "__pycache__").glob("*.nbi"))
    return m, out


@pytest.fixture
def copy(compiled, tmp_path):
    """A fresh copy of the compiled directory (with its Numba cache) to tamper with."""
    m, out = compiled
    dst = tmp_path / "dp"
    shutil.copytree(out, dst)
    return m, dst


def _edit_manifest(gdir, **fields):
    man = json.loads((gdir / "manifest.json").read_text())
    man.update(fields)
    (gdir / "manifest.json").write_text(json.dumps(man, indent=1) + "\n")


def test_untouched_copy_loads(copy):
    m, gdir = copy
    assert read_manifest(m, gdir)[0] == gdir
    symgait.kernels(m, generated=gdir)


@pytest.mark.parametrize("fname", SOURCES)
def test_edited_source_is_refused(copy, fname):
    m, gdir = copy
    src = gdir / fname
    src.write_text(src.read_text().replace("\n", "\n# edited\n", 1))
    with pytest.raises(StaleKernelsError, match=f"{fname} was changed after generation.*symgait generate .* --out"):
        symgait.kernels(m, generated=gdir)


def test_edit_after_a_successful_load_is_refused(copy):
    """The per-process memo of checked directories does not hide a later edit."""
    m, gdir = copy
    symgait.kernels(m, generated=gdir)
    dev = gdir / "device.py"
    dev.write_text(dev.read_text().replace(" + ", " - ", 1))
    with pytest.raises(StaleKernelsError, match="device.py was changed after generation"):
        symgait.kernels(m, generated=gdir)


def test_missing_source_is_refused(copy):
    m, gdir = copy
    (gdir / "model_data.py").unlink()
    with pytest.raises(StaleKernelsError, match="has no model_data.py.*symgait generate"):
        symgait.kernels(m, generated=gdir)


def test_other_generator_version_is_refused(copy):
    m, gdir = copy
    _edit_manifest(gdir, generator="symgait 0.0.1")
    with pytest.raises(StaleKernelsError, match=f"made by symgait 0.0.1, this is symgait {symgait.__version__}.*"
                                                "symgait generate"):
        symgait.kernels(m, generated=gdir)


def test_other_sympy_minor_version_is_refused(copy):
    m, gdir = copy
    major, minor = sp.__version__.split(".")[:2]
    _edit_manifest(gdir, sympy=f"{major}.{int(minor) + 1}.0")
    with pytest.raises(StaleKernelsError, match=f"SymPy {major}.{int(minor) + 1}.0, this is SymPy.*symgait generate"):
        symgait.kernels(m, generated=gdir)


def test_other_sympy_patch_version_is_accepted(copy):
    m, gdir = copy
    major, minor = sp.__version__.split(".")[:2]
    _edit_manifest(gdir, sympy=f"{major}.{minor}.99")
    k = symgait.kernels(m, generated=gdir)
    assert k.manifest["sympy"] == f"{major}.{minor}.99"  # the edited manifest is the one read
    # and the kernels run: a mass matrix is symmetric positive definite
    p = m.parameters()
    M = k.mass_matrix(np.zeros((1, m.nq)), p)[0]
    assert np.allclose(M, M.T) and np.all(np.linalg.eigvalsh(M) > 0)


def test_manifest_without_source_hashes_is_refused(copy):
    m, gdir = copy
    man = json.loads((gdir / "manifest.json").read_text())
    del man["sources"]
    (gdir / "manifest.json").write_text(json.dumps(man))
    with pytest.raises(StaleKernelsError, match="records no source hashes.*symgait generate"):
        symgait.kernels(m, generated=gdir)


def test_builtin_manifests_record_their_sources():
    """The committed built-in code is what its manifest records: the loader accepts it, and the
    recorded hashes are the SHA-256 of the model file and of every generated source, computed here."""
    for name in ("planar", "gait3d", "fullbody"):
        gdir, man = read_manifest(symgait.load_model(name))
        assert gdir == builtin_root() / name
        assert man["model_sha256"] == hashlib.sha256(builtin_model_path(name).read_text().encode()).hexdigest()
        assert set(man["sources"]) == set(SOURCES)
        for f in SOURCES:
            assert man["sources"][f] == hashlib.sha256((gdir / f).read_bytes()).hexdigest(), f"{name}/{f}"


def test_user_model_named_like_a_builtin_goes_to_the_user_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SYMGAIT_CACHE_DIR", str(tmp_path / "cache"))
    builtin = REPO / "generated" / "planar"
    assert (builtin_root() / "planar").resolve() == builtin
    before = {f: ((builtin / f).read_bytes(), (builtin / f).stat().st_mtime_ns) for f in SOURCES + ("manifest.json",)}
    text = (REPO / "symgait" / "models" / "planar.yaml").read_text()
    assert "\nname: planar" in text
    user_file = tmp_path / "my_planar.yaml"
    user_file.write_text(text.replace("\nname: planar", "\n# a user's copy\nname: planar", 1))
    out = generate(user_file, log=lambda *a: None)
    m = symgait.load_model(user_file)
    assert m.name == "planar"
    assert out == user_dir(m) and out.parent == cache_dir() / "generated" == tmp_path / "cache" / "generated"
    assert out.name.startswith("planar-") and len(out.name) == len("planar-") + 12
    after = {f: ((builtin / f).read_bytes(), (builtin / f).stat().st_mtime_ns) for f in before}
    assert after == before
    # the loader finds it there without being told, and names the user's file in its fix
    gdir, man = read_manifest(m)
    assert gdir == out and man["model_sha256"] == m.source_hash
    user_file.write_text(user_file.read_text() + "\n# edited again\n")
    with pytest.raises(StaleKernelsError, match=f"symgait generate {user_file.resolve()}`"):
        read_manifest(symgait.load_model(user_file))


def test_info_reports_the_directory_and_a_refusal(copy, capsys):
    from symgait.cli import main
    m, gdir = copy
    assert main(["info", str(MODEL), "--generated", str(gdir)]) == 0
    out = capsys.readouterr().out
    assert f"generated    {gdir}\n" in out and "inverse_dynamics " in out
    _edit_manifest(gdir, generator="symgait 0.0.1")
    assert main(["info", str(MODEL), "--generated", str(gdir)]) == 0
    assert "made by symgait 0.0.1" in capsys.readouterr().out


def test_launchers_go_to_the_user_cache_where_the_directory_cannot_hold_them(copy, tmp_path, monkeypatch):
    """Launchers are written beside the generated code (its __pycache__) or, where that cannot be written,
    into the user cache; the kernels are the same either way."""
    m, gdir = copy
    monkeypatch.setenv("SYMGAIT_CACHE_DIR", str(tmp_path / "cache"))
    shutil.rmtree(gdir / "__pycache__")
    (gdir / "__pycache__").write_text("not a directory\n")  # mkdir fails there, even for root
    k = symgait.kernels(m, generated=gdir)
    where = Path(k.module.__file__)
    assert where.is_relative_to(tmp_path / "cache" / "launchers") and where.name.startswith("cpu-")
    q = np.random.default_rng(2).uniform(-1, 1, (3, m.nq))
    M = k.mass_matrix(q, m.parameters())
    assert np.allclose(M, M.transpose(0, 2, 1)) and np.all(np.linalg.eigvalsh(M) > 0)
