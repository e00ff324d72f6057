"""``model_data.py``: a model's numbers for the runtime, as plain Python (no SymPy).

The runtime (:class:`symgait.runtime.generated_model.GeneratedModel`) builds parameter vectors and
checks them physically (:class:`symgait.parameters.ScaledModel`) without parsing the model file:

- ``parameter_values(v)``: the default formula of every parameter, in order, from the subject
  inputs and the parameters before it (an overridden parameter keeps its value). Constants print as
  ``repr(float)`` (exact), so each product is the one SymPy's substitution evaluates in
  :meth:`symgait.Model.parameter_values`.
- ``body_masses(p)``, ``body_inertias(p)``: every body's mass and inertia entries as functions of
  the parameters, the text that :class:`symgait.Model` compiles for its own checks
  (:func:`symgait.model.formulas.body_formulas_source`).
"""
from __future__ import annotations

import sympy as sp

from ..model.formulas import body_formulas_source
from .printer import Printer


def _default(expr, names) -> str:
    """A default formula with each subject input / parameter ``x`` read as ``v["x"]``."""
    return Printer()(sp.sympify(expr).xreplace({sp.Symbol(n): sp.Symbol(f"v[{n!r}]") for n in names}))


def model_data_source(model, header: str) -> str:
    spec = model.spec
    names = list(spec.subject) + list(spec.parameter_names)
    out = [header, f'"""Numbers of model {model.name!r} for the runtime: parameter defaults, body masses and '
                   f'inertias."""\n', "import math  # noqa: F401  (default formulas may call it)\n",
           "import numpy  # noqa: F401  (inertia formulas may call it)\n\n\n",
           "def parameter_values(v):\n",
           '    """The parameters in order; ``v``: the subject inputs and the overridden parameters by name."""\n',
           "    v = dict(v)\n"]
    for name, expr in zip(spec.parameter_names, spec.parameter_defaults):
        out.append(f"    if {name!r} not in v:\n        v[{name!r}] = {_default(expr, names)}\n")
    out.append(f"    return [{', '.join(f'v[{n!r}]' for n in spec.parameter_names)}]\n\n\n")
    out.append(body_formulas_source(spec))
    return "".join(out)
