"""Command line: ``symgait generate | info | export-urdf | check`` (more commands register themselves
from the layers and data packages: ``verify``, ``id``)."""
from __future__ import annotations

import argparse
import sys
import time


def _cmd_generate(a):
    from .codegen import generate
    if a.all == (a.model is not None):
        raise SystemExit("symgait generate: give a model or --all (every built-in model), not both")
    if a.all:
        if a.out:
            raise SystemExit("symgait generate --all writes generated/<model>/ for each built-in model; drop --out")
        from .model import BUILTIN_MODELS
        for name in BUILTIN_MODELS:
            generate(name)
        return 0
    generate(a.model, out=a.out)
    return 0


def _cmd_info(a):
    from .errors import StaleKernelsError
    from .model import load_model
    from .runtime.loader import read_manifest
    m = load_model(a.model)
    print(f"model        {m.name}  ({m.spec.path})")
    print(f"DOF          {m.nq}  (actuated {m.n_actuated})")
    print(f"bodies       {len(m.bodies)}: {', '.join(m.bodies)}")
    print(f"coordinates  {', '.join(m.coordinates)}")
    print(f"contacts     {', '.join(m.contacts) or '-'}")
    print(f"points       {len(m.points)}: {', '.join(m.points)}")
    p = m.parameters()
    print(f"parameters   {m.n_parameters} (defaults for height {m.spec.subject.get('height')} m, "
          f"mass {m.spec.subject.get('mass')} kg)")
    for name, v in zip(m.parameter_names, p):
        print(f"  {name:28s} {v:.6g}")
    try:
        gdir, man = read_manifest(m, a.generated)
    except StaleKernelsError as e:
        print(f"generated    {e}")
        return 0
    print(f"generated    {gdir}")
    from .runtime import threads
    print(f"threads      Numba threading layer {threads.select()} (available: {', '.join(threads.available())}); "
          f"batches below {threads.PARALLEL_MIN_OPS} operations run serially")
    print("operations per sample:")
    for k, v in man["operations"].items():
        print(f"  {k:32s} {v}")
    return 0


def _cmd_export_urdf(a):
    from .model import load_model
    m = load_model(a.model)
    text = m.to_urdf(m.parameters(height=a.height, mass=a.mass))
    if a.out:
        check_output_path(a.out)
        with open(a.out, "w") as f:
            f.write(text)
        print(f"wrote {a.out}")
    else:
        sys.stdout.write(text)
    return 0


def check_output_path(path) -> None:
    """Raise :class:`InputError` if ``path``'s folder does not exist (naming it)."""
    from pathlib import Path
    from .errors import InputError
    parent = Path(path).expanduser().resolve().parent
    if not parent.is_dir():
        raise InputError(f"cannot write {path}: the folder {parent} does not exist (create it first)")


def report_error(prog: str, e: BaseException) -> int:
    """Print a user error as ``<prog>: error: ...`` on stderr; returns the exit status (2)."""
    if isinstance(e, OSError) and e.filename is not None:
        msg = f"{e.filename}: {e.strerror or e}"
    else:
        msg = str(e)
    print(f"{prog}: error: {msg}", file=sys.stderr)
    return 2


# what a command reports as a message (bad input, a bad or missing file) instead of a traceback
USER_ERRORS = (OSError,)


def _cmd_check(a):
    """Regenerate a model's kernels (files are rewritten only if they changed), compile or load
    them from Numba's cache, and check them against physical identities and finite differences."""
    from .codegen import generate
    from .runtime.selfcheck import selfcheck
    generate(a.model, out=a.generated)
    return selfcheck(a.model, log=print, generated=a.generated)


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="symgait", description=__doc__)
    sub = ap.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("generate", help="derive a model's equations and write generated/<model>/")
    g.add_argument("model", nargs="?", help="built-in model name (planar, gait3d, fullbody) or path to a .yaml file")
    g.add_argument("--all", action="store_true", help="regenerate every built-in model into generated/")
    g.add_argument("--out", help="output directory (default: generated/<model> for a built-in model, "
                   "else the user cache, see README)")
    g.set_defaults(fn=_cmd_generate)
    i = sub.add_parser("info", help="DOF, coordinates, parameters, operation counts")
    i.add_argument("model")
    i.add_argument("--generated", help="directory of the generated code (default: the model's, see README)")
    i.set_defaults(fn=_cmd_info)
    u = sub.add_parser("export-urdf", help="write the model as URDF for a subject")
    u.add_argument("model")
    u.add_argument("--height", type=float, default=None, help="subject height (m)")
    u.add_argument("--mass", type=float, default=None, help="subject mass (kg)")
    u.add_argument("--out", help="output file (default: stdout)")
    u.set_defaults(fn=_cmd_export_urdf)
    c = sub.add_parser("check", help="compile/load a model's kernels and check them against physics")
    c.add_argument("model", nargs="?", default="planar")
    c.add_argument("--generated", help="directory of the generated code (default: the model's, see README)")
    c.set_defaults(fn=_cmd_check)
    for hook in _extensions():
        hook(sub)
    return ap


def _extensions():
    """Sub-commands that live with the code they drive (imported lazily: torch, scipy)."""
    hooks = []
    try:
        from .layers.verify import add_cli as verify_cli
        hooks.append(verify_cli)
    except ImportError:  # torch not installed: `symgait verify` needs the torch extra
        pass
    try:
        from .id import add_cli as id_cli
        hooks.append(id_cli)
    except ImportError:  # scipy/ezc3d not installed: `symgait id` needs the data extra
        pass
    return hooks


def main(argv=None) -> int:
    from .errors import SymgaitError
    ap = build_parser()
    a = ap.parse_args(argv)
    t = time.perf_counter()
    try:
        rc = a.fn(a)
    except (SymgaitError,) + USER_ERRORS as e:
        return report_error("symgait", e)
    if getattr(a, "cmd", "") != "export-urdf":
        print(f"done in {time.perf_counter() - t:.1f} s", file=sys.stderr)
    return rc or 0


if __name__ == "__main__":
    sys.exit(main())
