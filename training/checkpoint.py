"""Trained models: :class:`Bundle` (config, model name, network, feature normaliser) and its
checkpoint files.

A checkpoint (``torch.save`` of a plain dict) holds ``cfg`` (dict), ``model`` (name or YAML path),
``net`` (state dict), ``normalizer`` (state dict), ``n_features``, ``rate`` (the frame rate of the
training sequences, Hz: the temporal convolutions are in frames, so prediction needs sequences at
that rate; None for older checkpoints) and optionally ``train_state`` (for resuming: optimizer and
learning-rate scheduler states, step, the RNG states of torch, numpy and Python's ``random``, the
position in the data order, the log accumulators and the best validation score) and ``history``
(logged records). :func:`save` writes atomically.
"""
from __future__ import annotations

import importlib.resources
from pathlib import Path
from typing import Dict, Optional

import numpy as np
import torch

from symgait.atomic import atomic_write, deferred_interrupt
from symgait.errors import SymgaitError

from .batch import sequence_batch
from .config import Config
from .features import Featurizer, Normalizer
from .networks import OutputLayout, build_network
import symgait
from .pcnet import PhysicsConsistent
from symgait.errors import InputError
from symgait.trials.augment import mirror_map

__all__ = ["Bundle", "CheckpointError", "save", "load"]

_KEYS = ("cfg", "model", "net", "normalizer", "n_features")


class CheckpointError(SymgaitError, ValueError):
    """A file that is not a readable training checkpoint."""


class Bundle:
    """A trained (or training) network with everything needed to predict from motion."""

    def __init__(self, cfg: Config, model_name: str, net: torch.nn.Module, normalizer: Normalizer,
                 model=None, train_state: Optional[dict] = None, history: Optional[list] = None,
                 rate: Optional[float] = None, seen: Optional[dict] = None):
        self.rate = float(rate) if rate else None
        self.seen = seen  # the subjects and trials it trained and validated on (training.provenance)
        self.cfg, self.model_name = cfg, model_name
        self.model = model if model is not None else symgait.load_model(model_name)
        self.featurizer = Featurizer(self.model, contacts=cfg.variant == "cfinet")
        self.layout = OutputLayout.for_model(self.model)
        self.net, self.normalizer = net, normalizer
        self.physics = None
        if cfg.variant == "pcnet":
            dt = torch.float64 if cfg.loss.layer_dtype == "float64" else torch.float32
            self.physics = PhysicsConsistent(self.model, self.featurizer, dt)
        self.train_state = train_state
        self.history = history or []
        self._mirror = None  # the model's sagittal mirror map, made on the first mirrored prediction

    @classmethod
    def create(cls, cfg: Config, sequences, model=None) -> "Bundle":
        """A fresh network (seeded by the caller) with statistics fitted on ``sequences``."""
        model = model if model is not None else symgait.load_model(cfg.model)
        feat = Featurizer(model, contacts=cfg.variant == "cfinet")
        lay = OutputLayout.for_model(model)
        norm = Normalizer.fit(feat, sequences, lay)
        net = build_network(cfg, model, feat.n_features)
        rates = sorted({round(float(s.rate), 6) for s in sequences})
        return cls(cfg, cfg.model, net, norm, model=model, rate=rates[0] if len(rates) == 1 else None)

    @property
    def device(self) -> torch.device:
        return next(self.net.parameters()).device

    # --- prediction --------------------------------------------------------------------------
    def outputs(self, batch: Dict[str, torch.Tensor], net=None) -> Dict[str, torch.Tensor]:
        """Network outputs for a collated batch: ``y_n`` (B, T, O) normalised heading-frame per-kg
        outputs, ``target_n`` (the labels the same way; NaN where unlabelled), ``w_per_kg`` (B, T, nc, 6)
        world frame, ``jt_per_kg`` (B, T, n_act), ``psi`` (B, T) heading."""
        net = net if net is not None else self.net
        dev = self.device
        q, qd = batch["q"].to(dev, torch.float64), batch["qd"].to(dev, torch.float64)
        contact = batch.get("contact")
        contact = contact.to(dev) if contact is not None and self.featurizer.use_contacts else None
        f = self.featurizer(q, qd, contact)
        x = self.normalizer.normalize_features(f.float())
        y_n = net(x)
        psi = self.featurizer.heading(q)
        if self.physics is not None:  # pcnet: wrenches distribute the motion's total force
            w, jt = self.physics(batch, y_n, psi)
            y_n = self.normalizer.normalize_targets(
                self.layout.join(self.featurizer.to_heading(w, psi.to(w.dtype)), jt))
        else:
            y = self.normalizer.denormalize_outputs(y_n)
            wh, jt = self.layout.split(y)
            w = self.featurizer.to_world(wh, psi.to(wh.dtype))
        out = {"y_n": y_n, "w_per_kg": w, "jt_per_kg": jt, "psi": psi}
        if "w" in batch and "JT" in batch:
            m = batch["mass"].to(dev, torch.float64)
            tw = self.featurizer.to_heading(batch["w"].to(dev, torch.float64), psi) / m[:, None, None, None]
            tj = batch["JT"].to(dev, torch.float64) / m[:, None, None]
            out["target_n"] = self.normalizer.normalize_targets(self.layout.join(tw, tj).float())
        return out

    def predict_batch(self, batch: Dict[str, torch.Tensor], net=None):
        """(w_per_kg (B, T, nc, 6) world frame, jt_per_kg (B, T, n_act)) tensors."""
        o = self.outputs(batch, net)
        return o["w_per_kg"], o["jt_per_kg"]

    @torch.no_grad()
    def predict(self, seq, *, mirror: Optional[bool] = None) -> Dict[str, np.ndarray]:
        """Whole sequence -> ``w`` (T, nc, 6) world force (N) and moment (N m) about each contact
        body's origin, ``JT`` (T, n_act) joint torques (N m).

        ``mirror`` (default: the config's ``predict.mirror``): the mean of this prediction and the
        mirror image of the prediction on the trial's sagittal mirror image (test-time mirroring;
        the network was trained on both sides when ``data.mirror``)."""
        if self.rate and abs(float(seq.rate) - self.rate) > 1e-3 * self.rate:
            raise InputError(f"sequence {seq.name!r} is at {seq.rate:g} Hz but this network was trained at "
                             f"{self.rate:g} Hz (its convolutions count frames): resample it first, "
                             f"training.data.resample(seq, {self.rate:g}) (predict --rate does this)")
        out = self._predict_one(seq)
        if self.cfg.predict.mirror if mirror is None else mirror:
            if self._mirror is None:
                self._mirror = mirror_map(self.model)
            m = self._mirror
            back = self._predict_one(m.sequence(seq))
            out = {"w": 0.5 * (out["w"] + m.wrenches(back["w"])),
                   "JT": 0.5 * (out["JT"] + m.actuated(back["JT"], self.model.actuated_indices))}
        return out

    def _predict_one(self, seq) -> Dict[str, np.ndarray]:
        was = self.net.training
        self.net.eval()
        try:
            b = sequence_batch(seq)
            b.pop("w"), b.pop("JT")
            w, jt = self.predict_batch(b)
        finally:
            self.net.train(was)
        return {"w": w[0].double().cpu().numpy() * seq.mass, "JT": jt[0].double().cpu().numpy() * seq.mass}

    # --- state ---------------------------------------------------------------------------------
    def state(self, train_state: Optional[dict] = None) -> dict:
        net = self.net.module if hasattr(self.net, "module") else self.net
        return {"cfg": self.cfg.to_dict(), "model": self.model_name,
                "net": {k: v.detach().cpu() for k, v in net.state_dict().items()},
                "normalizer": self.normalizer.state_dict(), "n_features": self.featurizer.n_features,
                "rate": self.rate, "seen": self.seen,
                "train_state": train_state, "history": list(self.history)}


def save(path, bundle_state) -> Path:
    """Write a checkpoint (a :meth:`Bundle.state` dict, or a Bundle) atomically: into a temporary file
    of a unique name in the same folder, flushed and fsynced, then renamed over ``path``
    (``os.replace``) and the folder fsynced (:func:`symgait.atomic.atomic_write`). A reader (or a
    run killed at any moment, SIGKILL included) sees the previous complete file or the new one, never a partial one; a kill during the
    write leaves at most a ``.<name>.*.tmp`` file beside it. Ctrl-C during the write is delivered
    once the file is complete (:func:`symgait.atomic.deferred_interrupt`)."""
    if isinstance(bundle_state, Bundle):
        bundle_state = bundle_state.state()
    with deferred_interrupt(), atomic_write(path, "wb") as f:   # Ctrl-C: after the file is whole
        torch.save(bundle_state, f)
    return Path(path)


SHIPPED = ("pretrained", "gait3d-pcnet", "best.pt")  # the trained model in the package (docs/model-card.md)


def shipped_checkpoint() -> Path:
    """The checkpoint shipped in the package, which ``predict`` uses when none is given
    (docs/model-card.md: what it trained on, its errors on unseen subjects, how to rebuild it)."""
    path = Path(str(importlib.resources.files("training").joinpath(*SHIPPED)))
    if not path.is_file():
        raise CheckpointError(f"the shipped model {path} is missing from this installation; reinstall symgait, or "
                              f"give --checkpoint (a best.pt written by `symgait train`)")
    return path


def load(path, map_location="cpu") -> Bundle:
    """A :class:`Bundle` from a checkpoint (``.train_state`` holds the resume state, if saved)."""
    try:
        d = torch.load(path, map_location=map_location, weights_only=False)
    except FileNotFoundError:
        raise CheckpointError(f"checkpoint {path} not found") from None
    except (IsADirectoryError, PermissionError) as e:
        raise CheckpointError(f"checkpoint {path}: {e.strerror}") from None
    except Exception as e:  # torch.load raises pickle, zip and runtime errors for a foreign file
        raise CheckpointError(f"{path} is not a training checkpoint (torch.load: {type(e).__name__}: "
                              f"{str(e)[:200]}); give the last.pt written by `python -m training train`") \
            from None
    missing = [k for k in _KEYS if not isinstance(d, dict) or k not in d]
    if missing:
        raise CheckpointError(f"{path} is not a training checkpoint (it lacks {missing}); give the last.pt "
                              f"written by `python -m training train`")
    cfg = Config.from_dict(d["cfg"])
    model = symgait.load_model(d["model"])
    net = build_network(cfg, model, d["n_features"])
    net.load_state_dict(d["net"])
    net.to(map_location if map_location is not None else "cpu")
    return Bundle(cfg, d["model"], net, Normalizer.from_state_dict(d["normalizer"]), model=model,
                  train_state=d.get("train_state"), history=d.get("history"), rate=d.get("rate"),
                  seen=d.get("seen"))
