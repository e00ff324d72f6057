"""Fixtures for the symgait.data tests.

Real data live outside the repository, at ``<repo>/../shared/data`` (``SYMGAIT_DATA`` to use
another folder); tests that need a file skip with a clear reason when it is absent.  Converted
OpenSim models and their kernels are generated once into ``$SYMGAIT_CACHE_DIR`` (default
``~/.cache/symgait``) and reused.
"""
from __future__ import annotations

import numpy as np
import pytest

from symgait_testing import data_file

TRC = "opensim/gait2354_subject01_walk1/subject01_walk1.trc"
GRF = "opensim/gait2354_subject01_walk1/subject01_walk1_grf.mot"
GRF_XML = "opensim/gait2354_subject01_walk1/subject01_walk1_grf.xml"
IK_MOT = "opensim/gait2354_subject01_walk1/subject01_walk1_ik.mot"
WALK1 = "c3d_org/Walk1.c3d"
GAITRAW = "c3d_org/gait-raw.c3d"
AMC = "cmu/subject08/08_01.amc"


_K = {}


def mk(name: str):
    """(model, kernels) of a built-in model, cached per process."""
    import symgait
    if name not in _K:
        m = symgait.load_model(name)
        _K[name] = (m, symgait.kernels(m))
    return _K[name]


def labels_str(L) -> str:
    return "".join("RLB-"[0 if a and not b else 1 if b and not a else 2 if a and b else 3]
                   for a, b in np.asarray(L, bool))


@pytest.fixture(scope="session")
def data():
    """``data(rel)`` → path of a shared data file, or skip."""
    return data_file


@pytest.fixture(scope="session")
def kern():
    """``kern(name)`` → (model, kernels) of a built-in model."""
    return mk
