"""Fixtures and hooks for all tests; helpers live in symgait_testing.py."""
from __future__ import annotations

import pytest

from symgait_testing import MODEL_NAMES, data_file, model_and_kernels  # noqa: F401  (re-exported for fixtures)


def pytest_collection_modifyitems(config, items):
    """Run each model's tests in one pytest-xdist worker (``--dist loadgroup``), so that a model's
    kernels are compiled once, by one process, while other workers compile other models."""
    for item in items:
        if item.get_closest_marker("xdist_group") is not None:  # a test's own choice wins
            continue
        params = getattr(getattr(item, "callspec", None), "params", {})
        names = [v for v in params.values() if isinstance(v, str) and v in MODEL_NAMES]
        item.add_marker(pytest.mark.xdist_group(names[0] if names else item.module.__name__))


@pytest.fixture(scope="session")
def gen_root(tmp_path_factory):
    """Where the small test models' kernels are generated (once per session and worker)."""
    return tmp_path_factory.mktemp("generated")


@pytest.fixture(scope="session")
def data():
    """``data(rel)`` → path of a file of the shared data (``../shared/data``, or ``$SYMGAIT_DATA``),
    or skip the test with the reason when it is absent."""
    return data_file


@pytest.fixture(scope="session")
def kern():
    """``kern(name)`` → (model, kernels) of a built-in model, cached per process."""
    return lambda name: model_and_kernels(name, None)
