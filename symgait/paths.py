"""Default locations: the public data set beside the repository (the user cache is :mod:`symgait.user_cache`)."""
from __future__ import annotations

import os
from pathlib import Path

def default_data_dir() -> Path:
    """Where the public data set lives: ``$SYMGAIT_DATA``, else ``../shared/data`` beside the
    repository (it is never part of it)."""
    env = os.environ.get("SYMGAIT_DATA")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[1].parent / "shared" / "data"
