"""Subject scaling and the physical checks of a parameter vector ``p``, in numbers (no SymPy).

:class:`ScaledModel` is written once for the two views of a model: :class:`symgait.Model` (the
parsed model file, whose default formulas and body inertias are SymPy expressions) and the
runtime's :class:`~symgait.runtime.generated_model.GeneratedModel` (the same formulas as plain
Python, written by ``symgait generate`` into ``model_data.py``). A subclass supplies the numbers:

- ``name``, ``subject_defaults`` ({input: default}), ``parameter_names``, ``bodies`` (body names);
- ``parameter_values(values)``: every parameter in order, ``values`` holding the subject inputs and
  the overridden parameters (floats); the others take their default formula, which may use the
  subject inputs and the parameters before them;
- ``body_masses(cols)``, ``body_inertias(cols)``: each body's mass and its six inertia entries
  (Ixx, Iyy, Izz, Ixy, Ixz, Iyz) as functions of ``cols``, the parameters as a sequence of
  n_p arrays of one length (numbers or arrays of that length per entry).
"""
from __future__ import annotations

import numpy as np

from .errors import InputError

LENGTH_SUFFIX = "_length"  # parameters named like this are lengths (m) and must be > 0

# plausible subject heights (m) and masses (kg), with the likely unit mistake outside them
SUBJECT_RANGES = {"height": (0.3, 3.0, "m", "a height in cm or mm? 180 cm = 1.80 m"),
                  "mass": (0.5, 500.0, "kg", "a mass in g? 72 600 g = 72.6 kg")}


def as_number(name: str, v) -> float:
    """``v`` as a float, or :class:`InputError` naming ``name`` and the units."""
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


class ScaledModel:
    """``parameters(height=, mass=, **overrides)`` and ``check_parameters(p)`` from the numbers a
    subclass supplies (see the module docstring)."""

    n_parameters = property(lambda self: len(self.parameter_names))
    inertia_as_given = ()  # bodies exempt from the triangle-inequality check (a model file's choice)

    def parameters(self, height: float | None = None, mass: float | None = None, **overrides) -> np.ndarray:
        """Parameter vector ``p`` (float64) for a subject of the given height (m) and mass (kg).

        Defaults come from the model file (de Leva scaling for the built-in models); any
        parameter may be overridden by name, e.g. ``thigh_r_length=0.45``.  A height or mass
        outside :data:`SUBJECT_RANGES` (e.g. a height of 180, in cm) raises :class:`InputError`.
        """
        subj = dict(self.subject_defaults)
        for k, v in (("height", height), ("mass", mass)):
            if v is not None:
                if k not in subj:
                    raise InputError(f"model {self.name!r} has no subject input {k!r}; its inputs are {list(subj)}")
                subj[k] = as_number(k, v)
        for k in list(overrides):
            if k in subj:
                subj[k] = as_number(k, overrides.pop(k))
        for k, v in subj.items():
            if not np.isfinite(v) or v <= 0:
                raise InputError(f"subject input {k}={v!r} must be a positive finite number")
            check_subject_plausible(k, v)
        names = list(self.parameter_names)
        unknown = sorted(set(overrides) - set(names))
        if unknown:
            raise InputError(f"unknown parameters {unknown}; model {self.name!r} has {names}")
        values = dict(subj)
        for name in names:
            if name in overrides:
                values[name] = as_number(name, overrides[name])
        p = np.array([float(v) for v in self.parameter_values(values)], dtype=np.float64)
        self.check_parameters(p)
        return p

    def _body_arrays(self, rows: np.ndarray):
        """Masses (N, n_bodies) and inertia matrices (N, n_bodies, 3, 3) of every row of p."""
        n = len(rows)
        cols = rows.T
        masses = np.stack([np.broadcast_to(np.asarray(m, dtype=float), (n,))
                           for m in self.body_masses(cols)], axis=1)
        inert = np.stack([np.stack([np.broadcast_to(np.asarray(x, dtype=float), (n,)) for x in I], axis=1)
                          for I in self.body_inertias(cols)], axis=1)  # (N, nb, 6)
        ixx, iyy, izz, ixy, ixz, iyz = np.moveaxis(inert, -1, 0)
        mats = np.stack([np.stack([ixx, ixy, ixz], -1), np.stack([ixy, iyy, iyz], -1),
                         np.stack([ixz, iyz, izz], -1)], -2)
        return masses, inert, mats

    def check_parameters(self, p) -> None:
        """Raise :class:`InputError` if ``p`` (shape (n_p,) or (B, n_p)) is non-physical in any row:
        a mass <= 0, an inertia that is not positive definite or violates the triangle inequality
        (bodies in :attr:`inertia_as_given` excepted), or a parameter named ``*_length`` that is <= 0."""
        names = list(self.parameter_names)
        n_p = len(names)
        try:
            p = np.asarray(p, dtype=np.float64)
        except (TypeError, ValueError):
            raise InputError(f"p must be an array of numbers; build it with model.parameters(height=..., "
                             f"mass=...)") from None
        if p.shape[-1:] != (n_p,) or p.ndim > 2:
            raise InputError(f"p must have shape ({n_p},) or (B, {n_p}) ({names}), got shape {p.shape}")
        if not np.all(np.isfinite(p)):
            raise InputError("p contains NaN or inf; build it with model.parameters(height=..., mass=...)")
        rows = p.reshape(p.shape[0] if p.ndim == 2 else 1, n_p)  # n_p may be 0 (an imported model)
        per_sample = p.ndim == 2
        if len(rows) > 1:  # runs of equal rows (a per-sequence p repeated over its frames) checked once
            first = np.flatnonzero(np.r_[True, np.any(rows[1:] != rows[:-1], axis=1)])
            rows = rows[first]
        else:
            first = np.zeros(1, dtype=np.intp)
        at = (lambda r: f" (sample {first[r]} of p)") if per_sample else (lambda r: "")
        lengths = [i for i, n in enumerate(names) if n.endswith(LENGTH_SUFFIX)]
        if lengths:
            bad = np.argwhere(~(rows[:, lengths] > 0))
            if len(bad):
                r, j = bad[0]
                name = names[lengths[j]]
                raise InputError(f"parameter {name}={rows[r, lengths[j]]:g} m{at(r)}; lengths must be > 0")
        masses, inert, mats = self._body_arrays(rows)
        bodies = list(self.bodies)
        bad = np.argwhere(~(masses > 0))
        if len(bad):
            r, b = bad[0]
            raise InputError(f"body {bodies[b]!r} has mass {masses[r, b]:g} kg at these "
                             f"parameters{at(r)}; masses must be > 0")
        ev = np.linalg.eigvalsh(mats)  # (N, nb, 3), ascending
        exempt = np.isin(bodies, list(self.inertia_as_given))
        bad = np.argwhere((ev[..., 0] <= 0) | ((ev[..., 0] + ev[..., 1] < ev[..., 2] * (1 - 1e-9)) & ~exempt))
        if len(bad):
            r, b = bad[0]
            raise InputError(f"body {bodies[b]!r} has a non-physical inertia "
                             f"{[float(x) for x in inert[r, b]]} at these parameters{at(r)} (principal moments "
                             f"{ev[r, b]}: must be > 0 and satisfy the triangle inequality)")
