"""symgait's user cache directory: generated code of user model files, converted OpenSim models,
cached sequences. ``$SYMGAIT_CACHE_DIR``, else ``$XDG_CACHE_HOME/symgait``, else ``~/.cache/symgait``."""
from __future__ import annotations

import os
from pathlib import Path

CACHE_ENV = "SYMGAIT_CACHE_DIR"


def cache_dir() -> Path:
    """The user cache directory (see the module docstring); not created here."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "symgait"
