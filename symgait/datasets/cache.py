"""Training data: sequences of consistent dynamics, an on-disk cache, windows of T frames.

A :class:`Sequence` holds, per frame, ``q, qd, qdd`` (T, nq), contact wrenches ``w``
(T, nc, 6; model convention), generalized forces ``tau`` (T, nq; the root rows are the residual)
with ``JT = tau[:, actuated]`` the joint torques, contact labels ``contact`` (T, nc) bool, and per
sequence the parameters ``p``, ``mass``, ``height``, ``source`` and ``label_kind``:

* ``"measured"`` — wrenches from force plates (residual ≠ 0: it measures the inconsistency);
* ``"derived"`` — wrenches from the residual-distribution rule (:mod:`symgait.forces.derived`),
  residual zero by construction;
* ``"none"`` — no wrenches (``w`` and ``tau`` NaN), kinematics only.

Kinds are per sequence and never mixed: :class:`WindowDataset` can be restricted to kinds.

:class:`SequenceCache` stores sequences as ``.npz`` files keyed by a hash of their inputs
(files' paths, sizes and mtimes, model, subject, options) under ``<cache>/sequences``
(default ``~/.cache/symgait`` or ``$SYMGAIT_CACHE_DIR``), each written atomically under a file lock
(one process builds an entry, others wait and read it) and checked against its content hash when
read (a damaged entry is rebuilt).  :func:`load_sequences` builds (or loads)
sequences from trial files; :func:`symgait.datasets.synthetic.synthetic_gait` makes the built-in
synthetic set that needs no data.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Callable, Iterable, List, Optional

import numpy as np
from filelock import FileLock

from ..io.errors import DataFormatError
from ..trials.sequence import Sequence
from ..user_cache import cache_dir
import symgait
from ..trials.pipeline import process_trial

__all__ = [ "SequenceCache", "load_sequences",]




def _file_key(path) -> dict:
    p = Path(path)
    st = p.stat()
    return {"path": str(p.resolve()), "size": st.st_size, "mtime": int(st.st_mtime)}


class SequenceCache:
    """``.npz`` sequences under ``<root>/sequences/<key>.npz``."""

    def __init__(self, root=None):
        self.root = Path(root) if root is not None else cache_dir()
        self.dir = self.root / "sequences"

    @staticmethod
    def key(**inputs) -> str:
        def norm(v):
            if isinstance(v, (Path,)) or (isinstance(v, str) and os.path.exists(v)):
                return _file_key(v)
            if isinstance(v, np.ndarray):
                return v.tolist()
            return v
        blob = json.dumps({k: norm(v) for k, v in sorted(inputs.items())}, sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()[:20]

    def path(self, key: str) -> Path:
        return self.dir / f"{key}.npz"

    def lock(self, key: str) -> FileLock:
        """The lock of entry ``key`` (a file beside it): one process builds an entry at a time."""
        self.dir.mkdir(parents=True, exist_ok=True)
        return FileLock(str(self.dir / f"{key}.lock"))

    def load(self, key: str) -> Optional[Sequence]:
        """The cached sequence ``key``; None if absent or damaged (a damaged file is removed)."""
        path = self.path(key)
        if not path.exists():
            return None
        try:
            return Sequence.load(path)
        except (DataFormatError, OSError):
            path.unlink(missing_ok=True)
            return None

    def get_or_build(self, key: str, build: Callable[[], Sequence]) -> Sequence:
        """The cached sequence ``key``, else ``build()`` saved (atomically) under it. Processes that
        want the same entry at once wait for the first (a file lock) and then read its file."""
        seq = self.load(key)
        if seq is not None:
            return seq
        with self.lock(key):
            seq = self.load(key)          # built by another process while this one waited
            if seq is None:
                seq = build()
                seq.save(self.path(key))
        return seq


def load_sequences(trials: Iterable[dict], model, kern=None, *, cache: Optional[SequenceCache] = None,
                   **options) -> List[Sequence]:
    """Build (or load from the cache) one :class:`Sequence` per trial.

    Each trial is a dict of :func:`symgait.trials.pipeline.process_trial` arguments:
    ``motion`` (path), ``height``, ``mass`` and optionally ``forces``, ``external_loads``,
    ``markerset``, ``skeleton``, ``time_range``; ``options`` apply to all (``cutoff``...).
    """

    kern = kern or symgait.kernels(model)
    cache = cache if cache is not None else SequenceCache()
    out = []
    for tr in trials:
        args = dict(options)
        args.update(tr)
        key = SequenceCache.key(model=model.name, model_sha=model.source_hash, **args)
        motion = args.pop("motion")
        out.append(cache.get_or_build(key, lambda: process_trial(model, kern, motion, **args).sequence))
    return out


