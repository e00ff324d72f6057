"""Where Python writes no bytecode (PYTHONDONTWRITEBYTECODE), the generated device module's compiled
code is kept in the user cache, keyed by the source: reused unchanged, never reused for an edited
source, nothing written beside the generated code."""
from __future__ import annotations

import marshal
import sys

from symgait.runtime.loader import _BytecodeCachedLoader


def test_compiled_module_cached_by_source(tmp_path, monkeypatch):
    monkeypatch.setenv("SYMGAIT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    src = tmp_path / "gen" / "device.py"
    src.parent.mkdir()
    src.write_text("def f(x):\n    return x + 1\n")
    first = _BytecodeCachedLoader("dev", str(src)).get_code("dev")
    stored = list((tmp_path / "cache" / "bytecode").iterdir())
    assert len(stored) == 1 and marshal.loads(stored[0].read_bytes()) == first
    ns = {}
    exec(_BytecodeCachedLoader("dev", str(src)).get_code("dev"), ns)  # from the cache
    assert ns["f"](1) == 2 and ns["f"].__code__.co_filename == str(src)
    src.write_text("def f(x):\n    return x + 2\n")  # edited: a new entry, the new code
    ns = {}
    exec(_BytecodeCachedLoader("dev", str(src)).get_code("dev"), ns)
    assert ns["f"](1) == 3
    assert len(list((tmp_path / "cache" / "bytecode").iterdir())) == 2
    assert sorted(p.name for p in src.parent.iterdir()) == ["device.py"]


def test_corrupt_entry_is_recompiled(tmp_path, monkeypatch):
    monkeypatch.setenv("SYMGAIT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    src = tmp_path / "device.py"
    src.write_text("X = 5\n")
    _BytecodeCachedLoader("dev", str(src)).get_code("dev")
    (entry,) = (tmp_path / "cache" / "bytecode").iterdir()
    entry.write_bytes(b"\x00garbage")
    ns = {}
    exec(_BytecodeCachedLoader("dev", str(src)).get_code("dev"), ns)
    assert ns["X"] == 5
