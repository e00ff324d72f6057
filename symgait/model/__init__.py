"""Model definitions: YAML files -> a validated tree of bodies and elementary joint frames."""
from .spec import ModelSpec, Body, Frame, Contact, Point
from ..paths import BUILTIN_MODELS, builtin_model_path
from .parse import load_spec
from .model import Model, load_model

__all__ = ["ModelSpec", "Body", "Frame", "Contact", "Point", "load_spec", "builtin_model_path",
           "BUILTIN_MODELS", "Model", "load_model"]
