"""The CPU threading layer is chosen explicitly, and the serial and parallel launchers agree."""
from __future__ import annotations

import os

import numba
import numpy as np

import symgait
from symgait.runtime import threads
from symgait_testing import random_state


def test_threading_layer_is_explicit():
    """The layer select() picks is the first loadable one of PREFERENCE (or NUMBA_THREADING_LAYER), and
    it is the one Numba runs once a parallel launcher has run."""
    k = symgait.kernels("planar")
    avail = threads.available()
    assert avail and avail[-1] == "workqueue"  # Numba's portable layer always loads
    chosen = threads.select()
    env = os.environ.get("NUMBA_THREADING_LAYER", "").strip()
    assert chosen == (env if env and env != "default" else avail[0])
    q, qd, qdd, _, w = random_state(k.model, 2)
    out = np.empty((2, k.nq))
    work = np.empty((2, k.manifest["kernels"]["inverse_dynamics"]["work"]))
    k.module.inverse_dynamics(q, qd, qdd, w.reshape(2, -1), k.parameters()[None], out, work)  # the parallel launcher
    assert numba.threading_layer() == chosen
    assert threads.layer() == chosen


def test_small_batches_run_serially_and_match_the_parallel_launch():
    k = symgait.kernels("planar")
    ops = k.manifest["operations"]["inverse_dynamics"]
    big = threads.PARALLEL_MIN_OPS // ops + 1
    assert not threads.parallel(big - 1, ops)
    assert threads.parallel(big, ops) == (numba.get_num_threads() > 1)
    q, qd, qdd, _, w = random_state(k.model, big, seed=3)
    p = np.tile(k.model.parameters(), (big, 1))
    together = k.inverse_dynamics(q, qd, qdd, w, p)  # parallel launcher (with more than one thread)
    one_by_one = np.concatenate([k.inverse_dynamics(q[i:i + 1], qd[i:i + 1], qdd[i:i + 1], w[i:i + 1], p[i:i + 1])
                                 for i in range(big)])
    assert np.array_equal(together, one_by_one)
