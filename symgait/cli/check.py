"""``symgait check [MODEL]``: regenerate if the model changed, compile or load the kernels, and check
them against physical identities and finite differences."""
from __future__ import annotations


def add_cli(sub) -> None:
    c = sub.add_parser("check", help="compile/load a model's kernels and check them against physics")
    c.add_argument("model", nargs="?", default="planar")
    c.add_argument("--generated", help="directory of the generated code (default: the model's, see README)")
    c.set_defaults(fn=_cmd_check)

def _cmd_check(a):
    """Regenerate a model's kernels (files are rewritten only if they changed), compile or load
    them from Numba's cache, and check them against physical identities and finite differences."""
    from ..codegen import generate
    from ..runtime.selfcheck import selfcheck
    generate(a.model, out=a.generated)
    return selfcheck(a.model, log=print, generated=a.generated)
