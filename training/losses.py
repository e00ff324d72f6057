"""Losses of the weakly-supervised training (Zell, Rosenhahn & Wandt, ECCV 2020).

Notation: window of T frames, batch b = 1..B, network outputs per kg in the heading frame
``y_n`` (normalised, see :mod:`training.features`), world wrenches ``w = m * w_per_kg`` (N, N m)
and joint torques ``JT = m * jt_per_kg`` (N m), m the subject's mass.

* Supervised (labelled windows only, NaN-safe):
  ``L_sup = sum_{b labelled, t, c finite} (y_n[b,t,c] - (y[b,t,c]/m_b - mu_c)/sigma_c)^2 / count``.
* Forward (all windows; F-net): the window is cut into chunks of ``H = loss.horizon`` frames; from
  each observed state ``x_s = [q_s, qd_s]`` the forward layer integrates with the predicted
  ``JT_k, w_k`` held over frame k (clipped to ``clamp_per_kg * m``), giving ``q^_k, qd^_k`` for
  ``k = s+1..s+H``:
  ``L_fwd = mean_{chunks, k} [ w_q e_q + w_qd e_qd ]`` with, for ``loss.metric = "kinetic"``
  (default), ``e_q = dq^T (M(q_s)/m) dq / n`` and ``e_qd = dqd^T (M(q_s)/m) dqd / n`` (``dq = q^_k - q_k``,
  ``M`` the mass matrix at the chunk's start, held constant, n coordinates): the velocity term is
  the kinetic energy of the error per kg, so a light segment's error counts as little as its
  inertia. An unbalanced root moment of a measured trial (the residual) spins the pelvis, whose
  effective inertia with the joint torques held is small: with the Euclidean metric
  (``"euclidean"``: ``e = |d|^2 / n``) such errors dominate the loss.
  A chunk whose simulation diverges (NaN/inf or |x| > ``diverge_threshold``) is dropped from the
  mean and counted in ``skipped``; the rest are re-simulated without it.
* Inverse (FI-net, cFI-net): residual ``r = ID_root(q, qd, qdd, w, p)`` of the observed motion with
  the predicted wrenches, restricted to the root's degrees of freedom (planar root: F_x, F_y, M_z),
  ``L_inv = mean_{b,t} (|r_F| + |r_M|) / m_b`` (:func:`symgait.layers.inverse_loss`).

``L = w_sup L_sup + w_fwd L_fwd [+ w_inv L_inv]``; baseline: ``L_sup`` only; pcnet
(:mod:`training.pcnet`): ``L_sup`` on its constructed wrenches and torques, ``+ w_fwd L_fwd`` with
``loss.pcnet_fwd`` (its root force residual is zero by construction, so no inverse term).
The physics layers run on CPU in ``loss.layer_dtype``; the network's outputs are moved there
(autograd follows ``.to()``).
"""
from __future__ import annotations

from typing import Dict

import torch

from symgait.errors import InputError
from symgait.layers import ForwardDynamics, InverseDynamics, inverse_loss

from .pcnet import root_dof_mask
import symgait

__all__ = ["Losses", "supervised_loss", "VARIANT_TERMS"]

VARIANT_TERMS = {"baseline": ("sup",), "fnet": ("sup", "fwd"), "finet": ("sup", "fwd", "inv"),
                 "cfinet": ("sup", "fwd", "inv"), "pcnet": ("sup",)}  # pcnet: + "fwd" with loss.pcnet_fwd


def supervised_loss(pred_n, target_n, labelled):
    """Masked MSE over labelled samples and finite targets (0 with a graph when there is none)."""
    mask = labelled.to(pred_n.device).view(-1, *([1] * (pred_n.dim() - 1))) & torch.isfinite(target_n)
    tgt = torch.where(mask, target_n, torch.zeros_like(target_n))
    n = mask.sum()
    se = ((pred_n - tgt) ** 2 * mask).sum()
    return se / n.clamp_min(1)


class Losses:
    """The loss terms for a model (physics layers built per frame rate and cached)."""

    def __init__(self, cfg, model, kernels=None):
        self.cfg, self.model = cfg, model
        self.kernels = kernels or symgait.kernels(model)
        self.dtype = torch.float64 if cfg.loss.layer_dtype == "float64" else torch.float32
        self._fwd = {}
        self.inv = InverseDynamics(self.kernels)
        self.terms = VARIANT_TERMS[cfg.variant]
        if cfg.variant == "pcnet" and cfg.loss.pcnet_fwd:
            self.terms = self.terms + ("fwd",)
        # only the components along the root's DOF vanish
        self.residual_mask = torch.as_tensor(root_dof_mask(model), dtype=self.dtype)
        self.skipped = 0

    def forward_layer(self, rate: float) -> ForwardDynamics:
        key = round(float(rate), 9)
        if key not in self._fwd:
            L = self.cfg.loss
            self._fwd[key] = ForwardDynamics(self.kernels, dt=1.0 / key, substeps=L.substeps,
                                             integrator=L.integrator, gradient=L.gradient)
        return self._fwd[key]

    # --- terms -------------------------------------------------------------------------------
    def _to_layer(self, x):
        return x.to(device="cpu", dtype=self.dtype)

    def forward_loss(self, batch, w_per_kg, jt_per_kg):
        """(loss tensor on the outputs' device, number of skipped chunks)."""
        L = self.cfg.loss
        dev, odt = w_per_kg.device, w_per_kg.dtype
        m = self._to_layer(batch["mass"])
        c = L.clamp_per_kg
        w = self._to_layer(w_per_kg).clamp(-c, c) * m[:, None, None, None]
        jt = self._to_layer(jt_per_kg).clamp(-c, c) * m[:, None, None]
        q, qd, p = (self._to_layer(batch[k]) for k in ("q", "qd", "p"))
        B, T, n = q.shape
        H = L.horizon if 0 < L.horizon < T else T - 1
        nch = (T - 1) // H
        starts = [i * H for i in range(nch)]
        # chunks on the batch axis: (B*nch, ...)
        x0 = torch.cat([torch.stack([q[:, s] for s in starts], 1), torch.stack([qd[:, s] for s in starts], 1)], -1)
        x0 = x0.reshape(B * nch, 2 * n)
        tau = torch.stack([jt[:, s:s + H] for s in starts], 1).reshape(B * nch, H, -1)
        wc = torch.stack([w[:, s:s + H] for s in starts], 1).reshape(B * nch, H, *w.shape[2:])
        qo = torch.stack([q[:, s + 1:s + H + 1] for s in starts], 1).reshape(B * nch, H, n)
        qdo = torch.stack([qd[:, s + 1:s + H + 1] for s in starts], 1).reshape(B * nch, H, n)
        pc = p.repeat_interleave(nch, 0)
        Mw = self._metric(x0[:, :n], pc, m.repeat_interleave(nch, 0))
        rates = batch["rate"].repeat_interleave(nch, 0)
        per = []
        idx_all = []
        skipped = 0
        for r in torch.unique(rates).tolist():
            idx = torch.nonzero(rates == r).flatten()
            lay = self.forward_layer(r)
            args = (x0[idx], tau[idx], wc[idx], pc[idx], qo[idx], qdo[idx], Mw[idx])
            l, good = self._simulate(lay, *args)
            if not bool(good.all()):
                skipped += int((~good).sum())
                keep = torch.nonzero(good).flatten()
                if len(keep):
                    l, good2 = self._simulate(lay, *(a[keep] for a in args))
                    l = l[good2]
                    skipped += int((~good2).sum())
                    keep = keep[good2]
                else:
                    l = l[:0]
                idx = idx[keep]
            per.append(l)
            idx_all.append(idx)
        per = torch.cat(per)
        self.skipped += skipped
        if per.numel() == 0:
            return (w_per_kg.sum() + jt_per_kg.sum()) * 0.0, skipped
        return per.mean().to(device=dev, dtype=odt), skipped

    def _metric(self, q0, p, mass):
        """(N, n, n) weight of the state errors: M(q0)/mass (kinetic) or the identity (euclidean)."""
        N, n = q0.shape
        if self.cfg.loss.metric == "euclidean":
            return torch.eye(n, dtype=q0.dtype).expand(N, n, n)
        M = self.kernels.mass_matrix(q=q0.detach().numpy(), p=p.detach().numpy())
        return torch.as_tensor(M, dtype=q0.dtype) / mass.detach()[:, None, None]

    def _simulate(self, lay, x0, tau, w, p, qo, qdo, Mw):
        """Per-chunk losses (N,) and the mask of chunks that stayed finite and bounded."""
        L = self.cfg.loss
        n = qo.shape[-1]
        try:
            xs = lay(x0, tau, w, p)
        except InputError:
            if x0.shape[0] == 1:
                return x0.new_zeros(1), torch.zeros(1, dtype=torch.bool)
            parts = [self._simulate(lay, *(a[i:i + 1] for a in (x0, tau, w, p, qo, qdo, Mw)))
                     for i in range(x0.shape[0])]
            return torch.cat([a for a, _ in parts]), torch.cat([g for _, g in parts])
        x = xs[:, 1:]
        good = torch.isfinite(x).all(-1).all(-1) & (x.detach().abs().amax((1, 2)) < L.diverge_threshold)
        dq, dqd = x[..., :n] - qo, x[..., n:] - qdo
        def quad(d):  # d (N, H, n) -> (N,) mean over the H frames of d^T Mw d / n
            return torch.einsum("nhi,nij,nhj->nh", d, Mw, d).mean(1) / n
        l = L.w_q * quad(dq) + L.w_qd * quad(dqd)
        return l, good

    def inverse_loss(self, batch, w_per_kg):
        m = self._to_layer(batch["mass"])
        w = self._to_layer(w_per_kg) * m[:, None, None, None]
        q, qd, qdd, p = (self._to_layer(batch[k]) for k in ("q", "qd", "qdd", "p"))
        res = self.inv(q, qd, qdd, w, p) * self.residual_mask
        return inverse_loss(res, m[:, None]).to(device=w_per_kg.device, dtype=w_per_kg.dtype)

    # --- all ---------------------------------------------------------------------------------
    def __call__(self, batch, out) -> Dict[str, torch.Tensor]:
        """``out``: dict from :meth:`training.checkpoint.Bundle.outputs` (``y_n``, ``target_n``,
        ``w_per_kg``, ``jt_per_kg``). Returns the terms of the variant and ``total``."""
        L = self.cfg.loss
        res = {"sup": supervised_loss(out["y_n"], out["target_n"], batch["labelled"])}
        total = L.w_sup * res["sup"]
        if "fwd" in self.terms:
            res["fwd"], sk = self.forward_loss(batch, out["w_per_kg"], out["jt_per_kg"])
            res["skipped"] = torch.tensor(float(sk))
            total = total + L.w_fwd * res["fwd"]
        if "inv" in self.terms:
            res["inv"] = self.inverse_loss(batch, out["w_per_kg"])
            total = total + L.w_inv * res["inv"]
        res["total"] = total
        return res
