"""Exceptions. Every message names what was wrong and how to fix it."""


class SymgaitError(Exception):
    """Base class of symgait's errors (also of :class:`symgait.io.DataFormatError`, for bad files)."""


class ModelError(SymgaitError, ValueError):
    """A model file is invalid (unknown joint type, cycle, missing parent, non-physical value)."""


class InputError(SymgaitError, ValueError):
    """Bad input to a kernel or layer: shape, dtype, device, NaN."""


class StaleKernelsError(SymgaitError, RuntimeError):
    """Generated code does not match its model file (or is missing)."""
