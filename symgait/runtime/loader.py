"""Find, check and import a model's generated code (without SymPy).

Locations are :mod:`symgait.paths`'s (built-in models: the ``symgait_generated`` package; other
model files: the user cache; or an explicit ``generated`` directory). Before anything is imported,
``manifest.json`` must match the model file (its SHA-256), this symgait version, the installed
SymPy's major.minor version (read from the package metadata, SymPy is not imported) and the
SHA-256 of every generated source, so that an edited ``device.py`` is refused even where Numba's
cache of the old code exists. A directory whose generation was interrupted (no manifest, or
sources that are not the ones it records) is refused the same way. The sources are hashed once per
process and directory (again only if a file's size or mtime changes).

``model`` here is anything with ``name``, ``path`` (the model file) and ``source_hash``: a
:class:`symgait.Model`, a :class:`symgait.paths.ModelFile` or a
:class:`~symgait.runtime.generated_model.GeneratedModel`.
"""
from __future__ import annotations

import functools
import hashlib
import importlib
import importlib.machinery
import importlib.metadata
import importlib.util
import json
import marshal
import os
import sys
from pathlib import Path

from ..errors import StaleKernelsError
from ..paths import SOURCES, default_dir, generator_id, is_builtin, source_digests
from ..user_cache import cache_dir


def exec_module_spec(name: str, spec, prepare=None):
    """Create module ``name`` from ``spec``, let ``prepare(module)`` set names it needs before its code
    runs, register it in ``sys.modules`` and run it; a module whose code fails is unregistered."""
    mod = importlib.util.module_from_spec(spec)
    if prepare is not None:
        prepare(mod)
    sys.modules[name] = mod
    try:
        spec.loader.exec_module(mod)
    except BaseException:
        del sys.modules[name]
        raise
    return mod

_VERIFIED: dict = {}  # directory -> (file stamps, manifest) of code whose fingerprint matched


def generated_dir(model, generated: str | Path | None = None) -> Path:
    """The directory of ``model``'s generated code: ``generated``, or the default location."""
    return Path(generated) if generated is not None else default_dir(model)


def generate_command(model, gdir: Path) -> str:
    """The ``symgait generate`` command that (re)writes ``gdir`` for ``model``."""
    target = model.name if is_builtin(model) else model.path
    out = "" if Path(gdir) == default_dir(model) else f" --out {gdir}"
    opts = "".join(f" --{k.replace('_', '-')} {v}" for k, v in sorted(getattr(model, "import_options", {}).items()))
    return f"symgait generate {target}{opts}{out}"


@functools.lru_cache(maxsize=None)
def sympy_version() -> str:
    """The installed SymPy's version ('' if SymPy is not installed), without importing it."""
    try:
        return importlib.metadata.version("sympy")
    except importlib.metadata.PackageNotFoundError:
        return ""


def _stamps(gdir: Path) -> tuple:
    out = []
    for f in ("manifest.json",) + SOURCES:
        try:
            st = (gdir / f).stat()
            out.append((f, st.st_mtime_ns, st.st_size))
        except FileNotFoundError:
            out.append((f, None, None))
    return tuple(out)


def _major_minor(version: str) -> str:
    return ".".join(str(version).split(".")[:2])


def check_fingerprint(manifest: dict, gdir: Path, fix: str) -> None:
    """Raise :class:`StaleKernelsError` unless ``gdir``'s sources, generator and SymPy version are the
    ones ``manifest`` records (``fix``: the command that regenerates them)."""
    if manifest.get("generator") != generator_id():
        raise StaleKernelsError(f"the generated kernels in {gdir} were made by {manifest.get('generator')}, "
                                f"this is {generator_id()}; run `{fix}`")
    installed = sympy_version()
    if installed and _major_minor(manifest.get("sympy", "")) != _major_minor(installed):
        raise StaleKernelsError(f"the generated kernels in {gdir} were made with SymPy {manifest.get('sympy')}, "
                                f"this is SymPy {installed}; run `{fix}` (or install "
                                f"sympy=={_major_minor(manifest.get('sympy', ''))}.*)")
    recorded = manifest.get("sources")
    if not isinstance(recorded, dict):
        raise StaleKernelsError(f"{gdir / 'manifest.json'} records no source hashes (an older generator); "
                                f"run `{fix}`")
    actual = source_digests(gdir)
    for f in SOURCES:
        if f not in actual:
            raise StaleKernelsError(f"{gdir} has no {f}; run `{fix}`")
        if actual[f] != recorded.get(f):
            raise StaleKernelsError(f"{gdir / f} was changed after generation (its SHA-256 is not the one in "
                                    f"manifest.json); generated code is not to be edited: run `{fix}`")


def _load_manifest(mpath: Path, fix: str) -> dict:
    try:
        manifest = json.loads(mpath.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise StaleKernelsError(f"{mpath} is corrupt ({e}); run `{fix}`") from None
    if not isinstance(manifest, dict):
        raise StaleKernelsError(f"{mpath} is corrupt (not a JSON object); run `{fix}`")
    return manifest


def read_manifest(model, generated=None) -> tuple[Path, dict]:
    """(directory, manifest) of ``model``'s generated code, after the checks above."""
    gdir = generated_dir(model, generated)
    fix = generate_command(model, gdir)
    mpath = gdir / "manifest.json"
    if not mpath.exists():
        raise StaleKernelsError(f"no generated kernels for model {model.name!r} in {gdir}; run `{fix}`")
    key, stamps = gdir.resolve(), _stamps(gdir)
    hit = _VERIFIED.get(key)
    fresh = hit is None or hit[0] != stamps
    manifest = _load_manifest(mpath, fix) if fresh else hit[1]
    if manifest.get("model_sha256") != model.source_hash:
        raise StaleKernelsError(
            f"the generated kernels in {gdir} were made from a different version of {model.path} "
            f"(model file changed since generation); run `{fix}`")
    if fresh:
        check_fingerprint(manifest, gdir, fix)
        _VERIFIED[key] = (stamps, manifest)
    return gdir, manifest


class _BytecodeCachedLoader(importlib.machinery.SourceFileLoader):
    """Python's source loader, except where bytecode is not written (``PYTHONDONTWRITEBYTECODE``,
    ``sys.dont_write_bytecode``): then the compiled module is kept in the user cache
    (``<cache>/bytecode/``, keyed by the source's SHA-256 and the interpreter), since compiling a
    large generated ``device.py`` costs more than a second at every start otherwise. Nothing is
    written beside the generated code."""

    def get_code(self, fullname):
        if not sys.dont_write_bytecode:
            return super().get_code(fullname)
        data = self.get_data(self.path)
        key = hashlib.sha256(data + self.path.encode()).hexdigest()[:24]
        path = cache_dir() / "bytecode" / f"{key}.{sys.implementation.cache_tag}.marshal"
        try:
            code = marshal.loads(path.read_bytes())
            if isinstance(code, type(_BytecodeCachedLoader.get_code.__code__)):
                return code
        except (OSError, ValueError, EOFError, TypeError):
            pass
        code = compile(data, self.path, "exec", dont_inherit=True)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
            tmp.write_bytes(marshal.dumps(code))
            os.replace(tmp, path)
        except OSError:  # a read-only cache only costs the compile next time
            pass
        return code


def import_generated(model, generated=None):
    """Import the generated package of ``model`` (its ``device`` and ``model_data`` modules); returns
    (package module, manifest)."""
    gdir, manifest = read_manifest(model, generated)
    # one package per model version and directory: the same model generated into two places (a test's
    # copy, a user cache) is imported, and its loops compiled, from the directory asked for
    where = hashlib.sha256(str(gdir.resolve()).encode()).hexdigest()[:8]
    pkg = f"symgait_generated_{model.name}_{model.source_hash[:12]}_{where}"
    if pkg not in sys.modules:
        spec = importlib.util.spec_from_file_location(pkg, gdir / "__init__.py",
                                                      submodule_search_locations=[str(gdir)])
        mod = importlib.util.module_from_spec(spec)
        sys.modules[pkg] = mod
        spec.loader.exec_module(mod)
    sub = f"{pkg}.device"
    if sub not in sys.modules:
        path = str(gdir / "device.py")
        spec = importlib.util.spec_from_file_location(sub, path, loader=_BytecodeCachedLoader(sub, path))
        mod = exec_module_spec(sub, spec)
        setattr(sys.modules[pkg], "device", mod)
    importlib.import_module(f"{pkg}.model_data")
    return sys.modules[pkg], manifest
