"""symgait: human body models to exact, fast, differentiable dynamics.

Pipeline: model file -> :mod:`symgait.model` -> :mod:`symgait.symbolic` -> :mod:`symgait.codegen`
-> ``generated/<model>/`` -> :mod:`symgait.runtime` -> :mod:`symgait.layers`.

``import symgait`` does not import SymPy: :func:`load_model` and :class:`Model` (which parse model
files with it) are imported from :mod:`symgait.model` on first use, and :func:`kernels` of a
built-in model's name runs from its generated code alone.
"""
from ._version import __version__
from .errors import SymgaitError, ModelError, InputError, StaleKernelsError
from .runtime import kernels

__all__ = ["load_model", "Model", "kernels", "SymgaitError", "ModelError", "InputError",
           "StaleKernelsError", "__version__"]


def __getattr__(name: str):
    """``symgait.load_model`` and ``symgait.Model``, imported with SymPy on first use."""
    if name in ("load_model", "Model"):
        from . import model  # SymPy: imported when a model file is first parsed
        return getattr(model, name)
    raise AttributeError(f"module 'symgait' has no attribute {name!r}")
