"""Code generation: symbolic kernels -> deterministic Python source compiled by Numba."""
from .generate import generate, DEFAULT_OUT

__all__ = ["generate", "DEFAULT_OUT"]
