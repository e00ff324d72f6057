"""``symgait export-urdf MODEL --height H --mass M [--out F]``: the model as URDF for a subject."""
from __future__ import annotations

import sys

from ..atomic import check_output_file, write_text


def add_cli(sub) -> None:
    u = sub.add_parser("export-urdf", help="write the model as URDF for a subject")
    u.add_argument("model")
    u.add_argument("--height", type=float, default=None, help="subject height (m)")
    u.add_argument("--mass", type=float, default=None, help="subject mass (kg)")
    u.add_argument("--out", help="output file (default: stdout)")
    u.set_defaults(fn=_cmd_export_urdf)

def _cmd_export_urdf(a):
    from ..model import load_model
    m = load_model(a.model)
    text = m.to_urdf(m.parameters(height=a.height, mass=a.mass))
    if a.out:
        check_output_file(a.out)
        write_text(a.out, text)
        print(f"wrote {a.out}")
    else:
        sys.stdout.write(text)
    return 0
