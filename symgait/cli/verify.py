"""``symgait verify MODEL``: every generated derivative and both physics layers against central finite
differences (exit status 1 on failure)."""
from __future__ import annotations

def _cmd_verify(a) -> int:
    from ..layers.verify import verify  # torch: imported only when the command runs
    return verify(a.model, dtype=a.dtype, samples=a.samples, generated=a.generated, tol=a.tol,
                  layers=not a.no_layers).exit_code


def add_cli(subparsers) -> None:
    """Register ``symgait verify`` on the ``symgait`` command's sub-parsers."""
    v = subparsers.add_parser("verify", help="check every generated derivative and both layers against "
                                             "central finite differences (exit code 1 on failure)")
    v.add_argument("model", help="built-in model name or path to a .yaml file")
    v.add_argument("--dtype", choices=("float32", "float64"), default="float64")
    v.add_argument("--samples", type=int, default=4, help="random states per check (default 4)")
    v.add_argument("--tol", type=float, default=None,
                   help="relative tolerance (default 1e-6 for float64, 1e-4 for float32)")
    v.add_argument("--generated", help="directory of the generated code (default generated/<model>)")
    v.add_argument("--no-layers", action="store_true", help="check the kernels only")
    v.set_defaults(fn=_cmd_verify)
