"""Compiled-code caches written by several processes at once: symgait's native object cache
(symgait.runtime.native, one atomic file per entry) and Numba's own cache (``cache=True``), whose
writer (numba/core/caching.py, ``_open_for_write``) writes each index and data file under a unique
temporary name (uuid4) and renames it into place, so no process ever reads a partial file.  Real
processes, started together on an empty cache."""
from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from symgait_testing import subprocess_env

REPO = Path(__file__).resolve().parents[1]


def _run_together(code: str, env: dict, n: int = 2, timeout: float = 300):
    procs = [subprocess.Popen([sys.executable, "-c", code], cwd=REPO, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(n)]
    outs = []
    for p in procs:
        out, err = p.communicate(timeout=timeout)
        assert p.returncode == 0, err[-3000:]
        outs.append(out.strip().splitlines()[-1])
    return outs


def _env(tmp_path, **extra):
    return subprocess_env(SYMGAIT_CACHE_DIR=str(tmp_path / "cache"), **extra)


def test_numba_cache_written_by_two_processes_at_once(tmp_path):
    mod = tmp_path / "mod" / "numba_cached.py"
    mod.parent.mkdir()
    mod.write_text(textwrap.dedent('''
        import numba, numpy as np
        @numba.njit(cache=True)
        def f(x):
            s = 0.0
            for i in range(x.size):
                s += np.sin(x[i]) * i
            return s
    '''))
    code = ("import sys, numpy as np; sys.path.insert(0, %r); import numba_cached as m; "
            "x = np.linspace(0, 3, 1001); v = m.f(x); "
            "print(repr(v), sum(m.f.stats.cache_hits.values()), sum(m.f.stats.cache_misses.values()))") % str(mod.parent)
    env = _env(tmp_path, NUMBA_CACHE_DIR=str(tmp_path / "numba"))
    first = _run_together(code, env, n=3)
    x = __import__("numpy").linspace(0, 3, 1001)
    expect = float(sum(__import__("math").sin(v) * i for i, v in enumerate(x)))
    assert len({o.split()[0] for o in first}) == 1 and abs(float(first[0].split()[0]) - expect) < 1e-9
    files = [p for p in (tmp_path / "numba").rglob("*") if p.is_file()]
    assert any(p.suffix == ".nbi" for p in files) and any(p.suffix == ".nbc" for p in files)
    assert not any(".tmp." in p.name for p in files)
    (again,) = _run_together(code, env, n=1)        # a later process loads the cached code
    assert again.split() == [first[0].split()[0], "1", "0"], again    # same value, one hit, no miss


def test_native_object_cache_written_by_two_processes_at_once(tmp_path):
    code = ("import hashlib, symgait_generated, pathlib; from symgait.runtime import native; "
            "src = (pathlib.Path(symgait_generated.__path__[0]) / 'planar' / 'device.py').read_text(); "
            "d = hashlib.sha256(src.encode()).hexdigest(); "
            "args = native.compile_native(src, d, 'symgait_test_' + d[:8] + '_'); "
            "print(len(args), native._object_cache(native._key(d, native.opt_level())))")
    env = _env(tmp_path)
    outs = _run_together(code, env, n=2)
    assert outs[0] == outs[1]
    obj = Path(outs[0].split()[1])
    assert obj.is_file() and obj.with_suffix(".json").is_file()
    assert not [p for p in obj.parent.iterdir() if p.name.endswith(".tmp")]
    mtime, data = obj.stat().st_mtime_ns, obj.read_bytes()
    (again,) = _run_together(code, env, n=1)       # loaded, not compiled and written again
    assert again == outs[0] and obj.stat().st_mtime_ns == mtime and obj.read_bytes() == data
