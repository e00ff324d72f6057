"""Writing files safely: whole or not at all, and the output folders checked before long work.

:func:`atomic_write` writes into a temporary file of a unique name (``.<name>.<pid>.<random>.tmp``)
in the target's folder, flushes and fsyncs it, renames it over the target (``os.replace``, atomic on
POSIX and Windows within one file system) and fsyncs the folder. Any reader, another process
writing the same file at the same time, or a run killed at any moment (SIGKILL included) sees the
previous complete file or the new complete one, never a partial one; two writers of the same
target both succeed and the last rename wins. A failed write (a full disk, a read-only folder)
removes its temporary file and raises :class:`OutputError` naming the target, its cause and the
fix. A kill during the write leaves at most a ``.<name>.*.tmp`` file beside the target, which no
reader takes for the target.

:func:`check_output_folder` and :func:`check_output_file` are for commands: they make sure an
output can be written (the folder exists or can be created, and a probe file can be written and
removed in it) before the work starts, so a long run does not fail at its end.

:func:`file_sha256` is the content hash caches record beside an entry to detect a damaged one.
"""
from __future__ import annotations

import contextlib
import errno
import functools
import hashlib
import json
import os
import signal
import threading
import uuid
from pathlib import Path
from typing import IO, Iterator

from .errors import SymgaitError

__all__ = ["OutputError", "atomic_write", "deferred_interrupt", "write_bytes", "write_text", "write_json", "fsync_dir",
           "file_sha256", "check_output_folder", "check_output_file", "temporary_name"]

_FIX = {errno.ENOSPC: "free space on that disk or choose another output folder",
        errno.EDQUOT: "free space within your quota or choose another output folder",
        errno.EROFS: "the file system is read-only: choose another output folder",
        errno.EACCES: "choose a folder you may write to, or change its permissions",
        errno.EPERM: "choose a folder you may write to, or change its permissions",
        errno.ENOTDIR: "a part of the path is a file, not a folder: choose another path",
        errno.EEXIST: "a part of the path is a file, not a folder: choose another path",
        errno.EISDIR: "the path is a folder: give a file name"}


class OutputError(SymgaitError, OSError):
    """An output that cannot be written; the message names the path, the cause and the fix. An
    ``OSError`` too (``errno`` and ``filename`` are set), so handlers of ``OSError`` still apply."""

    def __str__(self) -> str:
        return self.args[0] if self.args else super().__str__()


def _output_error(path, e: OSError, what: str = "cannot write") -> OutputError:
    code = e.errno
    reason = os.strerror(code) if code else str(e)
    fix = _FIX.get(code, "check the path, the free space and the permissions")
    err = OutputError(f"{what} {path}: {reason}; {fix}")
    err.errno, err.strerror, err.filename = code, reason, str(path)
    return err


def temporary_name(path) -> Path:
    """A unique temporary name for ``path``, in its folder (hidden, ending ``.tmp``)."""
    path = Path(path)
    return path.parent / f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:12]}.tmp"


def fsync_dir(folder) -> None:
    """Make a rename in ``folder`` durable (a no-op where folders cannot be opened, e.g. Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_write(path, mode: str = "wb", *, encoding: str | None = None, newline: str | None = None,
                 fsync: bool = True) -> Iterator[IO]:
    """Open a temporary file for writing and, when the block ends without an exception, rename it
    over ``path`` (see the module docstring). ``mode`` is ``"wb"`` or ``"w"`` (text: ``encoding``
    default UTF-8, ``newline`` as for :func:`open`). The folder is created if missing."""
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_write: mode {mode!r}; use 'w' or 'wb'")
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = temporary_name(path)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # the umask applies, as for open()
    except OSError as e:
        raise _output_error(path, e) from None
    try:
        text = mode == "w"
        with os.fdopen(fd, mode, **(dict(encoding=encoding or "utf-8", newline=newline) if text else {})) as f:
            yield f
            f.flush()
            if fsync:
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as e:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(e, OSError) and not isinstance(e, OutputError):
            raise _output_error(path, e) from None
        raise
    if fsync:
        fsync_dir(path.parent)


def write_bytes(path, data: bytes, *, fsync: bool = True) -> Path:
    """Write ``data`` to ``path`` atomically (:func:`atomic_write`)."""
    with atomic_write(path, "wb", fsync=fsync) as f:
        f.write(data)
    return Path(path)


def write_text(path, text: str, *, encoding: str = "utf-8", fsync: bool = True) -> Path:
    """Write ``text`` to ``path`` atomically (:func:`atomic_write`; newlines as given)."""
    with atomic_write(path, "w", encoding=encoding, newline="", fsync=fsync) as f:
        f.write(text)
    return Path(path)


def write_json(path, obj, *, fsync: bool = True, **dumps) -> Path:
    """``json.dumps(obj, **dumps)`` written to ``path`` atomically."""
    return write_text(path, json.dumps(obj, **dumps), fsync=fsync)


def file_sha256(path) -> str:
    """SHA-256 (hex) of a file's bytes; read once per version of the file (its inode, size and
    modification time), since datasets hash the same source files again and again."""
    p = os.path.abspath(path)
    st = os.stat(p)
    return _file_sha256(p, st.st_ino, st.st_size, st.st_mtime_ns)


@functools.lru_cache(maxsize=8192)
def _file_sha256(path: str, inode: int, size: int, mtime_ns: int) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def check_output_folder(folder, option: str = "--out") -> Path:
    """Make sure ``folder`` exists (created if missing) and a file can be written in it (a probe file
    is written and removed); else raise :class:`OutputError` naming the option, the path and the
    fix. Returns the folder."""
    folder = Path(folder).expanduser()
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"{option} {folder}: this is a file, not a folder (give a folder path)")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise _output_error(folder, e, f"{option}: cannot create the folder") from None
    probe = temporary_name(folder / "write-probe")
    try:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, b"probe")
        finally:
            os.close(fd)
        os.unlink(probe)
    except OSError as e:
        with contextlib.suppress(OSError):
            os.unlink(probe)
        raise _output_error(folder, e, f"{option}: cannot write in the folder") from None
    return folder


def check_output_file(path, option: str = "--out") -> Path:
    """Make sure the file ``path`` can be written: not a folder, its folder can be created and
    written in (:func:`check_output_folder`). Returns the path."""
    path = Path(path).expanduser()
    if path.is_dir():
        raise OutputError(f"{option} {path}: this is a folder; give a file name")
    for up in path.parents:
        if up.exists():
            if not up.is_dir():
                raise OutputError(f"{option} {path}: {up} is a file, not a folder (give another path)")
            break
    check_output_folder(path.parent, option)
    return path


@contextlib.contextmanager
def deferred_interrupt() -> Iterator[None]:
    """Hold Ctrl-C (SIGINT) back while the block runs and deliver it when the block ends: a write
    interrupted half-way by ``KeyboardInterrupt`` could leave a writer's own state broken (PyTorch's
    zip writer then raises a ``RuntimeError`` that hides the interrupt). Only in the main thread,
    and only where Python's own handler is installed (elsewhere the block runs as it is)."""
    if (threading.current_thread() is not threading.main_thread()
            or signal.getsignal(signal.SIGINT) is not signal.default_int_handler):
        yield
        return
    caught = []
    signal.signal(signal.SIGINT, lambda signum, frame: caught.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    if caught:
        raise KeyboardInterrupt
