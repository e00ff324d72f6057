"""Outputs are written whole or not at all (symgait.atomic): concurrent writers and readers of one
file, a full disk (ENOSPC raised by the write), a folder that cannot be written (a path under a
regular file, or under /sys, which even root cannot write); and every command checks its output
before its work starts."""
from __future__ import annotations

import errno
import multiprocessing as mp
import os
from pathlib import Path

import numpy as np
import pytest

from symgait.atomic import (OutputError, atomic_write, check_output_file, check_output_folder,
                            write_bytes, write_text)
from symgait.io.errors import DataFormatError
from symgait.trials.sequence import Sequence


def _leftovers(folder: Path) -> list:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def _writer(path: str, byte: int, n: int) -> None:
    for _ in range(n):
        write_bytes(path, bytes([byte]) * 200_000)


def test_concurrent_writers_and_a_reader_see_only_whole_files(tmp_path):
    """Two processes rewrite one file 100 times each (200 kB, one byte value each) while this one
    reads it: every read is one writer's complete content."""
    path = tmp_path / "f.bin"
    write_bytes(path, b"\0" * 200_000)
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(str(path), b, 100)) for b in (1, 2)]
    for p in procs:
        p.start()
    reads = 0
    while any(p.is_alive() for p in procs) or reads < 10:
        data = path.read_bytes()
        assert len(data) == 200_000 and len(set(data)) == 1, (len(data), set(data[:10]))
        reads += 1
    for p in procs:
        p.join()
        assert p.exitcode == 0
    assert path.read_bytes()[0] in (1, 2) and _leftovers(tmp_path) == []


def test_full_disk_leaves_the_previous_file_and_no_partial_one(tmp_path, monkeypatch):
    """ENOSPC raised halfway through writing a sequence: an OutputError naming the file, the cause
    and the fix; the earlier complete file is untouched and no temporary file is left."""
    seq = _sequence()
    path = tmp_path / "s.npz"
    seq.save(path)
    before = path.read_bytes()

    def full_disk(f, **arrays):
        f.write(b"PK\x03\x04" + b"x" * 1000)       # part of a zip, then the disk is full
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    monkeypatch.setattr(np, "savez_compressed", full_disk)
    with pytest.raises(OutputError) as e:
        seq.save(path)
    msg = str(e.value)
    assert str(path) in msg and "No space left on device" in msg and "free space" in msg
    assert e.value.errno == errno.ENOSPC and isinstance(e.value, OSError)
    assert path.read_bytes() == before and _leftovers(tmp_path) == []
    # a new file: none at all
    with pytest.raises(OutputError):
        seq.save(tmp_path / "new.npz")
    assert not (tmp_path / "new.npz").exists() and _leftovers(tmp_path) == []


def test_failure_at_flush_leaves_no_file(tmp_path, monkeypatch):
    """A full disk reported when the data reach the disk (fsync), as with delayed allocation."""
    def no_space(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    monkeypatch.setattr(os, "fsync", no_space)
    with pytest.raises(OutputError, match="No space left on device"):
        write_text(tmp_path / "metrics.json", "{}")
    assert list(tmp_path.iterdir()) == []


def test_an_exception_inside_the_block_leaves_no_file(tmp_path):
    with pytest.raises(KeyError):
        with atomic_write(tmp_path / "a.txt", "w") as f:
            f.write("half")
            raise KeyError("x")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("where", ["under_a_file", "sys"])
def test_unwritable_folder_is_refused_up_front(tmp_path, where):
    if where == "under_a_file":
        (tmp_path / "plain").write_text("a regular file")
        folder = tmp_path / "plain" / "out"
    else:
        if not Path("/sys/kernel").is_dir():
            pytest.skip("no /sys on this system")
        folder = Path("/sys/kernel/symgait-out")
    with pytest.raises(OutputError) as e:
        check_output_folder(folder)
    assert str(folder) in str(e.value) and "--out" in str(e.value)
    with pytest.raises(OutputError) as e:
        check_output_file(folder / "x.csv")
    assert "--out" in str(e.value)
    with pytest.raises(OutputError) as e:
        write_text(folder / "x.json", "{}")
    assert str(folder / "x.json") in str(e.value)
    assert not folder.exists()


def test_check_output_folder_and_file(tmp_path):
    d = check_output_folder(tmp_path / "a" / "b")
    assert d.is_dir() and list(d.iterdir()) == []                # created; the probe is removed
    (tmp_path / "f").write_text("x")
    with pytest.raises(OutputError, match="is a file, not a folder"):
        check_output_folder(tmp_path / "f")
    with pytest.raises(OutputError, match="is a folder; give a file name"):
        check_output_file(tmp_path)
    assert check_output_file(tmp_path / "c" / "out.csv") == tmp_path / "c" / "out.csv"
    if Path("/sys/kernel").is_dir():   # exists, but nothing can be written in it
        with pytest.raises(OutputError, match="cannot write in the folder /sys/kernel"):
            check_output_folder("/sys/kernel")


def _sequence(T=30):
    rng = np.random.default_rng(0)
    return Sequence(name="s", model="planar", rate=100.0, time=np.arange(T) / 100, q=rng.normal(size=(T, 3)),
                    qd=rng.normal(size=(T, 3)), qdd=rng.normal(size=(T, 3)), w=rng.normal(size=(T, 2, 6)),
                    tau=rng.normal(size=(T, 3)), contact=rng.random((T, 2)) > 0.5, p=rng.normal(size=5),
                    mass=70.0, height=1.8, source="test", label_kind="measured", coordinates=("a", "b", "c"),
                    contacts=("l", "r"), actuated=("c",))


def test_sequence_file_damage_is_detected(tmp_path):
    seq = _sequence()
    path = seq.save(tmp_path / "s.npz")
    back = Sequence.load(path)
    assert all(np.array_equal(getattr(back, k), getattr(seq, k)) for k in ("q", "w", "contact", "p"))
    data = path.read_bytes()
    (tmp_path / "cut.npz").write_bytes(data[: len(data) // 2])        # truncated
    with pytest.raises(DataFormatError, match="cut.npz"):
        Sequence.load(tmp_path / "cut.npz")
    # a well-formed file whose arrays do not match the hash recorded with them
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    arrays["q"] = arrays["q"].copy()
    arrays["q"][3, 1] += 1e-9
    np.savez_compressed(tmp_path / "changed.npz", **arrays)
    with pytest.raises(DataFormatError, match="SHA-256"):
        Sequence.load(tmp_path / "changed.npz")


def test_commands_check_their_output_before_working(tmp_path, capsys):
    """Each command given an output under a regular file stops at once (before reading its
    inputs, which do not exist here) with exit status 2 and a message naming the path."""
    from symgait.cli import main as symgait_main
    from training.cli import main as training_main
    (tmp_path / "plain").write_text("x")
    bad = tmp_path / "plain" / "out"
    cases = [(symgait_main, ["id", "missing.trc", "--mass", "70", "--height", "1.8", "--out", f"{bad}/a.csv"]),
             (symgait_main, ["generate", "planar", "--out", str(bad)]),
             (symgait_main, ["dataset", "--data", str(tmp_path), "--out", str(bad)]),
             (training_main, ["dataset", "--data", str(tmp_path), "--out", str(tmp_path / "ok"),
                              "--cache", str(bad)]),
             (training_main, ["train", "--config", "tiny", "--out", str(bad)]),
             (training_main, ["evaluate", "--checkpoint", "missing.pt", "--out", str(bad)]),
             (training_main, ["predict", "--checkpoint", "missing.pt", "--motion", "missing.trc",
                              "--mass", "70", "--out", f"{bad}/p.csv"])]
    for main, argv in cases:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert str(tmp_path / "plain") in err and "is a file, not a folder" in err, (argv, err)


def test_ctrl_c_during_a_checkpoint_write_arrives_after_the_file_is_whole(tmp_path):
    """SIGINT raised in the middle of ``training.checkpoint.save`` (here: from inside torch.save's
    pickling) is held back until the file is complete, then delivered as KeyboardInterrupt; the
    checkpoint loads. Without the deferral PyTorch's zip writer turns it into a RuntimeError."""
    import os
    import signal

    import torch

    from symgait.atomic import deferred_interrupt
    from training.checkpoint import save

    class Interrupting:
        def __reduce__(self):          # pickled inside torch.save: the signal comes mid-write
            os.kill(os.getpid(), signal.SIGINT)
            return (dict, ())

    path = tmp_path / "last.pt"
    # Python's own handler, as in a command run from a shell (pytest-xdist workers inherit SIGINT ignored)
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(KeyboardInterrupt):
            save(path, {"net": {"w": torch.ones(3)}, "mid": Interrupting(), "tail": torch.zeros(1000)})
        got = torch.load(path, weights_only=False)
        assert torch.equal(got["net"]["w"], torch.ones(3)) and got["tail"].shape == (1000,)
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
        with deferred_interrupt():          # no signal: nothing raised
            pass
    finally:
        signal.signal(signal.SIGINT, before)
