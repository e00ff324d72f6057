"""Code generation: symbolic kernels -> deterministic Python source compiled by Numba."""
from .generate import generate

__all__ = ["generate"]
