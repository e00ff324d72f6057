"""``symgait generate MODEL|PATH [--out DIR]`` / ``--all``: derive a model's equations and write its
generated code (built-in: ``generated/<model>/``; a file: the user cache)."""
from __future__ import annotations

from pathlib import Path

from ..atomic import check_output_folder


def add_cli(sub) -> None:
    g = sub.add_parser("generate", help="derive a model's equations and write generated/<model>/")
    g.add_argument("model", nargs="?", help="built-in model name (planar, gait3d, fullbody) or path to a .yaml file")
    g.add_argument("--all", action="store_true", help="regenerate every built-in model into generated/")
    g.add_argument("--out", help="output directory (default: generated/<model> for a built-in model, "
                   "else the user cache, see README)")
    g.add_argument("--floating-root", choices=("quaternion", "euler"), default=None,
                   help="a URDF floating or MJCF free root joint as a quaternion free flyer (default) or as "
                        "three translations and three Euler angles")
    g.set_defaults(fn=_cmd_generate)

def _cmd_generate(a):
    from ..codegen import generate
    if a.all == (a.model is not None):
        raise SystemExit("symgait generate: give a model or --all (every built-in model), not both")
    if a.all:
        if a.out:
            raise SystemExit("symgait generate --all writes generated/<model>/ for each built-in model; drop --out")
        from ..model import BUILTIN_MODELS
        for name in BUILTIN_MODELS:
            generate(name)
        return 0
    if a.out:   # a new folder is renamed into place whole by generate: check the folder it goes in
        out = Path(a.out)
        check_output_folder(out if out.is_dir() else out.parent)
    generate(a.model, out=a.out, floating_root=a.floating_root)
    return 0
