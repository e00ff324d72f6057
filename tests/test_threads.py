"""The CPU threading layer is chosen explicitly, and the serial and parallel launchers agree."""
from __future__ import annotations

import numba
import numpy as np

import symgait
from symgait.runtime import threads
from symgait_testing import random_state


def test_threading_layer_is_explicit():
    k = symgait.kernels("planar")
    assert threads.available() and threads.available()[-1] == "workqueue"
    chosen = threads.select()
    assert chosen in threads.available()
    q, qd, qdd, _, w = random_state(k.model, 2)
    k.inverse_dynamics(q, qd, qdd, w, k.model.parameters())
    assert threads.layer().split()[0] in threads.available()


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
