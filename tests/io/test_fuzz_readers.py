"""Readers fuzzed: real files of the shared data, mutated in memory (truncation, byte flips, header
counts, column counts, NaN/inf, huge counts, removed and repeated lines), written to tmp_path and
read. Every outcome must be a valid result (shapes consistent with the header it reports, finite
where the reader promises it) or a :class:`SymgaitError` whose message names the file -- never
another exception, never a hang (a per-case alarm), never fewer rows than the header announces
without an error or a warning naming both numbers.

``python tests/io/test_fuzz_readers.py`` prints the counts per reader (docs/reliability.md).
"""
from __future__ import annotations

import faulthandler
import math
import os
import re
import signal
import sys
import warnings
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

if __name__ == "__main__":  # run as a script: the repository and tests/ first on the path
    sys.path[:0] = [str(Path(__file__).resolve().parents[2]), str(Path(__file__).resolve().parents[1])]

from symgait.errors import SymgaitError  # noqa: E402
from symgait_testing import DATA, example_robot_file  # noqa: E402

CASES = 300          # per reader
SEED = 20240601
TIMEOUT_S = 5.0      # per case (a hang fails the case)

SEEDS = {  # reader -> file of the shared data
    "trc": "opensim/gait2354_subject01_walk1/subject01_walk1.trc",
    "mot": "opensim/gait2354_subject01_walk1/subject01_walk1_grf.mot",
    "sto": "opensim/gait10dof_subject01_walk/subject01_walk_ID.sto",
    "external_loads": "opensim/gait2354_subject01_walk1/subject01_walk1_grf.xml",
    "osim": "opensim/gait10dof_subject01_walk/subject01.osim",
    "asf": "cmu/subject08/08.asf",
    "amc": "cmu/subject08/08_01.amc",
    "c3d": "more/c3dio/tests/c3d_org_samples/sample_02/pc_real.c3d",
    "bvh": None,  # no BVH in the shared data: CMU subject 08's walk written as BVH (see _bvh_seed)
    "urdf": None,  # example-robot-data's UR5 (the pip package the URDF import is tested against)
}
URDF_SEED = "ur_description/urdf/ur5_robot.urdf"


class Hang(Exception):
    pass


def _alarm(signum, frame):
    raise Hang()


# --- seeds: real files, shortened to a few dozen frames with their header counts kept consistent ---
def _shorten_table(text: str, rows: int) -> str:
    lines = text.splitlines()
    end = next(i for i, l in enumerate(lines) if l.strip().lower() == "endheader")
    out = lines[:end + 2] + lines[end + 2:end + 2 + rows]
    return "\n".join(re.sub(r"^nRows=\d+", f"nRows={rows}", l) for l in out) + "\n"


def _shorten_trc(text: str, rows: int) -> str:
    lines = text.splitlines()
    keys, vals = lines[1].split("\t"), lines[2].split("\t")
    for k in ("NumFrames", "OrigNumFrames"):
        if k in keys:
            vals[keys.index(k)] = str(rows)
    body = [l for l in lines[5:] if l.strip()][:rows]
    return "\n".join(lines[:2] + ["\t".join(vals)] + lines[3:5] + body) + "\n"


def _shorten_amc(text: str, frames: int) -> str:
    out, n = [], 0
    for line in text.splitlines():
        if line.strip().isdigit():
            n += 1
            if n > frames:
                break
        out.append(line)
    return "\n".join(out) + "\n"


def _bvh_seed(tmp: Path) -> bytes:
    """A BVH of CMU subject 08's walk 08_01 (15 frames): the ASF bones as joints (offset: the parent
    bone's vector, End Sites at the leaves), the AMC rotations as channels (the ASF axis
    rotations are left out), written by :func:`symgait.io.write_bvh`."""
    from symgait.io import BVH, BVHJoint, read_amc, read_asf, write_bvh
    sk = read_asf(DATA / SEEDS["asf"])
    amc = tmp / "seed.amc"
    amc.write_text(_shorten_amc((DATA / SEEDS["amc"]).read_text(), 15))
    mo = read_amc(amc, sk)
    rot = {"rx": "Xrotation", "ry": "Yrotation", "rz": "Zrotation"}
    root_ch = tuple({"tx": "Xposition", "ty": "Yposition", "tz": "Zposition", **rot}[c] for c in sk.root_order)
    joints, cols, index = [BVHJoint("root", -1, np.zeros(3), root_ch)], [mo.values["root"]], {"root": 0}
    children = sk.children
    for name in sk.order():
        bone, par = sk.bones[name], sk.parent[name]
        off = np.zeros(3) if par == "root" else sk.bones[par].direction * sk.bones[par].length
        chans = tuple(rot[d] for d in bone.dof if d in rot)
        index[name] = len(joints)
        joints.append(BVHJoint(name, index[par], off, chans))
        if chans:
            cols.append(mo.values[name][:, [k for k, d in enumerate(bone.dof) if d in rot]])
        if not children.get(name):
            joints.append(BVHJoint(f"{name}_end", index[name], bone.direction * bone.length, (), end_site=True))
    out = tmp / "seed.bvh"
    write_bvh(out, BVH(joints=tuple(joints), motion=np.concatenate(cols, axis=1), frame_time=1 / 120),
              precision=6)
    return out.read_bytes()


def seed_bytes(name: str, tmp: Path) -> bytes:
    if name == "bvh":
        return _bvh_seed(tmp)
    if name == "urdf":
        return example_robot_file(URDF_SEED).read_bytes()
    raw = (DATA / SEEDS[name]).read_bytes()
    if name == "trc":
        return _shorten_trc(raw.decode("latin-1"), 40).encode("latin-1")
    if name in ("mot", "sto"):
        return _shorten_table(raw.decode("latin-1"), 40).encode("latin-1")
    if name == "amc":
        return _shorten_amc(raw.decode("latin-1"), 15).encode("latin-1")
    return raw


# --- mutations --------------------------------------------------------------------------------------
_NUM = re.compile(rb"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")
_SPECIAL = [b"nan", b"NaN", b"inf", b"-inf", b"1e999", b"", b"abc", b"0", b"-1", b"999999999999",
            b"1e308", b"-0", b"2147483648", b"4294967297"]


def mutate(data: bytes, rng: np.random.Generator, binary: bool) -> tuple[str, bytes]:
    kind = rng.choice(["truncate", "flip", "number", "header", "line", "column"] if not binary else
                      ["truncate", "flip", "flip_header", "word_header", "huge_word"])
    b = bytearray(data)
    n = len(b)
    if kind == "truncate":
        return kind, bytes(b[:int(rng.integers(0, n))])
    if kind == "flip":
        for _ in range(int(rng.integers(1, 6))):
            b[int(rng.integers(0, n))] = int(rng.integers(0, 256))
        return kind, bytes(b)
    if kind == "flip_header":  # the header and parameter blocks of a C3D
        for _ in range(int(rng.integers(1, 4))):
            b[int(rng.integers(0, min(n, 512 * 8)))] = int(rng.integers(0, 256))
        return kind, bytes(b)
    if kind in ("word_header", "huge_word"):  # a 16-bit header word (counts, frame range, block)
        k = int(rng.integers(0, 12)) * 2
        v = int(rng.choice([0, 1, 0xFFFF, 0x7FFF, int(rng.integers(0, 0x10000))])) if kind == "word_header" \
            else 0xFFFF
        b[k:k + 2] = v.to_bytes(2, "little")
        return kind, bytes(b)
    text = bytes(b)
    if kind in ("number", "header"):
        # header: a number in the first lines (counts, rates, units); number: anywhere
        limit = len(text) if kind == "number" else sum(len(x) + 1 for x in text.split(b"\n")[:8])
        nums = [m for m in _NUM.finditer(text) if m.start() < limit]
        if not nums:
            return kind, text
        for _ in range(int(rng.integers(1, 3))):
            m = nums[int(rng.integers(0, len(nums)))]
            new = _SPECIAL[int(rng.integers(0, len(_SPECIAL)))] if rng.random() < 0.7 else \
                str(int(m.group()) * int(rng.integers(2, 10)) if m.group().lstrip(b"-").isdigit()
                    else float(m.group()) * -1).encode()
            text = text[:m.start()] + new + text[m.end():]
            nums = [x for x in _NUM.finditer(text) if x.start() < limit]
            if not nums:
                break
        return kind, text
    lines = text.split(b"\n")
    i = int(rng.integers(0, len(lines)))
    if kind == "line":
        op = rng.choice(["drop", "repeat", "swap"])
        if op == "drop":
            del lines[i]
        elif op == "repeat":
            lines.insert(i, lines[i])
        else:
            j = int(rng.integers(0, len(lines)))
            lines[i], lines[j] = lines[j], lines[i]
        return kind, b"\n".join(lines)
    # column: drop or add one field of a line
    sep = b"\t" if b"\t" in lines[i] else b" "
    parts = lines[i].split(sep)
    if len(parts) > 1 and rng.random() < 0.5:
        del parts[int(rng.integers(0, len(parts)))]
    else:
        parts.insert(int(rng.integers(0, len(parts) + 1)), b"1.5")
    lines[i] = sep.join(parts)
    return kind, b"\n".join(lines)


# --- readers and what a valid result must satisfy ------------------------------------------------------
def _finite(x, what):
    assert np.all(np.isfinite(np.asarray(x, dtype=float))), f"non-finite {what}"


def _table_header_rows(header):
    return int(float(header["nRows"])) if "nRows" in header else None


def check_table(t, _):
    assert t.data.shape == (len(t.time), len(t.names)), "data shape differs from time x names"
    _finite(t.time, "time")
    assert not np.isinf(t.data).any(), "infinite values"
    n = _table_header_rows(t.header)
    if n is not None:
        assert n == len(t.time), f"header nRows={n} but {len(t.time)} rows returned"


def check_trc(m, caught):
    T = len(m.time)
    assert m.positions.shape == (T, len(m.names), 3) and len(m.frames) == T
    _finite(m.time, "time")
    assert math.isfinite(m.rate) and m.rate > 0
    assert not np.isinf(m.positions).any(), "infinite positions"
    assert np.all(np.diff(m.time) > 0), "times do not increase"
    n = _trc_header_frames(m.path)
    if n is not None and n != T:  # the rows win only when contiguous, and say so
        assert np.all(np.diff(m.frames) == 1), f"NumFrames={n} but {T} rows with frame numbers skipping"
        assert any(f"NumFrames={n} but {T} rows" in str(w.message) for w in caught), \
            f"NumFrames={n} but {T} rows without a warning naming both"


def _trc_header_frames(path):
    lines = Path(path).read_bytes().decode("latin-1").splitlines()
    meta = dict(zip((k.strip() for k in lines[1].split("\t")), (v.strip() for v in lines[2].split("\t"))))
    try:
        return int(meta["NumFrames"])
    except (KeyError, ValueError):
        return None


def check_loads(el, _):
    for f in el:
        assert f.applied_to_body and f.force_identifier


def check_osim(m, _):
    for b in m.bodies.values():
        _finite([b.mass, *b.mass_center, *b.inertia], f"body {b.name}")
        assert b.mass >= 0
    for j in m.joints:
        assert j.parent_body == m.ground or j.parent_body in m.bodies
        assert j.child_body in m.bodies


def check_urdf(spec, _):
    """An imported model: at least one coordinate, every frame's parent before it, finite positive
    masses and finite inertias (its bodies are constants: an imported model has no parameters)."""
    assert spec.nq >= 1
    for i, f in enumerate(spec.frames):
        assert f.parent < i
    for b in spec.bodies:
        _finite([float(b.mass), *(float(x) for x in b.inertia), *(float(x) for x in b.com)], f"body {b.name}")
        assert float(b.mass) > 0


def check_asf(sk, _):
    for name in sk.order():
        assert name in sk.bones
    for b in sk.bones.values():
        _finite(b.direction, f"bone {b.name} direction")
        _finite([b.length], f"bone {b.name} length")


def check_amc(mo, _):
    for k, v in mo.values.items():
        assert np.asarray(v).shape[0] == mo.n_frames, f"{k}: rows differ from frames"
        _finite(v, f"channel {k}")


def check_bvh(b, _):
    nch = sum(len(j.channels) for j in b.joints)
    assert b.motion.shape[1] == nch
    _finite(b.motion, "motion")
    assert math.isfinite(b.frame_time) and b.frame_time > 0


def check_c3d(c, _):
    T = len(c.time)
    assert c.markers.shape[0] == T and c.markers.shape[2] == 3
    _finite(c.time, "time")
    assert math.isfinite(c.point_rate) and c.point_rate > 0
    assert c.analogs.shape[0] == len(c.analog_time)
    for pl in c.plates:
        assert len(pl.force) == len(pl.time)


def _readers(tmp: Path):
    from symgait.io import read_amc, read_asf, read_bvh, read_external_loads, read_mot, read_osim, \
        read_sto, read_trc
    from symgait.io.c3d import read_c3d
    from symgait.model.parse import load_spec
    skel = read_asf(DATA / SEEDS["asf"])
    return {
        "trc": (read_trc, check_trc, ".trc"),
        "mot": (read_mot, check_table, ".mot"),
        "sto": (read_sto, check_table, ".sto"),
        "external_loads": (read_external_loads, check_loads, ".xml"),
        "osim": (read_osim, check_osim, ".osim"),
        "asf": (read_asf, check_asf, ".asf"),
        "amc": (lambda p: read_amc(p, skel), check_amc, ".amc"),
        "bvh": (read_bvh, check_bvh, ".bvh"),
        "c3d": (lambda p: read_c3d(p, check_units=False), check_c3d, ".c3d"),
        "urdf": (load_spec, check_urdf, ".urdf"),
    }


def run_case(reader, check, path: Path) -> str:
    """'valid' or 'error'; raises AssertionError describing a crash, a hang or a bad result."""
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, TIMEOUT_S)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            res = reader(path)
        check(res, caught)
        return "valid"
    except SymgaitError as e:
        assert path.name in str(e), f"{type(e).__name__} does not name the file: {e}"
        return "error"
    except Hang:
        raise AssertionError(f"no result after {TIMEOUT_S} s") from None
    except AssertionError:
        raise
    except BaseException as e:  # noqa: BLE001 -- any other exception is a finding
        raise AssertionError(f"{type(e).__name__}: {str(e)[:300]}") from None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def _forked(fn, timeout: float) -> str:
    """``fn()`` in a forked child (a native reader may crash the process): its outcome, or why it died."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover -- child
        os.close(r)
        faulthandler.disable()  # a native crash is reported by the parent, without a dump
        try:
            msg = fn()
        except AssertionError as e:
            msg = "crash: " + str(e)
        except BaseException as e:  # noqa: BLE001
            msg = f"crash: {type(e).__name__}: {e}"
        os.write(w, msg.encode()[:4000])
        os._exit(0)
    os.close(w)
    chunks = []
    while True:
        c = os.read(r, 4096)
        if not c:
            break
        chunks.append(c)
    os.close(r)
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        return f"crash: the process died of signal {os.WTERMSIG(status)}"
    return b"".join(chunks).decode() or "crash: no outcome"


def fuzz(name: str, tmp: Path, cases: int = CASES):
    """Counter of outcomes ('valid', 'error') and the list of findings (case, mutation, message)."""
    reader, check, ext = _readers(tmp)[name]
    data = seed_bytes(name, tmp)
    assert run_case(reader, check, _write(tmp, f"seed{ext}", data)) == "valid", "the seed must read"
    rng = np.random.default_rng([SEED, sum(name.encode())])
    counts, findings = Counter(), []
    for k in range(cases):
        kind, mutated = mutate(data, rng, binary=name == "c3d")
        path = _write(tmp, f"case{k:03d}_{kind}{ext}", mutated)
        if name == "c3d":
            out = _forked(lambda: run_case(reader, check, path), TIMEOUT_S)
        else:
            try:
                out = run_case(reader, check, path)
            except AssertionError as e:
                out = f"crash: {e}"
        if out.startswith("crash"):
            findings.append((k, kind, out))
            counts["crash"] += 1
        else:
            counts[out] += 1
        path.unlink()
    return counts, findings


def _write(tmp: Path, name: str, data: bytes) -> Path:
    p = tmp / name
    p.write_bytes(data)
    return p


@pytest.mark.parametrize("name", list(SEEDS))
def test_reader_survives_fuzzing(tmp_path, name):
    if SEEDS[name] is not None and not (DATA / SEEDS[name]).exists():
        pytest.skip(f"shared data {SEEDS[name]} not found under {DATA}")
    if name == "bvh" and not (DATA / SEEDS["asf"]).exists():
        pytest.skip(f"shared data {SEEDS['asf']} not found under {DATA}")
    if name == "c3d":
        pytest.importorskip("ezc3d")
    if name == "urdf":
        example_robot_file(URDF_SEED)  # skips where example-robot-data is absent
    counts, findings = fuzz(name, tmp_path)
    # a crash of the native C3D parser (ezc3d) would kill the process: the reader checks the parameter
    # section in Python first (symgait.io.c3d.check_parameter_section), so none may remain
    assert not findings, f"{len(findings)} of {CASES} cases: " + "; ".join(
        f"case {k} ({kind}): {msg}" for k, kind, msg in findings[:5])
    assert counts["valid"] + counts["error"] == CASES


if __name__ == "__main__":
    import tempfile
    import time
    print("| reader | cases | valid results | clean errors | crashes | seconds |")
    print("|---|---|---|---|---|---|")
    for name in (sys.argv[1:] or SEEDS):
        with tempfile.TemporaryDirectory() as d:
            t0 = time.perf_counter()
            counts, findings = fuzz(name, Path(d))
            dt = time.perf_counter() - t0
        print(f"| {name} | {CASES} | {counts['valid']} | {counts['error']} | {counts['crash']} | {dt:.1f} |")
        for k, kind, msg in findings:
            print(f"    case {k} ({kind}): {msg[:300]}", file=sys.stderr)
