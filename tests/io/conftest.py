"""Shared fixtures for the symgait.io tests.

The real data live outside the repository, at ``<repo>/../shared/data`` (see its
README.md for formats and attribution); set ``SYMGAIT_DATA`` to use another
folder.  Tests that need a file skip with a clear reason when it is absent.
"""

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DATA = Path(os.environ.get("SYMGAIT_DATA", REPO.parent / "shared" / "data"))


def data_file(rel: str) -> Path:
    """Path of a shared data file, or skip the test if it is not there."""
    p = DATA / rel
    if not p.exists():
        pytest.skip(f"shared data file {rel} not found under {DATA} "
                    "(the public data set is not part of the repository)")
    return p


@pytest.fixture(scope="session")
def data():
    return data_file
