"""The public :class:`Model`: names, sizes, subject scaling and physical checks of a model."""
from __future__ import annotations

import numpy as np
import sympy as sp

from ..parameters import ScaledModel
from ..paths import model_file_hash
from .formulas import compile_body_formulas
from .parse import load_spec
from .spec import ModelSpec
from .urdf import to_urdf


class Model(ScaledModel):
    """A parsed model. ``p`` vectors for the kernels come from :meth:`parameters`; subject scaling and the
    physical checks are :class:`~symgait.parameters.ScaledModel`'s, here on the model file's SymPy
    expressions."""

    def __init__(self, spec: ModelSpec):
        self.spec = spec
        # numeric functions of p for the physical checks: masses and inertias of every body
        self._mass_fn, self._inertia_fn = compile_body_formulas(spec)

    # --- names and sizes -------------------------------------------------------------------
    name = property(lambda self: self.spec.name)
    path = property(lambda self: self.spec.path)  # the model file
    nq = property(lambda self: self.spec.nq, doc="entries of the configuration q")
    nv = property(lambda self: self.spec.nv, doc="entries of the velocity, acceleration and generalized forces "
                                                 "(= nq without quaternion joints)")
    coordinates = property(lambda self: list(self.spec.coordinates), doc="names of q's entries")
    velocities = property(lambda self: list(self.spec.velocities), doc="names of v's (and tau's) entries")
    quaternion_joints = property(lambda self: [list(j) for j in self.spec.quaternion_joints()],
                                 doc="[name, type, q index, v index] of every spherical and free-flyer joint")
    actuated = property(lambda self: [c for c, a in zip(self.spec.velocities, self.spec.actuated) if a])
    actuated_indices = property(lambda self: [i for i, a in enumerate(self.spec.actuated) if a])
    n_actuated = property(lambda self: sum(self.spec.actuated))
    contacts = property(lambda self: [c.name for c in self.spec.contacts])
    n_contacts = property(lambda self: len(self.spec.contacts))
    points = property(lambda self: [p.name for p in self.spec.points])
    parameter_names = property(lambda self: list(self.spec.parameter_names))
    subject_defaults = property(lambda self: dict(self.spec.subject))
    gravity = property(lambda self: self.spec.gravity.copy())
    bodies = property(lambda self: [b.name for b in self.spec.bodies])
    inertia_as_given = property(lambda self: [b.name for b in self.spec.bodies if b.inertia_as_given],
                                doc="bodies whose inertia is not checked against the triangle inequality")
    limits = property(lambda self: dict(self.spec.limits),
                      doc="coordinate -> (lower, upper), for the coordinates whose file gives limits "
                          "(URDF <limit>, MJCF range)")

    import_options = property(lambda self: dict(self.spec.import_options),
                              doc="reader options that changed an imported model ({'floating_root': 'euler'})")

    @property
    def source_hash(self) -> str:
        """SHA-256 of the model file's text (and of the reader options): generated code records it to detect
        staleness."""
        return model_file_hash(self.spec.source, self.spec.import_options)

    def __repr__(self):
        nv = f", nv={self.nv}" if self.nv != self.nq else ""
        return (f"Model({self.name!r}, nq={self.nq}{nv}, actuated={self.n_actuated}, contacts={self.contacts}, "
                f"parameters={self.n_parameters})")

    # --- parameters (ScaledModel's numbers) ---------------------------------------------------
    def parameter_values(self, values: dict) -> list:
        """Every parameter in order: ``values`` (subject inputs, overridden parameters) or the default
        formula, evaluated by SymPy substitution."""
        env = {sp.Symbol(k): v for k, v in values.items()}
        out = []
        for name, expr in zip(self.spec.parameter_names, self.spec.parameter_defaults):
            val = values[name] if name in values else float(expr.subs(env))
            env[sp.Symbol(name)] = val
            out.append(val)
        return out

    def body_masses(self, cols):
        return self._mass_fn(cols)

    def body_inertias(self, cols):
        return self._inertia_fn(cols)

    # --- export ------------------------------------------------------------------------------
    def to_urdf(self, p=None) -> str:
        """URDF text of this model at parameters ``p`` (default: the subject defaults)."""
        if p is None:
            p = self.parameters()
        p = np.asarray(p, dtype=np.float64)
        self.check_parameters(p)
        return to_urdf(self.spec, p)


def load_model(name_or_path, floating_root: str | None = None) -> Model:
    """Load a built-in model by name (``planar``, ``gait3d``, ``fullbody``) or a model file by path: YAML,
    URDF (``.urdf``) or MuJoCo MJCF (``.xml``, ``.mjcf``); see docs/model_format.md. ``floating_root``
    (URDF and MJCF only): a floating (free) root as a quaternion free flyer (``"quaternion"``, the
    default) or as three translations and three Euler angles (``"euler"``)."""
    return Model(load_spec(name_or_path, floating_root))


