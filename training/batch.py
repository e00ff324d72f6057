"""Batches of windows as tensors, and label stripping for weak supervision.

:func:`collate` stacks window dicts (from :meth:`symgait.trials.sequence.Sequence.window` /
:class:`~symgait.datasets.windows.WindowDataset`) into float64 CPU tensors:
``q, qd, qdd`` (B, T, n), ``w`` (B, T, nc, 6), ``JT`` (B, T, n_act), ``contact`` (B, T, nc) bool,
``p`` (B, n_p), ``mass``, ``rate`` (B,) and ``labelled`` (B,) bool (label_kind != "none").
"""
from __future__ import annotations

from typing import Dict, Sequence as Seq

import numpy as np
import torch

__all__ = ["collate", "sequence_batch", "index_batch", "is_labelled"]

_KEYS = ("q", "qd", "qdd", "w", "JT", "contact", "p", "mass", "rate", "labelled")


def is_labelled(seq_or_window) -> bool:
    kind = seq_or_window["label_kind"] if isinstance(seq_or_window, dict) else seq_or_window.label_kind
    return kind != "none"


def collate(windows: Seq[dict], model=None, rate=None) -> Dict[str, torch.Tensor]:
    """Window dicts -> dict of tensors (see the module docstring). ``rate`` (Hz) is used when the
    windows do not carry one (windows of :meth:`Sequence.window` do not: pass the sequences' rate,
    or give windows a ``rate`` entry)."""
    if not len(windows):
        raise ValueError("collate needs at least one window")
    f64 = lambda k: torch.from_numpy(np.stack([np.asarray(w[k], dtype=np.float64) for w in windows]))
    out = {k: f64(k) for k in ("q", "qd", "qdd", "w", "JT", "p")}
    out["contact"] = torch.from_numpy(np.stack([np.asarray(w["contact"], dtype=bool) for w in windows]))
    out["mass"] = torch.tensor([float(w["mass"]) for w in windows], dtype=torch.float64)
    rates = [float(w.get("rate", rate if rate is not None else np.nan)) for w in windows]
    if any(not np.isfinite(r) for r in rates):
        if len(windows) and "time" in windows[0] and len(windows[0]["time"]) > 1:
            rates = [1.0 / float(np.median(np.diff(w["time"]))) for w in windows]
        else:
            raise ValueError("windows carry no rate: pass rate=... to collate")
    out["rate"] = torch.tensor(rates, dtype=torch.float64)
    out["labelled"] = torch.tensor([is_labelled(w) for w in windows], dtype=torch.bool)
    if model is not None and out["q"].shape[-1] != model.nq:
        raise ValueError(f"windows have {out['q'].shape[-1]} coordinates, model {model.name} has {model.nq}")
    return out


def index_batch(batch: Dict[str, torch.Tensor], idx) -> Dict[str, torch.Tensor]:
    """Rows ``idx`` of every tensor of a batch."""
    idx = torch.as_tensor(idx, dtype=torch.long)
    return {k: v[idx] for k, v in batch.items()}


def sequence_batch(seq) -> Dict[str, torch.Tensor]:
    """A whole sequence as a batch of one window."""
    d = seq.window(0, len(seq))
    d["rate"] = seq.rate
    return collate([d])


