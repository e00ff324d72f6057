"""Fixtures for the training tests: the planar model, a few short synthetic sequences (cached)."""
from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _one_thread():
    """One torch and one Numba thread per test (restored after): the 2-core CI machine runs two
    workers. Never set NUMBA_NUM_THREADS here: once Numba's pool is up, a changed variable makes
    every later launch in the worker raise."""
    import numba
    import torch
    n, nb = torch.get_num_threads(), numba.get_num_threads()
    torch.set_num_threads(1)
    numba.set_num_threads(1)
    yield
    torch.set_num_threads(n)
    numba.set_num_threads(nb)


@pytest.fixture(scope="session")
def planar():
    import symgait
    m = symgait.load_model("planar")
    return m, symgait.kernels(m)


@pytest.fixture(scope="session")
def seqs(planar):
    """Three 1-s synthetic sequences (derived labels)."""
    from symgait.datasets.cache import SequenceCache
    from symgait.datasets.synthetic import synthetic_gait
    m, k = planar
    return synthetic_gait(m, n_sequences=3, seconds=1.0, seed=0, kern=k, cache=SequenceCache())


@pytest.fixture()
def weak(seqs):
    """One labelled and two motion-only training sequences."""
    from training.data import without_labels
    return [seqs[0]] + [without_labels(s) for s in seqs[1:]]
