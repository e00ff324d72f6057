"""Arguments that several commands share, defined once: the trial's motion file (``MOTION`` or
``--motion MOTION``) and the subject (``--mass``, ``--height``)."""
from __future__ import annotations

from ..errors import InputError

MOTION_HELP = ".trc, .c3d, .amc (with its .asf), .bvh or OpenSim coordinates .mot/.sto"


def add_motion(p, command: str) -> None:
    """``MOTION`` (positional) and ``--motion MOTION``: read back with :func:`motion_argument`."""
    p.add_argument("motion", nargs="?", help=MOTION_HELP)
    p.add_argument("--motion", dest="motion_option", metavar="MOTION", help="the same, as an option")
    p.set_defaults(motion_command=command)


def motion_argument(a) -> str:
    """The motion file, given as ``MOTION`` or ``--motion MOTION``."""
    given = [m for m in (a.motion, getattr(a, "motion_option", None)) if m is not None]
    if not given:
        raise InputError(f"no motion file: give it as `symgait {getattr(a, 'motion_command', '')} MOTION ...`")
    if len(given) == 2 and given[0] != given[1]:
        raise InputError(f"two motion files ({given[0]} and --motion {given[1]}); give one")
    return given[0]


def add_subject(p, *, height_default=None, height_help: str = "subject height (m)") -> None:
    """``--mass`` (kg, required) and ``--height`` (m)."""
    p.add_argument("--mass", type=float, required=True, help="subject body mass (kg)")
    p.add_argument("--height", type=float, default=height_default, help=height_help)
