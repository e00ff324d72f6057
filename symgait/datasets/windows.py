"""Windows of T frames over sequences, for training."""
from __future__ import annotations

from typing import Callable, Dict, Optional, Sequence as Seq

import numpy as np

from ..trials.sequence import Sequence

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
