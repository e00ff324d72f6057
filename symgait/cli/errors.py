"""How every command reports a user error: ``<program>: error: ...`` on stderr, exit status 2."""
from __future__ import annotations

import sys

from training.config import ConfigError

from ..errors import SymgaitError

# what a command reports as a message (bad input, a bad or missing file) instead of a traceback
USER_ERRORS = (OSError,)


def report_error(prog: str, e: BaseException) -> int:
    """Print a user error as ``<prog>: error: ...`` on stderr; returns the exit status (2)."""
    if isinstance(e, OSError) and not isinstance(e, SymgaitError) and e.filename is not None:
        msg = f"{e.filename}: {e.strerror or e}"
    else:
        msg = str(e)
    print(f"{prog}: error: {msg}", file=sys.stderr)
    return 2


def run_command(prog: str, a) -> int:
    """Run a parsed command (``a.fn(a)``) as every command line does: Ctrl-C is one line and exit status
    130; a config error, a user error (:class:`~symgait.errors.SymgaitError`, a missing or unreadable
    file) one ``<prog>: error: ...`` line and status 2 — never a traceback for bad input."""
    try:
        return int(a.fn(a) or 0)
    except KeyboardInterrupt as e:  # the shell's status for SIGINT
        print(f"{prog}: {e or 'interrupted'}", file=sys.stderr)
        return 130
    except ConfigError as e:
        print(f"{prog}: config error: {e}", file=sys.stderr)
        return 2
    except (SymgaitError,) + USER_ERRORS as e:
        return report_error(prog, e)
