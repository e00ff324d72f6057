"""Runs of a boolean per-frame signal (contact labels, valid frames, plate coverage)."""
from __future__ import annotations

from typing import List, Tuple

import numpy as np

__all__ = ["true_runs", "longest_true_run", "remove_short_runs"]


def true_runs(x) -> List[Tuple[int, int]]:
    """``(start, stop)`` of every run of True in a 1-D boolean array (stop exclusive)."""
    d = np.diff(np.r_[0, np.asarray(x, bool).astype(int), 0])
    return list(zip(np.nonzero(d == 1)[0].tolist(), np.nonzero(d == -1)[0].tolist()))


def longest_true_run(x) -> slice:
    """The longest run of True (the first of equal ones); ``slice(0, 0)`` when there is none."""
    runs = true_runs(x)
    if not runs:
        return slice(0, 0)
    return slice(*max(runs, key=lambda r: r[1] - r[0]))


def remove_short_runs(x, n: int) -> np.ndarray:
    """A copy of ``x`` in which interior runs shorter than ``n`` frames are flipped: first runs of
    True, then (on the result) runs of False. Runs touching either end are kept."""
    x = np.array(x, bool)
    if n <= 1 or x.size == 0:
        return x
    for val in (True, False):
        for a, b in true_runs(x == val):
            if b - a < n and a > 0 and b < x.size:
                x[a:b] = not val
    return x
