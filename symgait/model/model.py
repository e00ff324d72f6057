"""The public :class:`Model`: names, sizes, subject scaling and physical checks of a model."""
from __future__ import annotations

import hashlib

import numpy as np
import sympy as sp

from ..errors import InputError
from .parse import load_spec
from .spec import ModelSpec


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
        parameter may be overridden by name, e.g. ``thigh_r_length=0.45``.
        """
        subj = dict(self.spec.subject)
        for k, v in (("height", height), ("mass", mass)):
            if v is not None:
                if k not in subj:
                    raise InputError(f"model {self.name!r} has no subject input {k!r}; its inputs are {list(subj)}")
                subj[k] = float(v)
        for k in list(overrides):
            if k in subj:
                subj[k] = float(overrides.pop(k))
        for k, v in subj.items():
            if not np.isfinite(v) or v <= 0:
                raise InputError(f"subject input {k}={v!r} must be a positive finite number")
        unknown = sorted(set(overrides) - set(self.spec.parameter_names))
        if unknown:
            raise InputError(f"unknown parameters {unknown}; model {self.name!r} has {self.spec.parameter_names}")
        env = {sp.Symbol(k): v for k, v in subj.items()}
        values = []
        for name, expr in zip(self.spec.parameter_names, self.spec.parameter_defaults):
            val = float(overrides[name]) if name in overrides else float(expr.subs(env))
            env[sp.Symbol(name)] = val
            values.append(val)
        p = np.array(values, dtype=np.float64)
        self.check_parameters(p)
        return p

    def check_parameters(self, p) -> None:
        """Raise :class:`InputError` if ``p`` (shape (n_p,) or (B, n_p)) is non-physical."""
        p = np.asarray(p, dtype=np.float64)
        if p.shape[-1:] != (self.n_parameters,):
            raise InputError(f"p must have last dimension {self.n_parameters} ({self.parameter_names}), got shape {p.shape}")
        if not np.all(np.isfinite(p)):
            raise InputError("p contains NaN or inf; build it with model.parameters(height=..., mass=...)")
        rows = p.reshape(-1, self.n_parameters)
        for row in rows[: min(len(rows), 4096)]:
            masses = np.atleast_1d(np.asarray(self._mass_fn(row), dtype=float))
            for b, m in zip(self.spec.bodies, masses):
                if not m > 0:
                    raise InputError(f"body {b.name!r} has mass {m:g} kg at these parameters; masses must be > 0")
            for b, I in zip(self.spec.bodies, self._inertia_fn(row)):
                ixx, iyy, izz, ixy, ixz, iyz = (float(x) for x in I)
                mat = np.array([[ixx, ixy, ixz], [ixy, iyy, iyz], [ixz, iyz, izz]])
                ev = np.linalg.eigvalsh(mat)
                if ev[0] <= 0 or ev[0] + ev[1] < ev[2] * (1 - 1e-9):
                    raise InputError(f"body {b.name!r} has a non-physical inertia {I} at these parameters "
                                     f"(principal moments {ev}: must be > 0 and satisfy the triangle inequality)")

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
    """Load a built-in model by name (``planar``, ``gait3d``, ``fullbody``) or a YAML file by path."""
    return Model(load_spec(name_or_path))


