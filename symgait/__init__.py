"""symgait: human body models to exact, fast, differentiable dynamics.

Pipeline: model file -> :mod:`symgait.model` -> :mod:`symgait.symbolic` -> :mod:`symgait.codegen`
-> ``generated/<model>/`` -> :mod:`symgait.runtime` -> :mod:`symgait.layers`.
"""
from .errors import SymgaitError, ModelError, InputError, StaleKernelsError
from .model import Model, load_model
from .runtime import kernels

__version__ = "0.1.0"
__all__ = ["load_model", "Model", "kernels", "SymgaitError", "ModelError", "InputError",
           "StaleKernelsError", "__version__"]
