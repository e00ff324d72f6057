"""Elementary joint motions: what one frame of an expanded joint does with its coordinates.

Every joint of a model file expands into a chain of elementary frames (``symgait.model.joints``),
each with one :class:`Motion`: a rotation about its axis (:class:`Revolute`), a translation along it
(:class:`Prismatic`), none (:class:`Fixed`), or a quaternion joint of several velocity entries
(:class:`Spherical`: a ball joint, :class:`FreeFlyer`: a free-flying root). One class per file; the
code that needs to know what a frame does (the recursive Newton-Euler, URDF export, IK, mirroring)
asks the frame's motion and never compares names. Adding a motion is one file here plus its entry
in ``MOTIONS`` and a test (docs/model_format.md, "Adding a joint type").
"""
from .base import Motion
from .fixed import Fixed
from .free_flyer import FreeFlyer
from .prismatic import Prismatic
from .revolute import Revolute
from .spherical import Spherical

REVOLUTE, PRISMATIC, FIXED, SPHERICAL, FREE_FLYER = Revolute(), Prismatic(), Fixed(), Spherical(), FreeFlyer()
MOTIONS = {m.name: m for m in (REVOLUTE, PRISMATIC, FIXED, SPHERICAL, FREE_FLYER)}

__all__ = ["Motion", "Revolute", "Prismatic", "Fixed", "Spherical", "FreeFlyer", "REVOLUTE", "PRISMATIC",
           "FIXED", "SPHERICAL", "FREE_FLYER", "MOTIONS"]
