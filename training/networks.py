"""Temporal convolutional regressor: motion features (B, T, F) -> per-frame wrenches and torques.

``x -> Conv1x1(F, H) -> L residual blocks -> Conv1x1(H, O)``; block ``l`` (dilation
``d = 2^(l mod 4)``): ``h + Conv_k,d(Dropout(GELU(Conv_k,d(GELU(h)))))`` with "same" zero padding
``d (k - 1) / 2`` (non-causal: frame t sees t +- L d (k-1)/2 ... frames), so any T works.

Outputs (O = nc*6 + n_act) are *normalised* per kg quantities in the heading frame (see
:mod:`training.features`): ``y = mean + std * y_n``; :class:`OutputLayout` splits them into
``w_per_kg`` (B, T, nc, 6) and ``jt_per_kg`` (B, T, n_act).
"""
from __future__ import annotations

import torch
from torch import nn
from .pcnet import N_CHANNELS

__all__ = ["TemporalConvNet", "OutputLayout", "build_network"]


class OutputLayout:
    """Split (..., O) outputs into ``w`` (..., nc, 6) and ``jt`` (..., n_act); ``join`` inverts."""

    def __init__(self, n_contacts: int, n_actuated: int):
        self.nc, self.na = int(n_contacts), int(n_actuated)
        self.n_w = 6 * self.nc
        self.n_out = self.n_w + self.na

    @classmethod
    def for_model(cls, model) -> "OutputLayout":
        return cls(model.n_contacts, model.n_actuated)

    def split(self, y):
        w = y[..., :self.n_w].reshape(*y.shape[:-1], self.nc, 6)
        return w, y[..., self.n_w:]

    def join(self, w, jt):
        return torch.cat([w.reshape(*w.shape[:-2], self.n_w), jt], -1)


class _Block(nn.Module):
    def __init__(self, hidden, k, dilation, dropout):
        super().__init__()
        pad = dilation * (k - 1) // 2
        self.c1 = nn.Conv1d(hidden, hidden, k, padding=pad, dilation=dilation)
        self.c2 = nn.Conv1d(hidden, hidden, k, padding=pad, dilation=dilation)
        self.act = nn.GELU()
        self.drop = nn.Dropout(dropout)

    def forward(self, h):
        return h + self.c2(self.drop(self.act(self.c1(self.act(h)))))


class TemporalConvNet(nn.Module):
    """(B, T, F) -> (B, T, O), non-causal dilated residual 1-D convolutions."""

    def __init__(self, n_in: int, n_out: int, hidden: int = 128, layers: int = 4, kernel_size: int = 5,
                 dropout: float = 0.1):
        super().__init__()
        self.inp = nn.Conv1d(n_in, hidden, 1)
        self.blocks = nn.ModuleList(_Block(hidden, kernel_size, 2 ** (i % 4), dropout) for i in range(layers))
        self.out = nn.Conv1d(hidden, n_out, 1)
        nn.init.zeros_(self.out.bias)
        nn.init.normal_(self.out.weight, std=0.01)

    def forward(self, x):
        h = self.inp(x.transpose(1, 2))
        for b in self.blocks:
            h = b(h)
        return self.out(h).transpose(1, 2)


def build_network(cfg, model, n_features: int) -> nn.Module:
    """The configured network for ``model``: ``n_features`` inputs, nc*6 + n_act outputs (``pcnet``:
    nc*6, the distribution of the motion's total force, see :mod:`training.pcnet`)."""
    n_out = OutputLayout.for_model(model).n_out
    if cfg.variant == "pcnet":
        n_out = N_CHANNELS * model.n_contacts
    n = cfg.net
    return TemporalConvNet(n_features, n_out, hidden=n.hidden, layers=n.layers,
                           kernel_size=n.kernel_size, dropout=n.dropout)
