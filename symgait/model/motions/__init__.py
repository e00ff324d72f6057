"""Elementary joint motions: what one frame of an expanded joint does with its coordinate.

Every joint of a model file expands into a chain of elementary frames (``symgait.model.joints``),
each with one :class:`Motion`: a rotation about its axis (:class:`Revolute`), a translation along it
(:class:`Prismatic`) or none (:class:`Fixed`). One class per file; the code that needs to know what
a frame does (the recursive Newton-Euler, URDF export, IK, mirroring) asks the frame's motion and
never compares names. Adding a motion is one file here plus its entry in ``MOTIONS`` and a test
(docs/model_format.md, "Adding a joint type").
"""
from .base import Motion
from .fixed import Fixed
from .prismatic import Prismatic
from .revolute import Revolute

REVOLUTE, PRISMATIC, FIXED = Revolute(), Prismatic(), Fixed()
MOTIONS = {m.name: m for m in (REVOLUTE, PRISMATIC, FIXED)}

__all__ = ["Motion", "Revolute", "Prismatic", "Fixed", "REVOLUTE", "PRISMATIC", "FIXED", "MOTIONS"]
