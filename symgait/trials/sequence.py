"""A trial as a consistent sequence of dynamics."""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Tuple

import numpy as np

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
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        meta = {k: getattr(self, k) for k in _META}
        meta = {k: list(v) if isinstance(v, tuple) else v for k, v in meta.items()}
        if not meta["subject"]:
            del meta["subject"]  # files of sequences without one stay as they were
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
