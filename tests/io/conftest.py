"""Shared fixtures for the symgait.io tests.

The real data live outside the repository, at ``<repo>/../shared/data`` (see its
README.md for formats and attribution); set ``SYMGAIT_DATA`` to use another
folder.  Tests that need a file skip with a clear reason when it is absent.
"""

import pytest

from symgait_testing import data_file


@pytest.fixture(scope="session")
def data():
    return data_file
