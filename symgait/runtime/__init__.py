"""Runtime: load generated kernels, check inputs, launch on a backend."""
from .kernels import Kernels, kernels

__all__ = ["Kernels", "kernels"]
