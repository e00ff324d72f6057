"""Symbolic derivation: recursive Newton-Euler on an assignment graph, forward/reverse derivatives."""
from .graph import Graph
from .rnea import Dynamics, Inputs, build
from .kernels import KernelDef, derive

__all__ = ["Graph", "Dynamics", "Inputs", "build", "KernelDef", "derive"]
