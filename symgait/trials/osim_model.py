"""A converted OpenSim model with its generated kernels."""
from __future__ import annotations

from pathlib import Path

from ..model.from_osim import osim_to_yaml
from ..user_cache import cache_dir as user_cache_dir
import symgait
from symgait.codegen import generate

def build_osim_model(path, *, cache_dir=None, log=None, **kwargs):
    """Convert ``path`` (see :func:`osim_to_yaml`), write the YAML and generate its kernels into
    ``<cache_dir>/models/<name>-<sha12>/`` (reused when present: Numba's on-disk cache then makes
    later loads fast).  Returns ``(converted, model, kernels)``.

    Bodies whose inertia is kept against the triangle inequality (``inertia_as_given``, see
    :mod:`symgait.model.from_osim`) are exempt from the model's parameter check; the kernels,
    whose generated data do not record the exemption, then leave ``p`` to the model's check
    (``model.parameters()``)."""

    conv = osim_to_yaml(path, **kwargs)
    root = Path(cache_dir) if cache_dir is not None else user_cache_dir()
    d = root / "models" / f"{conv.name}-{conv.sha[:12]}"
    ypath = conv.write(d / f"{conv.name}.yaml")
    gdir = d / "generated"
    model = symgait.load_model(ypath)
    check = not model.inertia_as_given
    try:
        kern = symgait.kernels(model, generated=gdir, check_parameters=check)
    except symgait.StaleKernelsError:
        generate(ypath, out=gdir, log=log or (lambda *a: None))
        kern = symgait.kernels(model, generated=gdir, check_parameters=check)
    return conv, model, kern
