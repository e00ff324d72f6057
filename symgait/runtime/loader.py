"""Find, check and import a model's generated code (generated/<model>/)."""
from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

from ..errors import StaleKernelsError

REPO_ROOT = Path(__file__).resolve().parents[2]
GENERATED_ROOT = REPO_ROOT / "generated"


def generated_dir(model, generated: str | Path | None = None) -> Path:
    return Path(generated) if generated is not None else GENERATED_ROOT / model.name


def _generate_command(model, gdir: Path) -> str:
    src = model.spec.path
    builtin = Path(src).parent == REPO_ROOT / "symgait" / "models"
    target = model.name if builtin else src
    out = "" if gdir == GENERATED_ROOT / model.name else f" --out {gdir}"
    return f"symgait generate {target}{out}"


def read_manifest(model, generated=None) -> tuple[Path, dict]:
    gdir = generated_dir(model, generated)
    mpath = gdir / "manifest.json"
    if not mpath.exists():
        raise StaleKernelsError(f"no generated kernels for model {model.name!r} in {gdir}; "
                                f"run `{_generate_command(model, gdir)}`")
    try:
        manifest = json.loads(mpath.read_text())
    except json.JSONDecodeError as e:
        raise StaleKernelsError(f"{mpath} is corrupt ({e}); run `{_generate_command(model, gdir)}`") from None
    if manifest.get("model_sha256") != model.source_hash:
        raise StaleKernelsError(
            f"the generated kernels in {gdir} were made from a different version of {model.spec.path} "
            f"(model file changed since generation); run `{_generate_command(model, gdir)}`")
    return gdir, manifest


def import_backend(model, backend: str, generated=None):
    """Import generated/<model>/<backend>.py as part of a package; returns (module, manifest)."""
    gdir, manifest = read_manifest(model, generated)
    pkg = f"symgait_generated_{model.name}_{model.source_hash[:12]}"
    if pkg not in sys.modules:
        spec = importlib.util.spec_from_file_location(pkg, gdir / "__init__.py",
                                                      submodule_search_locations=[str(gdir)])
        mod = importlib.util.module_from_spec(spec)
        sys.modules[pkg] = mod
        spec.loader.exec_module(mod)
    if not (gdir / f"{backend}.py").exists():
        raise StaleKernelsError(f"{gdir} has no {backend}.py; run `{_generate_command(model, gdir)}`")
    return importlib.import_module(f"{pkg}.{backend}"), manifest
