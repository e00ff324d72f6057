"""symgait's version (read by ``pyproject.toml`` and written into every generated manifest)."""
__version__ = "0.1.0"
