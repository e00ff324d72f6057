"""Where things live: model files and their generated code (with the fingerprint a ``manifest.json``
records), and the public data set (:func:`default_data_dir`).

No SymPy here: the runtime finds and checks generated code with this module alone.

- Built-in models (``symgait/models/*.yaml``, :data:`BUILTIN_MODELS`): their generated code is the
  package ``symgait_generated`` (the repository's ``generated/`` directory, shipped in the wheel),
  found through :mod:`importlib.resources`.
- Any other model file: the user cache, ``<cache>/generated/<name>-<hash12>/``, where ``<cache>`` is
  :func:`symgait.user_cache.cache_dir` (``$SYMGAIT_CACHE_DIR``, default ``~/.cache/symgait``) and
  ``<hash12>`` starts the SHA-256 of the model file's absolute path (two files with the same
  ``name`` never share a directory; a user file named like a built-in never touches the package).

The functions that take a ``model`` read its ``name``, ``path`` (the model file) and
``source_hash`` (:func:`model_file_hash` of the file's text): a :class:`symgait.Model`, a
:class:`ModelFile` or the runtime's :class:`~symgait.runtime.generated_model.GeneratedModel`.

The manifest records the generator (``symgait X.Y.Z (generator <sha12>)``), the SymPy version and
the SHA-256 of each generated source; :mod:`symgait.runtime.loader` refuses code whose record does
not match.
"""
from __future__ import annotations

import functools
import hashlib
import importlib.resources
import os
import re
from dataclasses import dataclass
from pathlib import Path

from ._version import __version__
from .errors import ModelError, StaleKernelsError
from .user_cache import cache_dir

MODELS_DIR = Path(__file__).resolve().parent / "models"
BUILTIN_MODELS = ("planar", "gait3d", "fullbody")
BUILTIN_PACKAGE = "symgait_generated"
SOURCES = ("__init__.py", "device.py", "model_data.py")  # hashed into manifest.json


def builtin_model_path(name: str) -> Path:
    return MODELS_DIR / f"{name}.yaml"


MODEL_SUFFIXES = (".yaml", ".yml", ".urdf", ".xml", ".mjcf")  # model files, by reader: model.parse.load_spec


def resolve_model_path(name_or_path) -> Path:
    """The model file of a built-in name or a path (a name with a model file's suffix, or any existing file)."""
    p = Path(str(name_or_path))
    if p.suffix.lower() in MODEL_SUFFIXES or p.exists():
        if not p.exists():
            raise ModelError(f"model file {p} does not exist")
        return p.resolve()
    b = builtin_model_path(str(name_or_path))
    if b.exists():
        return b
    avail = sorted(x.stem for x in MODELS_DIR.glob("*.yaml"))
    raise ModelError(f"unknown model {name_or_path!r}: give a path to a model file (.yaml, .urdf, MJCF .xml) or "
                     f"one of the built-in models {avail}")


def default_data_dir() -> Path:
    """Where the public data set lives: ``$SYMGAIT_DATA``, else ``../shared/data`` beside the
    repository (it is never part of it)."""
    env = os.environ.get("SYMGAIT_DATA")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[1].parent / "shared" / "data"


def _options_text(options) -> str:
    """The reader options of an imported model (e.g. ``floating_root='euler'``) as text, '' for none."""
    return "".join(f"\0{k}={options[k]}" for k in sorted(options or {}))


def model_file_hash(text: str, options: dict | None = None) -> str:
    """SHA-256 of a model file's text (as read with universal newlines) and of the reader options that
    changed the model (none for a YAML file): generated code records it."""
    return hashlib.sha256((text + _options_text(options)).encode()).hexdigest()


@dataclass(frozen=True)
class ModelFile:
    """A model file as the generated code knows it: the model's name, the file's path and the
    SHA-256 of its text (what a manifest records), without parsing it."""
    name: str
    path: str
    source_hash: str


def builtin_model_file(name: str) -> ModelFile:
    """The :class:`ModelFile` of built-in model ``name`` (one of :data:`BUILTIN_MODELS`)."""
    path = builtin_model_path(name)
    return ModelFile(name, str(path), model_file_hash(path.read_text()))


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
    return model.name in BUILTIN_MODELS and Path(model.path).resolve() == builtin_model_path(model.name).resolve()


def user_dir(model) -> Path:
    """Default directory of a user model's generated code in the user cache (one per file and reader
    options: an imported file read with ``floating_root='euler'`` has its own)."""
    opts = _options_text(getattr(model, "import_options", None))
    key = hashlib.sha256((str(Path(model.path).resolve()) + opts).encode()).hexdigest()[:12]
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
