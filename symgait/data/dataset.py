"""Training data: sequences of consistent dynamics, an on-disk cache, windows of T frames.

A :class:`Sequence` holds, per frame, ``q, qd, qdd`` (T, nq), contact wrenches ``w``
(T, nc, 6; model convention), generalized forces ``tau`` (T, nq; the root rows are the residual)
with ``JT = tau[:, actuated]`` the joint torques, contact labels ``contact`` (T, nc) bool, and per
sequence the parameters ``p``, ``mass``, ``height``, ``source`` and ``label_kind``:

* ``"measured"`` — wrenches from force plates (residual ≠ 0: it measures the inconsistency);
* ``"derived"`` — wrenches from the residual-distribution rule (:mod:`symgait.data.derived`),
  residual zero by construction;
* ``"none"`` — no wrenches (``w`` and ``tau`` NaN), kinematics only.

Kinds are per sequence and never mixed: :class:`WindowDataset` can be restricted to kinds.

:class:`SequenceCache` stores sequences as ``.npz`` files keyed by a hash of their inputs
(files' paths, sizes and mtimes, model, subject, options) under ``<cache>/sequences``
(default ``~/.cache/symgait`` or ``$SYMGAIT_CACHE_DIR``).  :func:`load_sequences` builds (or loads)
sequences from trial files; :func:`symgait.data.synthetic.synthetic_gait` makes the built-in
synthetic set that needs no data.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, Iterable, Iterator, List, Optional, Sequence as Seq, Tuple

import numpy as np

__all__ = ["Sequence", "SequenceCache", "WindowDataset", "load_sequences", "LABEL_KINDS",
           "default_data_dir"]

LABEL_KINDS = ("measured", "derived", "none")

_ARRAYS = ("time", "q", "qd", "qdd", "w", "tau", "contact", "p")
_META = ("name", "model", "rate", "mass", "height", "source", "label_kind", "coordinates",
         "contacts", "actuated")


@dataclass(eq=False)
class Sequence:
    """One trial's arrays (see the module docstring)."""
    name: str
    model: str
    rate: float
    time: np.ndarray
    q: np.ndarray
    qd: np.ndarray
    qdd: np.ndarray
    w: np.ndarray
    tau: np.ndarray
    contact: np.ndarray
    p: np.ndarray
    mass: float
    height: float
    source: str
    label_kind: str
    coordinates: Tuple[str, ...] = ()
    contacts: Tuple[str, ...] = ()
    actuated: Tuple[str, ...] = ()

    def __post_init__(self):
        if self.label_kind not in LABEL_KINDS:
            raise ValueError(f"label_kind must be one of {LABEL_KINDS}, got {self.label_kind!r}")
        T = self.q.shape[0]
        for k in ("time", "qd", "qdd", "w", "tau", "contact"):
            v = getattr(self, k)
            if v is not None and np.asarray(v).shape[0] != T:
                raise ValueError(f"Sequence {self.name}: {k} has {np.asarray(v).shape[0]} frames, q has {T}")

    def __len__(self) -> int:
        return int(self.q.shape[0])

    @property
    def actuated_indices(self) -> List[int]:
        return [self.coordinates.index(c) for c in self.actuated]

    @property
    def JT(self) -> np.ndarray:
        """Joint torques (T, n_actuated): the actuated rows of ``tau``."""
        return self.tau[:, self.actuated_indices]

    @property
    def residual(self) -> np.ndarray:
        """Root generalized forces (T, n_root) (zero for derived labels)."""
        idx = [i for i, c in enumerate(self.coordinates) if c not in self.actuated]
        return self.tau[:, idx]

    def window(self, start: int, length: int) -> Dict[str, np.ndarray]:
        """Frames ``start:start+length`` as a dict (arrays + ``JT``, ``p``, ``mass``, ``height``)."""
        s = slice(start, start + length)
        d = {k: np.asarray(getattr(self, k))[s] for k in ("time", "q", "qd", "qdd", "w", "tau", "contact")}
        d["JT"] = d["tau"][:, self.actuated_indices]
        d.update(p=self.p, mass=self.mass, height=self.height, label_kind=self.label_kind,
                 name=self.name, start=start)
        return d

    def windows(self, length: int, stride: Optional[int] = None) -> Iterator[Dict[str, np.ndarray]]:
        """Consecutive windows of ``length`` frames every ``stride`` (default ``length``)."""
        stride = stride or length
        for s in range(0, len(self) - length + 1, stride):
            yield self.window(s, length)

    # --- disk ----------------------------------------------------------------------------
    def save(self, path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        meta = {k: getattr(self, k) for k in _META}
        meta = {k: list(v) if isinstance(v, tuple) else v for k, v in meta.items()}
        arrays = {k: np.asarray(getattr(self, k)) for k in _ARRAYS}
        tmp = path.with_name(path.name + ".tmp.npz")
        np.savez_compressed(tmp, meta=np.array(json.dumps(meta)), **arrays)
        os.replace(tmp, path)
        return path

    @classmethod
    def load(cls, path) -> "Sequence":
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            arrays = {k: z[k] for k in _ARRAYS}
        for k in ("coordinates", "contacts", "actuated"):
            meta[k] = tuple(meta[k])
        arrays["contact"] = arrays["contact"].astype(bool)
        return cls(**meta, **arrays)


def default_data_dir() -> Path:
    """Where the public data set lives: ``$SYMGAIT_DATA``, else ``../shared/data`` beside the
    repository (it is never part of it)."""
    env = os.environ.get("SYMGAIT_DATA")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2].parent / "shared" / "data"


def _file_key(path) -> dict:
    p = Path(path)
    st = p.stat()
    return {"path": str(p.resolve()), "size": st.st_size, "mtime": int(st.st_mtime)}


class SequenceCache:
    """``.npz`` sequences under ``<root>/sequences/<key>.npz``."""

    def __init__(self, root=None):
        from .osim_to_yaml import default_cache_dir
        self.root = Path(root) if root is not None else default_cache_dir()
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

    def get_or_build(self, key: str, build: Callable[[], Sequence]) -> Sequence:
        path = self.path(key)
        if path.exists():
            try:
                return Sequence.load(path)
            except Exception:
                path.unlink()
        seq = build()
        seq.save(path)
        return seq


def load_sequences(trials: Iterable[dict], model, kern=None, *, cache: Optional[SequenceCache] = None,
                   **options) -> List[Sequence]:
    """Build (or load from the cache) one :class:`Sequence` per trial.

    Each trial is a dict of :func:`symgait.data.pipeline.process_trial` arguments:
    ``motion`` (path), ``height``, ``mass`` and optionally ``forces``, ``external_loads``,
    ``markerset``, ``skeleton``, ``time_range``; ``options`` apply to all (``cutoff``...).
    """
    import symgait
    from .pipeline import process_trial

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


class WindowDataset:
    """Windows of ``length`` frames (every ``stride``) over sequences, as dicts of numpy arrays
    (``q, qd, qdd, w, tau, JT, contact, p, mass, height, label_kind``...).

    ``kinds``: keep only sequences of these label kinds.  ``transform``: a function applied to
    each window dict (e.g. augmentation: ``lambda d: mirror.sample(d)`` at random).
    """

    def __init__(self, sequences: Seq[Sequence], length: int, stride: Optional[int] = None,
                 kinds: Optional[Seq[str]] = None, transform: Optional[Callable] = None):
        self.sequences = [s for s in sequences if kinds is None or s.label_kind in kinds]
        self.length = int(length)
        self.stride = int(stride or length)
        self.transform = transform
        self.index = [(i, st) for i, s in enumerate(self.sequences)
                      for st in range(0, len(s) - self.length + 1, self.stride)]

    def __len__(self) -> int:
        return len(self.index)

    def __getitem__(self, k: int) -> Dict[str, np.ndarray]:
        i, st = self.index[k]
        d = self.sequences[i].window(st, self.length)
        return self.transform(d) if self.transform is not None else d

    def stacked(self) -> Dict[str, np.ndarray]:
        """All windows stacked on a leading axis (arrays only)."""
        items = [self[k] for k in range(len(self))]
        keys = [k for k, v in items[0].items() if isinstance(v, np.ndarray)]
        return {k: np.stack([it[k] for it in items]) for k in keys}
