"""Data classes of a parsed model: bodies, elementary joint frames, contacts, points.

Every joint is expanded into a chain of elementary one-degree-of-freedom frames, or one frame for a
quaternion joint (spherical: 4 configuration and 3 velocity entries; free flyer: 7 and 6), see
docs/model_format.md. The configuration q has ``nq`` entries (``coordinates``), the velocity, the
acceleration and the generalized forces ``nv`` (``velocities``); without quaternion joints they
are the same list. Lengths and inertial values are SymPy expressions of the parameter
symbols ``p[k]``; orientations and axes are numbers (so that the symbolic layer can fold them).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import sympy as sp

from ..errors import ModelError
from .motions import Motion


@dataclass
class Frame:
    """One elementary joint frame.

    motion: a :class:`symgait.model.motions.Motion` -- rotation about ``axis``, translation along it,
    or fixed.
    The frame's placement in its parent frame is ``offset`` (a 3-vector of expressions, in the
    parent's coordinates) and ``rotation`` (a numeric 3x3 matrix, parent <- this frame, before the
    joint motion). ``parent`` is the index of the parent frame, -1 for the ground. ``coordinate`` is
    the index of the frame's first entry in q and ``velocity`` of its first entry in v, qdd and tau
    (the same index in a model without quaternion joints; None for a fixed frame).
    """
    index: int
    name: str
    parent: int
    motion: Motion
    axis: np.ndarray
    offset: tuple
    rotation: np.ndarray
    coordinate: int | None
    body: int | None = None  # the body attached to this frame (last frame of its joint)
    velocity: int | None = None  # None: the same as ``coordinate`` (set by ModelSpec)


@dataclass
class Body:
    name: str
    parent: str
    joint_type: str
    coordinates: list[str]
    actuated: bool
    mass: sp.Expr
    com: tuple
    inertia: tuple  # (Ixx, Iyy, Izz, Ixy, Ixz, Iyz) about the COM, body axes
    frame: int = -1  # index of the frame that carries the body
    joint_frames: list[int] = field(default_factory=list)
    joint_offset: tuple = (0, 0, 0)
    joint_rotation: np.ndarray | None = None
    joint_axes: list = field(default_factory=list)
    inertia_as_given: bool = False  # no triangle-inequality check (an OpenSim model's inertia as it is)


@dataclass
class Contact:
    name: str
    body: str
    frame: int


@dataclass
class Point:
    name: str
    body: str
    frame: int
    position: tuple


@dataclass
class ModelSpec:
    name: str
    description: str
    source: str  # text of the model file
    path: str
    gravity: np.ndarray
    subject: dict  # name -> default value
    parameter_names: list[str]
    parameter_defaults: list[sp.Expr]  # expressions of subject inputs and earlier parameters
    parameter_symbols: list[sp.Symbol]
    bodies: list[Body]
    frames: list[Frame]
    coordinates: list[str]  # the names of q's entries
    actuated: list[bool]    # per entry of v
    contacts: list[Contact]
    points: list[Point]
    limits: dict = field(default_factory=dict)  # coordinate -> (lower, upper), where the file gives them
    velocities: list = None  # the names of v's entries (None: the coordinates)
    import_options: dict = field(default_factory=dict)  # reader options that changed the model (its identity)

    def __post_init__(self):
        if self.velocities is None:
            self.velocities = list(self.coordinates)
        for f in self.frames:
            if f.velocity is None:
                f.velocity = f.coordinate

    @property
    def nq(self) -> int:
        return len(self.coordinates)

    @property
    def nv(self) -> int:
        return len(self.velocities)

    def quaternion_joints(self) -> list[tuple]:
        """``(name, motion name, q index, v index)`` of every quaternion joint (spherical, free
        flyer), in tree order; empty for a model of one-coordinate joints."""
        return [(f.name, f.motion.name, f.coordinate, f.velocity) for f in self.frames if f.motion.quaternion]

    def coordinate_frames(self) -> list[int]:
        """Frame index of each coordinate, in coordinate order (models of one-coordinate joints: the
        code that asks this treats each coordinate as one angle or one length)."""
        quat = self.quaternion_joints()
        if quat:
            raise ModelError(f"model {self.name!r} has quaternion joints ({', '.join(j[0] for j in quat)}): this "
                             f"step works on one-coordinate joints only (rotations and translations); use a model "
                             f"with Euler-angle joints (a 'ball' or 'floating' joint, or import the file with "
                             f"floating_root='euler')")
        out = [None] * self.nq
        for f in self.frames:
            if f.coordinate is not None:
                out[f.coordinate] = f.index
        return out

    def coordinate_translates(self) -> list[bool]:
        """Per coordinate (in coordinate order): True where its joint motion is a translation."""
        fr = self.coordinate_frames()
        return [bool(self.frames[i].motion.translates) for i in fr]

    def coordinate_parents(self) -> list[int]:
        """For each velocity entry, its parent entry (-1: none): the previous entry of the same
        joint, else the last entry of the nearest moving ancestor frame.

        This is the sparsity pattern (Featherstone's lambda) of the joint-space inertia matrix (nv x nv).
        """
        out = [None] * self.nv
        for f in self.frames:
            if not f.motion.has_coordinate:
                continue
            j = f.parent
            while j >= 0 and not self.frames[j].motion.has_coordinate:
                j = self.frames[j].parent
            prev = self.frames[j].velocity + self.frames[j].motion.nv - 1 if j >= 0 else -1
            for k in range(f.motion.nv):
                out[f.velocity + k] = prev
                prev = f.velocity + k
        return out
