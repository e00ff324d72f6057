"""Each body's mass and inertia as Python source in the parameters ``p`` (SymPy's NumPy printer).

One text for both views of a model: :class:`symgait.Model` compiles it for its physical checks, and
``symgait generate`` writes it into ``model_data.py`` for the runtime
(:mod:`symgait.codegen.model_data`), so the two check a parameter vector with the same operations in
the same order.
"""
from __future__ import annotations

import numpy as np
import sympy as sp
from sympy.printing.numpy import NumPyPrinter

from .spec import ModelSpec


def body_formulas_source(spec: ModelSpec) -> str:
    """Source of ``body_masses(p)`` and ``body_inertias(p)`` (needs ``numpy`` in its globals)."""
    printer = NumPyPrinter()
    masses = ",\n        ".join(printer.doprint(sp.sympify(b.mass)) for b in spec.bodies)
    inertias = ",\n        ".join("[" + ", ".join(printer.doprint(sp.sympify(x)) for x in b.inertia) + "]"
                                  for b in spec.bodies)
    return ("def body_masses(p):\n"
            "    \"\"\"Mass (kg) of each body; p: the parameters (numbers or arrays of one length).\"\"\"\n"
            f"    return [\n        {masses},\n    ]\n\n\n"
            "def body_inertias(p):\n"
            "    \"\"\"(Ixx, Iyy, Izz, Ixy, Ixz, Iyz) of each body about its centre of mass, body axes (kg m^2).\"\"\"\n"
            f"    return [\n        {inertias},\n    ]\n")


def compile_body_formulas(spec: ModelSpec) -> tuple:
    """(body_masses, body_inertias) compiled from :func:`body_formulas_source`."""
    ns = {"numpy": np}
    exec(compile(body_formulas_source(spec), f"<body formulas of model {spec.name!r}>", "exec"), ns)
    return ns["body_masses"], ns["body_inertias"]
