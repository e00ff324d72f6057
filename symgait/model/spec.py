"""Data classes of a parsed model: bodies, elementary joint frames, contacts, points.

Every joint is expanded into a chain of elementary one-degree-of-freedom frames (see
docs/model_format.md). Lengths and inertial values are SymPy expressions of the parameter
symbols ``p[k]``; orientations and axes are numbers (so that the symbolic layer can fold them).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import sympy as sp

from .motions import Motion


@dataclass
class Frame:
    """One elementary joint frame.

    motion: a :class:`symgait.model.motions.Motion` -- rotation about ``axis``, translation along it,
    or fixed.
    The frame's placement in its parent frame is ``offset`` (a 3-vector of expressions, in the
    parent's coordinates) and ``rotation`` (a numeric 3x3 matrix, parent <- this frame, before the
    joint motion). ``parent`` is the index of the parent frame, -1 for the ground.
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
    coordinates: list[str]
    actuated: list[bool]
    contacts: list[Contact]
    points: list[Point]
    limits: dict = field(default_factory=dict)  # coordinate -> (lower, upper), where the file gives them

    @property
    def nq(self) -> int:
        return len(self.coordinates)

    def coordinate_frames(self) -> list[int]:
        """Frame index of each coordinate, in coordinate order."""
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
        """For each coordinate, the coordinate of the nearest moving ancestor frame (-1: none).

        This is the sparsity pattern (Featherstone's lambda) of the joint-space inertia matrix.
        """
        out = []
        for fi in self.coordinate_frames():
            j = self.frames[fi].parent
            while j >= 0 and self.frames[j].coordinate is None:
                j = self.frames[j].parent
            out.append(self.frames[j].coordinate if j >= 0 else -1)
        return out
