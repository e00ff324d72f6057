"""How every command reports a user error: ``<program>: error: ...`` on stderr, exit status 2."""
from __future__ import annotations

import sys
from pathlib import Path

from ..errors import InputError, SymgaitError

# what a command reports as a message (bad input, a bad or missing file) instead of a traceback
USER_ERRORS = (OSError,)


def check_output_path(path) -> None:
    """Raise :class:`InputError` if ``path``'s folder does not exist (naming it)."""
    parent = Path(path).expanduser().resolve().parent
    if not parent.is_dir():
        raise InputError(f"cannot write {path}: the folder {parent} does not exist (create it first)")


def report_error(prog: str, e: BaseException) -> int:
    """Print a user error as ``<prog>: error: ...`` on stderr; returns the exit status (2)."""
    if isinstance(e, OSError) and not isinstance(e, SymgaitError) and e.filename is not None:
        msg = f"{e.filename}: {e.strerror or e}"
    else:
        msg = str(e)
    print(f"{prog}: error: {msg}", file=sys.stderr)
    return 2
