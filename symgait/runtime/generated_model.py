"""A model as its generated code describes it: names, sizes, subject scaling and physical checks,
read from ``manifest.json`` and ``model_data.py`` (written by ``symgait generate``), without SymPy.

:func:`symgait.kernels` of a built-in model's name builds its kernels on this (``k.model``), so
that the runtime starts without parsing the model file; given a :class:`symgait.Model` the kernels
keep that model as ``k.model``, and use this view of the generated code for their own checks
(the same numbers: ``model_data.py`` holds the model file's formulas, see
:mod:`symgait.codegen.model_data`)."""
from __future__ import annotations

import numpy as np

from ..parameters import ScaledModel


class GeneratedModel(ScaledModel):
    """The names, sizes and numbers of a model's generated code (the public attributes of
    :class:`symgait.Model` other than its parsed ``spec`` and URDF export: ``nq``, ``nv``,
    ``coordinates``, ``velocities``, ``quaternion_joints``, ...).

    model_file: the model's identity (``name``, ``path``, ``source_hash``, checked against the
    manifest by the loader); manifest: the parsed ``manifest.json``; data: the imported
    ``model_data.py``."""

    def __init__(self, model_file, manifest: dict, data):
        self.name = model_file.name
        self.path = model_file.path
        self.source_hash = model_file.source_hash
        self.manifest = manifest
        self.nq = int(manifest["nq"])
        self.coordinates = list(manifest["coordinates"])
        # written only for models with quaternion joints (spherical, free flyer): v differs from q
        self.nv = int(manifest.get("nv", self.nq))
        self.velocities = list(manifest.get("velocities", self.coordinates))
        self.quaternion_joints = [list(j) for j in manifest.get("quaternion_joints", [])]
        self.actuated = list(manifest["actuated"])
        act = set(self.actuated)
        self.actuated_indices = [i for i, c in enumerate(self.velocities) if c in act]
        self.n_actuated = len(self.actuated)
        self.contacts = list(manifest["contacts"])
        self.n_contacts = len(self.contacts)
        self.points = list(manifest["points"])
        self.parameter_names = list(manifest["parameters"])
        self.subject_defaults = {k: float(v) for k, v in manifest["subject"].items()}
        self.bodies = list(manifest["bodies"])
        self._gravity = np.array(manifest["gravity"], dtype=float)
        self._data = data

    gravity = property(lambda self: self._gravity.copy())

    def __repr__(self):
        nv = f", nv={self.nv}" if self.nv != self.nq else ""
        return (f"GeneratedModel({self.name!r}, nq={self.nq}{nv}, actuated={self.n_actuated}, "
                f"contacts={self.contacts}, parameters={self.n_parameters})")

    def parameter_values(self, values: dict) -> list:
        return self._data.parameter_values(values)

    def body_masses(self, cols):
        return self._data.body_masses(cols)

    def body_inertias(self, cols):
        return self._data.body_inertias(cols)
