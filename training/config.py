"""Training configuration: nested dataclasses, YAML files merged onto the defaults, ``key=value``
overrides (``train.steps=200``, ``variant=cfinet``, ``loss.w_fwd=0.5``).

Sections: ``data`` (windows, synthetic set), ``loss`` (weights and physics-layer settings),
``net`` (temporal convolutional network), ``train`` (optimisation, device, logging).
Unknown keys raise :class:`ConfigError` naming the nearest valid key and the valid keys of the section;
a value of the wrong type (``train.steps=abc``, ``train.lr=[1]``, a bool for an int) is an error, never a
silent cast.
"""
from __future__ import annotations

import dataclasses
import difflib
import importlib.resources
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional

import yaml

__all__ = ["KINEMATICS", "Config", "DataConfig", "LossConfig", "NetConfig", "TrainConfig", "ConfigError",
           "load_config", "builtin_configs", "VARIANTS", "CONFIG_DIR"]

VARIANTS = ("baseline", "fnet", "finet", "cfinet", "pcnet")
CONFIG_DIR = importlib.resources.files("training") / "configs"  # built-in configs (package data)


class ConfigError(ValueError):
    """A bad configuration key or value (the message names the valid choices)."""


# data.kinematics: the motion a dataset's training subjects train on (training.data.load_dataset)
KINEMATICS = ("measured", "consistent")


@dataclass
class DataConfig:
    window: int = 32            # frames per training window (network input length)
    stride: int = 8             # frames between window starts
    # built-in synthetic set (``--data synthetic``)
    n_sequences: int = 8        # training sequences
    n_test: int = 2             # held-out test sequences (all labelled)
    n_val: int = 1              # validation sequences (labelled; best.pt, early stopping), apart from test
    val_fraction: float = 0.2   # dataset: share of the training subjects held out for validation
    seconds: float = 4.0
    n_labelled: int = 2         # training sequences that keep their force labels (-1: all)
    seed: int = 0
    labelled_fraction: float = 0.5  # share of each batch drawn from labelled windows (<0: uniform)
    mirror: bool = True         # add the sagittal mirror image of every training window (symgait.trials.augment)
    # dataset: "consistent" trains on the training subjects' motion changed within the marker error
    # to agree with their plates (symgait.trials.residual_reduction); validation and test stay measured
    kinematics: str = "measured"
    # dataset: subjects left out of training and validation altogether (e.g. the subject of a trial
    # shipped to test the trained model on someone it never saw)
    exclude_subjects: List[str] = field(default_factory=list)


@dataclass
class LossConfig:
    w_sup: float = 1.0          # supervised MSE (normalised per channel, per kg)
    w_fwd: float = 1.0          # forward-dynamics loss
    w_inv: float = 0.1          # inverse-dynamics residual loss (finet, cfinet)
    pcnet_fwd: bool = False     # pcnet: add the forward loss (w_fwd) to the supervised one
    horizon: int = 8            # frames simulated from each observed state (0: whole window)
    substeps: int = 1
    integrator: str = "semi_implicit_euler"   # or "rk4"
    gradient: str = "adjoint"   # or "sensitivity"
    layer_dtype: str = "float64"  # or "float32"
    w_q: float = 100.0          # weight of (q_sim - q)^2 (rad^2, m^2)
    w_qd: float = 1.0           # weight of (qd_sim - qd)^2
    metric: str = "kinetic"     # "kinetic": errors weighted by M(q)/mass (see losses.py); "euclidean"
    clamp_per_kg: float = 60.0  # |predicted wrench / torque per kg| fed to the layers is clipped to this
    diverge_threshold: float = 1.0e3  # a simulated |state| above this marks the sample diverged (skipped)


@dataclass
class NetConfig:
    hidden: int = 128
    layers: int = 4             # residual blocks (dilations 1, 2, 4, ... cycling up to 8)
    kernel_size: int = 5        # odd
    dropout: float = 0.1


@dataclass
class TrainConfig:
    steps: int = 1000
    batch_size: int = 32
    lr: float = 1.0e-3
    lr_schedule: str = "constant"  # or "cosine": lr * (1 + cos(pi * step / steps)) / 2
    weight_decay: float = 1.0e-4
    grad_clip: float = 1.0      # global gradient-norm clip (0: off)
    seed: int = 0
    device: str = "cpu"         # cpu | cuda | auto
    log_every: int = 20
    ckpt_every: int = 200
    num_threads: int = 1        # torch and numba threads per process (0: leave as is)
    val_windows: int = 64       # windows of the validation set evaluated at each log step
    patience: int = 0           # stop after this many validations without a better best.pt (0: never)


@dataclass
class PredictConfig:
    # average each prediction with the mirror-backed prediction of the trial's sagittal mirror image
    # (test-time mirroring; symgait.trials.augment.mirror_map): feet exchanged, ML components flipped
    mirror: bool = False


@dataclass
class Config:
    model: str = "planar"
    variant: str = "fnet"       # baseline | fnet | finet | cfinet | pcnet
    data: DataConfig = field(default_factory=DataConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    net: NetConfig = field(default_factory=NetConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    predict: PredictConfig = field(default_factory=PredictConfig)

    def to_dict(self) -> Dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: Optional[Dict[str, Any]]) -> "Config":
        cfg = cls()
        _merge(cfg, d or {}, "")
        cfg.validate()
        return cfg

    def validate(self) -> "Config":
        if self.variant not in VARIANTS:
            raise ConfigError(f"variant must be one of {VARIANTS}, got {self.variant!r}")
        choices = {"loss.metric": ("kinetic", "euclidean"), "loss.integrator": ("rk4", "semi_implicit_euler"), "loss.gradient": ("adjoint", "sensitivity"),
                   "loss.layer_dtype": ("float64", "float32"), "train.device": ("cpu", "cuda", "auto"),
                   "train.lr_schedule": ("constant", "cosine"),
                   "data.kinematics": KINEMATICS}
        for key, ok in choices.items():
            sec, name = key.split(".")
            v = getattr(getattr(self, sec), name)
            if v not in ok:
                raise ConfigError(f"{key} must be one of {ok}, got {v!r}")
        if self.net.kernel_size % 2 != 1:
            raise ConfigError(f"net.kernel_size must be odd (non-causal 'same' convolution), got {self.net.kernel_size}")
        for key in ("data.window", "train.steps", "train.batch_size", "loss.substeps", "train.log_every",
                    "train.ckpt_every", "net.hidden", "net.layers"):
            sec, name = key.split(".")
            if getattr(getattr(self, sec), name) < 1:
                raise ConfigError(f"{key} must be >= 1, got {getattr(getattr(self, sec), name)}")
        if self.data.window < 2:
            raise ConfigError("data.window must be >= 2 frames (the forward loss needs one step)")
        return self


def _fields(obj) -> Dict[str, dataclasses.Field]:
    return {f.name: f for f in dataclasses.fields(obj)}


def _nearest(key: str, valid) -> str:
    """`` (did you mean 'x'?)`` for the valid key closest to a misspelt one, else ``""``."""
    close = difflib.get_close_matches(key, list(valid), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _coerce(value, current, key: str):
    """``value`` checked against the type of the default ``current``: a bool only for a bool, an
    integer (or a float with an integral value, e.g. ``1e3`` written ``1.0e3``) for an int, a number
    (or a string holding one, as YAML reads ``1e-3``) for a float, a string for a string. Anything
    else is a :class:`ConfigError`, never a silent cast."""
    def bad(expected):
        return ConfigError(f"{key} expects {expected}, got {value!r} ({type(value).__name__}); "
                           f"e.g. {key}={current!r}")
    if isinstance(current, bool):
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("1", "true", "yes", "on", "0", "false", "no", "off"):
            return value.lower() in ("1", "true", "yes", "on")
        raise bad("true or false")
    if isinstance(current, int):
        if isinstance(value, bool):
            raise bad("an integer")
        if isinstance(value, int):
            return value
        if isinstance(value, float) and math.isfinite(value) and value.is_integer():
            return int(value)
        raise bad("an integer")
    if isinstance(current, float):
        if isinstance(value, bool):
            raise bad("a number")
        if isinstance(value, (int, float)):
            return float(value)
        if isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                pass
        raise bad("a number")
    if isinstance(current, str):
        if isinstance(value, str):
            return value
        raise bad("a string")
    if isinstance(current, list):
        if isinstance(value, str):  # --set data.exclude_subjects=a,b
            value = [v.strip() for v in value.split(",") if v.strip()]
        if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
            return list(value)
        raise bad("a list of strings")
    return value


def _merge(obj, d: Dict[str, Any], prefix: str):
    if not isinstance(d, dict):
        raise ConfigError(f"{prefix.rstrip('.') or 'config'} must be a mapping of keys to values, got {d!r}")
    fs = _fields(obj)
    for k, v in d.items():
        if not isinstance(k, str) or k not in fs:
            raise ConfigError(f"unknown config key {prefix + str(k)!r}{_nearest(str(k), fs)}; valid keys"
                              f"{' in ' + prefix.rstrip('.') if prefix else ''}: {', '.join(sorted(fs))}")
        cur = getattr(obj, k)
        if dataclasses.is_dataclass(cur):
            _merge(cur, v, prefix + k + ".")
        else:
            setattr(obj, k, _coerce(v, cur, prefix + k))


def _override(cfg: Config, item: str):
    if "=" not in item:
        raise ConfigError(f"override {item!r} must look like key=value (e.g. train.steps=200)")
    key, raw = item.split("=", 1)
    key = key.strip()
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError as e:
        raise ConfigError(f"in override {item!r}: the value is not valid YAML ({str(e).splitlines()[0]}); "
                          f"quote strings, e.g. {key}='...'") from None
    parts = key.split(".")
    d: Dict[str, Any] = {}
    cur = d
    for p in parts[:-1]:
        cur = cur.setdefault(p, {})
    cur[parts[-1]] = value
    try:
        _merge(cfg, d, "")
    except ConfigError as e:
        raise ConfigError(f"in override {item!r}: {e}") from None


def builtin_configs() -> list:
    """Names of the built-in configs (``training/configs/*.yaml``)."""
    return sorted(x.name[:-5] for x in CONFIG_DIR.iterdir() if x.name.endswith(".yaml"))


def load_config(path=None, overrides: Iterable[str] = ()) -> Config:
    """Defaults, then the YAML file ``path`` (a path, or a name in ``training/configs`` such as
    ``"tiny"``), then ``overrides`` (``"section.key=value"``, values parsed as YAML)."""
    cfg = Config()
    if path is not None:
        p = Path(path)
        if not p.exists() and CONFIG_DIR.joinpath(f"{path}.yaml").is_file():
            p = CONFIG_DIR.joinpath(f"{path}.yaml")
        if not p.is_file():
            raise ConfigError(f"config file {path} not found (built-in: {', '.join(builtin_configs())})")
        try:
            d = yaml.safe_load(p.read_text()) or {}
        except yaml.YAMLError as e:
            raise ConfigError(f"{p}: not valid YAML: {e}") from None
        try:
            _merge(cfg, d, "")
        except ConfigError as e:
            raise ConfigError(f"{p}: {e}") from None
    for item in overrides or ():
        _override(cfg, item)
    return cfg.validate()
