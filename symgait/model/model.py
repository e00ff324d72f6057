"""The public :class:`Model`: names, sizes, subject scaling and physical checks of a model."""
from __future__ import annotations

import hashlib

import numpy as np
import sympy as sp

from ..errors import InputError
from .parse import load_spec
from .spec import ModelSpec


LENGTH_SUFFIX = "_length"  # parameters named like this are lengths (m) and must be > 0

# plausible subject heights (m) and masses (kg), with the likely unit mistake outside them
SUBJECT_RANGES = {"height": (0.3, 3.0, "m", "a height in cm or mm? 180 cm = 1.80 m"),
                  "mass": (0.5, 500.0, "kg", "a mass in g? 72 600 g = 72.6 kg")}


def _number(name: str, v) -> float:
    if isinstance(v, bool):
        raise InputError(f"{name}={v!r} must be a number")
    try:
        return float(v)
    except (TypeError, ValueError):
        raise InputError(f"{name}={v!r} must be a number (height in m, mass in kg, lengths in m)") from None


def check_subject_plausible(name: str, value: float) -> None:
    """Raise :class:`InputError` naming the likely unit mistake if a subject's height or mass is outside
    :data:`SUBJECT_RANGES`."""
    if name not in SUBJECT_RANGES:
        return
    lo, hi, unit, hint = SUBJECT_RANGES[name]
    if not lo <= value <= hi:
        raise InputError(f"{name}={value:g} {unit} is not a plausible human {name} ({lo:g}-{hi:g} {unit}); "
                         f"{hint}")


class Model:
    """A parsed model. ``p`` vectors for the kernels come from :meth:`parameters`."""

    def __init__(self, spec: ModelSpec):
        self.spec = spec
        psyms = spec.parameter_symbols
        # numeric functions of p for the physical checks: masses and inertias of every body
        self._mass_fn = sp.lambdify([psyms], [b.mass for b in spec.bodies], "numpy")
        self._inertia_fn = sp.lambdify([psyms], [list(b.inertia) for b in spec.bodies], "numpy")

    # --- names and sizes -------------------------------------------------------------------
    name = property(lambda self: self.spec.name)
    nq = property(lambda self: self.spec.nq)
    coordinates = property(lambda self: list(self.spec.coordinates))
    actuated = property(lambda self: [c for c, a in zip(self.spec.coordinates, self.spec.actuated) if a])
    actuated_indices = property(lambda self: [i for i, a in enumerate(self.spec.actuated) if a])
    n_actuated = property(lambda self: sum(self.spec.actuated))
    contacts = property(lambda self: [c.name for c in self.spec.contacts])
    n_contacts = property(lambda self: len(self.spec.contacts))
    points = property(lambda self: [p.name for p in self.spec.points])
    parameter_names = property(lambda self: list(self.spec.parameter_names))
    n_parameters = property(lambda self: len(self.spec.parameter_names))
    gravity = property(lambda self: self.spec.gravity.copy())
    bodies = property(lambda self: [b.name for b in self.spec.bodies])
    limits = property(lambda self: dict(self.spec.limits),
                      doc="coordinate -> (lower, upper), for the coordinates whose file gives limits "
                          "(URDF <limit>, MJCF range)")

    @property
    def source_hash(self) -> str:
        """SHA-256 of the model file's text: generated code records it to detect staleness."""
        return hashlib.sha256(self.spec.source.encode()).hexdigest()

    def __repr__(self):
        return (f"Model({self.name!r}, nq={self.nq}, actuated={self.n_actuated}, contacts={self.contacts}, "
                f"parameters={self.n_parameters})")

    # --- parameters --------------------------------------------------------------------------
    def parameters(self, height: float | None = None, mass: float | None = None, **overrides) -> np.ndarray:
        """Parameter vector ``p`` (float64) for a subject of the given height (m) and mass (kg).

        Defaults come from the model file (de Leva scaling for the built-in models); any
        parameter may be overridden by name, e.g. ``thigh_r_length=0.45``.  A height or mass
        outside :data:`SUBJECT_RANGES` (e.g. a height of 180, in cm) raises :class:`InputError`.
        """
        subj = dict(self.spec.subject)
        for k, v in (("height", height), ("mass", mass)):
            if v is not None:
                if k not in subj:
                    raise InputError(f"model {self.name!r} has no subject input {k!r}; its inputs are {list(subj)}")
                subj[k] = _number(k, v)
        for k in list(overrides):
            if k in subj:
                subj[k] = _number(k, overrides.pop(k))
        for k, v in subj.items():
            if not np.isfinite(v) or v <= 0:
                raise InputError(f"subject input {k}={v!r} must be a positive finite number")
            check_subject_plausible(k, v)
        unknown = sorted(set(overrides) - set(self.spec.parameter_names))
        if unknown:
            raise InputError(f"unknown parameters {unknown}; model {self.name!r} has {self.spec.parameter_names}")
        env = {sp.Symbol(k): v for k, v in subj.items()}
        values = []
        for name, expr in zip(self.spec.parameter_names, self.spec.parameter_defaults):
            val = _number(name, overrides[name]) if name in overrides else float(expr.subs(env))
            env[sp.Symbol(name)] = val
            values.append(val)
        p = np.array(values, dtype=np.float64)
        self.check_parameters(p)
        return p

    def _body_arrays(self, rows: np.ndarray):
        """Masses (N, n_bodies) and inertia matrices (N, n_bodies, 3, 3) of every row of p."""
        n = len(rows)
        cols = rows.T
        masses = np.stack([np.broadcast_to(np.asarray(m, dtype=float), (n,))
                           for m in self._mass_fn(cols)], axis=1)
        inert = np.stack([np.stack([np.broadcast_to(np.asarray(x, dtype=float), (n,)) for x in I], axis=1)
                          for I in self._inertia_fn(cols)], axis=1)  # (N, nb, 6)
        ixx, iyy, izz, ixy, ixz, iyz = np.moveaxis(inert, -1, 0)
        mats = np.stack([np.stack([ixx, ixy, ixz], -1), np.stack([ixy, iyy, iyz], -1),
                         np.stack([ixz, iyz, izz], -1)], -2)
        return masses, inert, mats

    def check_parameters(self, p) -> None:
        """Raise :class:`InputError` if ``p`` (shape (n_p,) or (B, n_p)) is non-physical in any row:
        a mass <= 0, an inertia that is not positive definite or violates the triangle inequality,
        or a parameter named ``*_length`` that is <= 0."""
        try:
            p = np.asarray(p, dtype=np.float64)
        except (TypeError, ValueError):
            raise InputError(f"p must be an array of numbers; build it with model.parameters(height=..., "
                             f"mass=...)") from None
        if p.shape[-1:] != (self.n_parameters,) or p.ndim > 2:
            raise InputError(f"p must have shape ({self.n_parameters},) or (B, {self.n_parameters}) "
                             f"({self.parameter_names}), got shape {p.shape}")
        if not np.all(np.isfinite(p)):
            raise InputError("p contains NaN or inf; build it with model.parameters(height=..., mass=...)")
        rows = p.reshape(p.shape[0] if p.ndim == 2 else 1, self.n_parameters)
        per_sample = p.ndim == 2
        if len(rows) > 1:  # runs of equal rows (a per-sequence p repeated over its frames) checked once
            first = np.flatnonzero(np.r_[True, np.any(rows[1:] != rows[:-1], axis=1)])
            rows = rows[first]
        else:
            first = np.zeros(1, dtype=np.intp)
        at = (lambda r: f" (sample {first[r]} of p)") if per_sample else (lambda r: "")
        lengths = [i for i, n in enumerate(self.parameter_names) if n.endswith(LENGTH_SUFFIX)]
        if lengths:
            bad = np.argwhere(~(rows[:, lengths] > 0))
            if len(bad):
                r, j = bad[0]
                name = self.parameter_names[lengths[j]]
                raise InputError(f"parameter {name}={rows[r, lengths[j]]:g} m{at(r)}; lengths must be > 0")
        masses, inert, mats = self._body_arrays(rows)
        bad = np.argwhere(~(masses > 0))
        if len(bad):
            r, b = bad[0]
            raise InputError(f"body {self.spec.bodies[b].name!r} has mass {masses[r, b]:g} kg at these "
                             f"parameters{at(r)}; masses must be > 0")
        ev = np.linalg.eigvalsh(mats)  # (N, nb, 3), ascending
        bad = np.argwhere((ev[..., 0] <= 0) | (ev[..., 0] + ev[..., 1] < ev[..., 2] * (1 - 1e-9)))
        if len(bad):
            r, b = bad[0]
            raise InputError(f"body {self.spec.bodies[b].name!r} has a non-physical inertia "
                             f"{[float(x) for x in inert[r, b]]} at these parameters{at(r)} (principal moments "
                             f"{ev[r, b]}: must be > 0 and satisfy the triangle inequality)")

    # --- export ------------------------------------------------------------------------------
    def to_urdf(self, p=None) -> str:
        """URDF text of this model at parameters ``p`` (default: the subject defaults)."""
        from .urdf import to_urdf
        if p is None:
            p = self.parameters()
        p = np.asarray(p, dtype=np.float64)
        self.check_parameters(p)
        return to_urdf(self.spec, p)


def load_model(name_or_path) -> Model:
    """Load a built-in model by name (``planar``, ``gait3d``, ``fullbody``) or a model file by path: YAML,
    URDF (``.urdf``) or MuJoCo MJCF (``.xml``, ``.mjcf``); see docs/model_format.md."""
    return Model(load_spec(name_or_path))


