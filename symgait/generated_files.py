"""Where a model's generated code lives, and the fingerprint its ``manifest.json`` records.

- Built-in models (``symgait/models/*.yaml``): the package ``symgait_generated`` (the repository's
  ``generated/`` directory, shipped in the wheel), found through :mod:`importlib.resources`.
- Any other model file: the user cache, ``<cache>/generated/<name>-<hash12>/``, where ``<cache>`` is
  :func:`symgait.user_cache.cache_dir` (``$SYMGAIT_CACHE_DIR``, default ``~/.cache/symgait``) and
  ``<hash12>`` starts the SHA-256 of the model file's absolute path (two files with the same
  ``name`` never share a directory; a user file named like a built-in never touches the package).

The manifest records the generator (``symgait X.Y.Z``), the SymPy version and the SHA-256 of each
generated source; :mod:`symgait.runtime.loader` refuses code whose record does not match.
"""
from __future__ import annotations

import functools
import hashlib
import importlib.resources
import re
from pathlib import Path

from .errors import StaleKernelsError
from .user_cache import cache_dir

BUILTIN_PACKAGE = "symgait_generated"
SOURCES = ("__init__.py", "cpu.py", "cuda.py", "device.py")  # hashed into manifest.json

def builtin_root() -> Path:
    """Directory of the ``symgait_generated`` package (one sub-directory per built-in model)."""
    try:
        root = importlib.resources.files(BUILTIN_PACKAGE)
    except ModuleNotFoundError:
        raise StaleKernelsError(f"the package {BUILTIN_PACKAGE!r} (generated code of the built-in models) is not "
                                "installed; reinstall symgait (`pip install -e .` in a checkout)") from None
    if not isinstance(root, Path):
        raise StaleKernelsError(f"{BUILTIN_PACKAGE} is not installed as plain files ({root}); the kernels are "
                                "compiled from source files: install symgait unzipped (pip install)")
    return root


def is_builtin(model) -> bool:
    """True for the model files shipped in ``symgait/models`` (not for user files that reuse a name)."""
    from .model import BUILTIN_MODELS, builtin_model_path
    path = Path(model.spec.path)
    return model.name in BUILTIN_MODELS and path.resolve() == builtin_model_path(model.name).resolve()


def user_dir(model) -> Path:
    """Default directory of a user model's generated code in the user cache."""
    key = hashlib.sha256(str(Path(model.spec.path).resolve()).encode()).hexdigest()[:12]
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", model.name)
    return cache_dir() / "generated" / f"{safe}-{key}"


def default_dir(model) -> Path:
    """Where ``symgait generate`` writes and the loader looks by default."""
    return builtin_root() / model.name if is_builtin(model) else user_dir(model)


@functools.lru_cache(maxsize=None)
def generator_id() -> str:
    """``symgait <version> (generator <sha12>)``: the version and a SHA-256 of the generator's own
    sources (symgait/symbolic and symgait/codegen), so that code written by an older generator of the
    same version (a user cache from before an upgrade of a development checkout) is stale too."""
    from . import __version__
    pkg = Path(__file__).resolve().parent
    h = hashlib.sha256()
    for sub in ("symbolic", "codegen"):
        for f in sorted((pkg / sub).glob("*.py")):
            h.update(f"{sub}/{f.name}\0".encode())
            h.update(f.read_bytes())
    return f"symgait {__version__} (generator {h.hexdigest()[:12]})"


def source_digests(directory) -> dict:
    """{file name: SHA-256 of its bytes} for the generated sources present in ``directory``."""
    d = Path(directory)
    return {f: hashlib.sha256((d / f).read_bytes()).hexdigest() for f in SOURCES if (d / f).exists()}
