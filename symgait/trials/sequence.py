"""A trial as a consistent sequence of dynamics."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Tuple

import numpy as np

from ..atomic import atomic_write
from ..io.errors import DataFormatError

LABEL_KINDS = ("measured", "derived", "none")


_ARRAYS = ("time", "q", "qd", "qdd", "w", "tau", "contact", "p")


_META = ("name", "model", "rate", "mass", "height", "source", "label_kind", "coordinates",
         "contacts", "actuated", "subject")


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
    subject: str = ""  # who moved (a dataset's subject id), where known: a trained model records it

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
        """Write the sequence as ``.npz`` atomically (:func:`symgait.atomic.atomic_write`), with
        the SHA-256 of its contents (:func:`content_hash`) in its metadata: :meth:`load` refuses a
        file whose contents do not match it."""
        path = Path(path)
        meta = {k: getattr(self, k) for k in _META}
        meta = {k: list(v) if isinstance(v, tuple) else v for k, v in meta.items()}
        if not meta["subject"]:
            del meta["subject"]  # files of sequences without one stay as they were
        arrays = {k: np.asarray(getattr(self, k)) for k in _ARRAYS}
        meta[HASH_KEY] = content_hash(meta, arrays)
        with atomic_write(path) as f:
            np.savez_compressed(f, meta=np.array(json.dumps(meta)), **arrays)
        return path

    @classmethod
    def load(cls, path) -> "Sequence":
        """A sequence written by :meth:`save`; a damaged file (unreadable, truncated, or contents not
        matching the recorded hash) is a :class:`~symgait.io.DataFormatError` naming it."""
        try:
            with np.load(path, allow_pickle=False) as z:
                meta = json.loads(str(z["meta"]))
                arrays = {k: z[k] for k in _ARRAYS}
        except (FileNotFoundError, IsADirectoryError, PermissionError):
            raise
        except Exception as e:  # noqa: BLE001 — zip, zlib, format and key errors of a damaged file
            raise DataFormatError(path, f"not a readable sequence file ({type(e).__name__}: "
                                  f"{str(e)[:120]}); delete it, it is rebuilt from the trial") from None
        recorded = meta.pop(HASH_KEY, None)
        if recorded is not None and recorded != content_hash(meta, arrays):
            raise DataFormatError(path, "contents do not match the SHA-256 recorded in the file (damaged "
                                  "or partly written); delete it, it is rebuilt from the trial")
        for k in ("coordinates", "contacts", "actuated"):
            meta[k] = tuple(meta[k])
        arrays["contact"] = arrays["contact"].astype(bool)
        return cls(**meta, **arrays)


HASH_KEY = "sha256"   # the metadata entry of a sequence file holding its content hash


def content_hash(meta: dict, arrays: Dict[str, np.ndarray]) -> str:
    """SHA-256 of a sequence file's metadata (without :data:`HASH_KEY`) and arrays (name, dtype,
    shape and bytes of each, in :data:`_ARRAYS` order)."""
    h = hashlib.sha256(json.dumps({k: v for k, v in meta.items() if k != HASH_KEY}, sort_keys=True).encode())
    for k in _ARRAYS:
        a = np.ascontiguousarray(arrays[k])
        h.update(f"\0{k}\0{a.dtype.str}\0{a.shape}\0".encode())
        h.update(a.tobytes())
    return h.hexdigest()
