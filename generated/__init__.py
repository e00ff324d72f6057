"""Generated code of the built-in models, one package per model (written by ``symgait generate``;
installed as ``symgait_generated``)."""
