"""Convert an OpenSim model (``.osim``, read by :func:`symgait.io.read_osim`) into a symgait model
file (YAML, docs/model_format.md), and build its kernels.

What is carried over
--------------------
* Bodies: mass, centre of mass and inertia (all six components), as the file gives them
  (``inertia="as-given"``, the default): an inertia that breaks the triangle inequality (OpenSim
  accepts it; Hamner et al.'s toes have principal moments 0.00012, 0.00024, 0.0012 kg·m²) is
  kept and its body marked ``inertia_as_given: true`` (docs/model_format.md), so that the
  dynamics are OpenSim's; ``inertia="physical"`` instead adds the smallest isotropic inertia that
  satisfies it (a model every rigid-body library accepts, e.g. for a URDF export).  Masses are parameters
  ``<body>_mass`` defaulting to ``fraction * mass`` (the OpenSim total mass is the subject
  default), inertias scale with them, so ``m.parameters(mass=...)`` rescales the mass
  distribution; lengths are numbers (the scaled OpenSim geometry).
* Joints: the parent offset frame (``location_in_parent``/``orientation_in_parent``, or the 4.x
  ``PhysicalOffsetFrame``) becomes the joint ``offset``/``orientation``; a non-zero child offset
  frame is absorbed by expressing the child body in the joint's child frame (COM, inertia, the
  offsets of its own children are transformed).  CustomJoint rotations whose function is the
  identity of one coordinate become the joint axes, in OpenSim's order (OpenSim applies
  rotation1-3 as a body-fixed sequence, like symgait).  Constant translations are added to the
  offset.  Root joints with 3+3 (2+1) coordinates become ``floating`` (``planar``) roots;
  ``WeldJoint`` s become ``fixed``.
* Translations that are functions of a *rotational* coordinate (the knee of gait2354 /
  gait10dof: tibia translation = SimmSpline of knee_angle), two ways (``coupled=``):

  - ``"prescribed"`` (default, exact): each such translation becomes a slider coordinate
    ``<joint>_t<k>`` on a massless intermediate body (1e-9 kg), in OpenSim's order
    (translations in the parent frame, then the rotations).  :meth:`ConvertedModel.expand`
    fills the slider values, rates and accelerations from the driving coordinate by the chain
    rule (s = f(θ), ṡ = f'(θ) θ̇, s̈ = f''(θ) θ̇² + f'(θ) θ̈) and :meth:`ConvertedModel.reduce`
    gives the generalized force of the driving coordinate as OpenSim defines it,
    τ_θ + Σ_s τ_s f'(θ) (virtual work of the constrained system).  The kinematics are then
    OpenSim's exactly.
  - ``"fixed"``: the translation is frozen at its value at ``fixed_angle`` (rad, default 0) and
    added to the offset (the knee then is a plain hinge; error of the gait2354 knee: ≤ 2 mm to
    −10°, 15 mm at −60°).

* Points ``<body>_origin`` at every body origin, contacts ``foot_r``/``foot_l`` on ``calcn_r``/
  ``calcn_l`` where those bodies exist (``contacts=`` to choose others).

Not supported (raise ``NotImplementedError`` naming the joint): rotations that are non-identity
functions of a coordinate (coupled rotations), non-zero constant rotations, functions of
several coordinates.  Muscles, markers, constraints and wrap objects are ignored (a note names
the constraints and the forces other than muscles, which OpenSim's inverse dynamics would apply
unless excluded).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import numpy as np

from ..atomic import write_text

from ..errors import ModelError
from ..io import read_osim
from ..io.osim import xyz_body_fixed_angles, xyz_body_fixed_matrix
from ..io.osim_functions import Constant, LinearFunction, MultiplierFunction, evaluate

__all__ = ["Coupling", "ConvertedModel", "osim_to_yaml",]

_TINY_MASS = 1e-9


@dataclass
class Coupling:
    """A slider coordinate prescribed by a rotational coordinate: ``q[coordinate] = f(q[driver])``."""
    coordinate: str
    driver: str
    function: object  # an OsimFunction


@dataclass
class ConvertedModel:
    """Result of :func:`osim_to_yaml`: the YAML text plus what is needed to drive the couplings."""
    name: str
    yaml_text: str
    couplings: List[Coupling]
    osim_coordinates: List[str]          # OpenSim's (independent) coordinates
    total_mass: float
    notes: List[str] = field(default_factory=list)
    rotational: List[str] = field(default_factory=list)   # OpenSim's rotational coordinates

    @property
    def sha(self) -> str:
        return hashlib.sha256(self.yaml_text.encode()).hexdigest()

    def write(self, path) -> Path:
        path = Path(path)
        if not path.exists() or path.read_text() != self.yaml_text:
            write_text(path, self.yaml_text)
        return path

    def expand(self, model, q, qd=None, qdd=None, names: Optional[Sequence[str]] = None):
        """Full (q, qd, qdd) in ``model.coordinates`` order from the independent coordinates.

        ``q`` (T, k) holds the columns ``names`` (default: :attr:`osim_coordinates`), in radians
        and metres; missing qd/qdd are taken as zero.  Slider coordinates of the couplings are
        computed by the chain rule; coordinates in neither set are zero.
        """
        names = list(names) if names is not None else list(self.osim_coordinates)
        q = np.atleast_2d(np.asarray(q, dtype=np.float64))
        qd = np.zeros_like(q) if qd is None else np.atleast_2d(np.asarray(qd, dtype=np.float64))
        qdd = np.zeros_like(q) if qdd is None else np.atleast_2d(np.asarray(qdd, dtype=np.float64))
        T = q.shape[0]
        out = [np.zeros((T, model.nq)) for _ in range(3)]
        idx = {c: i for i, c in enumerate(model.coordinates)}
        src = {n: i for i, n in enumerate(names)}
        for n, i in src.items():
            if n in idx:
                for o, v in zip(out, (q, qd, qdd)):
                    o[:, idx[n]] = v[:, i]
        for c in self.couplings:
            j = src[c.driver]
            th, thd, thdd = q[:, j], qd[:, j], qdd[:, j]
            f0 = evaluate(c.function, th, 0)
            f1 = evaluate(c.function, th, 1)
            f2 = evaluate(c.function, th, 2)
            k = idx[c.coordinate]
            out[0][:, k] = f0
            out[1][:, k] = f1 * thd
            out[2][:, k] = f2 * thd ** 2 + f1 * thdd
        return tuple(out)

    def reduce(self, model, tau, q_full) -> Dict[str, np.ndarray]:
        """Generalized forces of the independent coordinates (OpenSim's definition) from the
        symgait generalized forces ``tau`` (T, nq) at the expanded ``q_full`` (T, nq)."""
        idx = {c: i for i, c in enumerate(model.coordinates)}
        tau = np.asarray(tau, dtype=np.float64)
        out = {n: tau[:, idx[n]].copy() for n in self.osim_coordinates if n in idx}
        for c in self.couplings:
            th = q_full[:, idx[c.driver]]
            out[c.driver] = out[c.driver] + tau[:, idx[c.coordinate]] * evaluate(c.function, th, 1)
        return out


# --------------------------------------------------------------------------- #
def _fmt(x: float) -> str:
    x = float(x)
    if x == 0.0:
        return "0"
    return repr(x)


def _vec(v) -> str:
    return "[" + ", ".join(_fmt(x) for x in v) + "]"


def _linear_identity(fn) -> Optional[float]:
    """Intercept if ``fn`` is ``1*x + b`` (also through a MultiplierFunction), else None."""
    scale = 1.0
    while isinstance(fn, MultiplierFunction):
        scale *= fn.scale
        fn = fn.function
    if isinstance(fn, LinearFunction) and abs(fn.slope * scale - 1.0) < 1e-12:
        return fn.intercept * scale
    return None


def _constant_value(fn) -> Optional[float]:
    scale = 1.0
    while isinstance(fn, MultiplierFunction):
        scale *= fn.scale
        fn = fn.function
    if isinstance(fn, Constant):
        return fn.value * scale
    return None


def _axis_entry(a) -> str:
    a = np.asarray(a, dtype=np.float64)
    a = a / np.linalg.norm(a)
    for k, nm in enumerate("xyz"):
        e = np.zeros(3)
        e[k] = 1.0
        if np.allclose(a, e, atol=1e-12):
            return nm
        if np.allclose(a, -e, atol=1e-12):
            return "-" + nm
    return _vec(a)


def osim_to_yaml(path, *, name: Optional[str] = None, coupled: str = "prescribed",
                 fixed_angle: float = 0.0, height: float = 1.8,
                 contacts: Optional[Dict[str, str]] = None,
                 inertia: str = "as-given") -> ConvertedModel:
    """Convert an ``.osim`` file to a symgait model (see the module docstring).

    Parameters
    ----------
    coupled : "prescribed" | "fixed"
        How translations driven by a rotational coordinate (knee) are represented.
    fixed_angle : float, rad
        Angle at which ``coupled="fixed"`` freezes them.
    height : float, m
        Subject height recorded as the model's default (geometry is not scaled by it).
    contacts : dict contact name -> body name (default foot_r/foot_l on calcn_r/calcn_l).
    inertia : "as-given" | "physical"
        An inertia against the triangle inequality: kept and marked ``inertia_as_given``, or
        made physical by the smallest isotropic addition (module docstring).
    """
    if coupled not in ("prescribed", "fixed"):
        raise ValueError(f"coupled must be 'prescribed' or 'fixed', got {coupled!r}")
    if inertia not in ("as-given", "physical"):
        raise ValueError(f"inertia must be 'as-given' or 'physical', got {inertia!r}")
    inertia_mode = inertia
    om = read_osim(path)
    name = name or (Path(path).stem.replace("-", "_").replace(".", "_"))
    total = om.total_mass
    notes: List[str] = []
    by_child = {j.child_body: j for j in om.joints}
    children: Dict[str, List[str]] = {}
    root_joint = None
    for j in om.joints:
        if j.parent_body == om.ground:
            if root_joint is not None:
                raise NotImplementedError(f"{path}: several joints to ground ({root_joint.name}, "
                                          f"{j.name}); a symgait model is one tree")
            root_joint = j
        else:
            children.setdefault(j.parent_body, []).append(j.child_body)
    if root_joint is None:
        raise NotImplementedError(f"{path}: no joint connects a body to ground")
    order: List[str] = []

    def visit(b):
        if b in order:
            raise ModelError(f"{path}: body {b!r} is the child of several joints (a closed loop through "
                             f"Joint[{by_child[b].name}]); a symgait model is a tree")
        order.append(b)
        for c in children.get(b, []):
            visit(c)
    visit(root_joint.child_body)
    missing = set(om.bodies) - set(order)
    if missing:
        notes.append(f"bodies not connected to the tree (ignored): {sorted(missing)}")

    # child-frame re-expression: symgait body frame = the joint's child frame M
    to_m = {}  # body -> (Rc, c): x_M = Rc^T (x_B - c)
    for b in order:
        j = by_child[b]
        to_m[b] = (xyz_body_fixed_matrix(j.orientation_in_child), np.asarray(j.location_in_child, float))

    def point_in_m(b, x):
        Rc, c = to_m[b]
        return Rc.T @ (np.asarray(x, float) - c)

    params: List[str] = []
    lines_bodies: List[str] = []
    couplings: List[Coupling] = []
    osim_coords: List[str] = []
    coord_motion = {c.name: c.motion_type for c in om.coordinates.values()}

    for b in order:
        j = by_child[b]
        body = om.bodies[b]
        is_root = j is root_joint
        parent = "ground" if is_root else j.parent_body
        # parent frame F in the parent's symgait frame
        Rp = xyz_body_fixed_matrix(j.orientation_in_parent)
        pF = np.asarray(j.location_in_parent, float)
        if not is_root:
            RcP, cP = to_m[parent]
            pF = RcP.T @ (pF - cP)
            Rp = RcP.T @ Rp
        rot_axes, rot_coords = [], []
        trans_const = np.zeros(3)
        trans_dof = []      # (axis, coordinate) own translational coordinates
        trans_coupled = []  # (axis, driver, function, k)
        for k, ax in enumerate(j.spatial_transform):
            a = np.asarray(ax.axis, float)
            a = a / np.linalg.norm(a)
            if ax.kind == "rotation":
                if not ax.coordinates:
                    v = _constant_value(ax.function)
                    if v is None or abs(v) > 1e-12:
                        raise NotImplementedError(f"joint {j.name}: {ax.name} is a non-zero constant "
                                                  "rotation; not supported")
                    continue
                if len(ax.coordinates) > 1:
                    raise NotImplementedError(f"joint {j.name}: {ax.name} depends on several coordinates")
                b0 = _linear_identity(ax.function)
                if b0 is None or abs(b0) > 1e-12:
                    raise NotImplementedError(f"joint {j.name}: {ax.name} is not the identity of "
                                              f"{ax.coordinates[0]} (coupled rotations are not supported)")
                rot_axes.append(a)
                rot_coords.append(ax.coordinates[0])
            else:
                if not ax.coordinates:
                    v = _constant_value(ax.function)
                    if v is None:
                        v = float(evaluate(ax.function, 0.0))
                    trans_const += v * a
                    continue
                if len(ax.coordinates) > 1:
                    raise NotImplementedError(f"joint {j.name}: {ax.name} depends on several coordinates")
                c = ax.coordinates[0]
                b0 = _linear_identity(ax.function)
                if b0 is not None and coord_motion.get(c) != "rotational":
                    trans_const += b0 * a
                    trans_dof.append((a, c))
                    continue
                # translation driven by another coordinate (e.g. knee_angle)
                if coupled == "fixed":
                    v = float(evaluate(ax.function, fixed_angle))
                    trans_const += v * a
                    notes.append(f"joint {j.name}: {ax.name} along {np.round(a, 4).tolist()} frozen at "
                                 f"its value at {c} = {fixed_angle:g} rad ({v * 1000:.2f} mm)")
                else:
                    trans_coupled.append((a, c, ax.function, k))
        offset = pF + Rp @ trans_const
        orient = np.degrees(xyz_body_fixed_angles(Rp))
        if not np.allclose(xyz_body_fixed_matrix(np.radians(orient)), Rp, atol=1e-12):
            raise NotImplementedError(f"joint {j.name}: orientation not representable")
        mass = float(body.mass)
        # body inertial data in the M frame
        Rc, _ = to_m[b]
        com = point_in_m(b, body.mass_center)
        I = Rc.T @ body.inertia_matrix @ Rc
        ev = np.linalg.eigvalsh(I)
        deficit = ev[2] - (ev[0] + ev[1])
        as_given = False
        if mass > 0 and deficit > -1e-9 * ev[2] and inertia_mode == "as-given":
            as_given = True
            if deficit > 1e-9 * ev[2]:
                notes.append(f"body {b}: principal moments of inertia {np.round(ev, 8).tolist()} kg·m² break "
                             "the triangle inequality; kept as OpenSim has them (inertia_as_given)")
        elif mass > 0 and deficit > -1e-9 * ev[2]:
            # at (or, by rounding in the file, just beyond) the triangle inequality: symgait
            # checks it with a 1e-9 relative margin, so add a tiny isotropic part
            d = deficit + 2e-9 * ev[2]
            I = I + d * np.eye(3)
            notes.append(f"body {b}: inertia at or beyond the triangle-inequality limit; "
                         f"{d:.3g} kg·m² added to each principal moment")
        if mass <= 0:
            notes.append(f"body {b} has mass {mass}; given {_TINY_MASS} kg")
        pm = f"{b}_mass"
        frac = max(mass, _TINY_MASS) / total
        params.append(f"  {pm}: {_fmt(frac)}*mass")
        if mass > 0:
            Irel = I / mass
            inertia = [f"{pm}*{_fmt(v)}" if v != 0 else "0" for v in
                       (Irel[0, 0], Irel[1, 1], Irel[2, 2], Irel[0, 1], Irel[0, 2], Irel[1, 2])]
        else:
            inertia = [f"{pm}*1e-3"] * 3 + ["0"] * 3

        def body_block(bname, parent_name, jtype, coords, axes, off, ori, mass_expr, com_v, inertia_v,
                       actuated=None, as_given=False):
            out = [f"  - name: {bname}", f"    parent: {parent_name}", "    joint:",
                   f"      type: {jtype}"]
            if coords:
                out.append(f"      coordinates: [{', '.join(coords)}]")
                out.append(f"      axes: [{', '.join(_axis_entry(a) for a in axes)}]")
            out.append(f"      offset: {_vec(off)}")
            out.append(f"      orientation: {_vec(ori)}")
            if actuated is not None:
                out.append(f"      actuated: {'true' if actuated else 'false'}")
            out += [f"    mass: {mass_expr}", f"    com: {_vec(com_v)}",
                    f"    inertia: [{', '.join(inertia_v)}]"]
            if as_given:
                out.append("    inertia_as_given: true")
            return out

        if is_root:
            tr = trans_dof
            if trans_coupled:
                raise NotImplementedError(f"root joint {j.name}: coupled translations")
            if len(tr) == 3 and len(rot_coords) == 3:
                jtype = "floating"
            elif len(tr) == 2 and len(rot_coords) == 1:
                jtype = "planar"
            else:
                raise NotImplementedError(f"root joint {j.name}: {len(tr)} translations and "
                                          f"{len(rot_coords)} rotations (need 3+3 or 2+1)")
            coords = [c for _, c in tr] + rot_coords
            axes = [a for a, _ in tr] + rot_axes
            lines_bodies += body_block(b, "ground", jtype, coords, axes, offset, orient, pm, com, inertia,
                                       as_given=as_given)
            osim_coords += coords
        else:
            cur_parent, off, ori = parent, offset, orient
            chain = [(a, c, None) for a, c in trans_dof] + [(a, f"{j.name}_t{k + 1 - 3}", (d, f))
                                                           for a, d, f, k in trans_coupled]
            # OpenSim order: translations (in F) before rotations; own translation coordinates first
            for a, cname, drv in chain:
                iname = f"{b}_{cname}_frame"
                lines_bodies += body_block(iname, cur_parent, "slider", [cname], [a], off, ori,
                                           _fmt(_TINY_MASS), np.zeros(3),
                                           [_fmt(_TINY_MASS * 1e-3)] * 3 + ["0"] * 3)
                if drv is not None:
                    couplings.append(Coupling(coordinate=cname, driver=drv[0], function=drv[1]))
                else:
                    osim_coords.append(cname)
                cur_parent, off, ori = iname, np.zeros(3), np.zeros(3)
            nr = len(rot_coords)
            jtype = {0: "fixed", 1: "hinge", 2: "universal", 3: "ball"}[nr]
            lines_bodies += body_block(b, cur_parent, jtype, rot_coords, rot_axes, off, ori, pm, com,
                                       inertia, as_given=as_given)
            osim_coords += rot_coords
    for c in couplings:
        notes.append(f"{c.coordinate}: translation prescribed by {c.driver} (exact OpenSim kinematics)")
    others = [f"{k} {n}" for k, n in om.forces if not k.endswith("Muscle")]
    if others:
        notes.append(f"model forces other than muscles not carried over: {others[:6]}"
                     f"{' ...' if len(others) > 6 else ''} (OpenSim's inverse dynamics applies them "
                     "unless its forces_to_exclude names them)")
    if om.constraints:
        notes.append(f"constraints ignored: {[f'{k} {n}' for k, n in om.constraints][:6]} (OpenSim's "
                     "inverse dynamics ignores them too; every coordinate is taken from the motion)")

    contacts = contacts if contacts is not None else {
        n: bd for n, bd in (("foot_r", "calcn_r"), ("foot_l", "calcn_l")) if bd in om.bodies}
    g = om.gravity
    text = [f"# Generated by symgait.model.from_osim from {Path(path).name} (do not edit).",
            f"# {om.name}: {len(order)} bodies, total mass {total:.6g} kg.",
            ]
    text += [f"# note: {n}" for n in notes]
    text += [f"name: {name}",
             f"description: converted from OpenSim model {om.name!r} ({Path(path).name})",
             f"gravity: {_vec(g)}",
             "subject:", f"  height: {_fmt(height)}", f"  mass: {_fmt(total)}",
             "parameters:"] + params + ["bodies:"] + lines_bodies
    if contacts:
        text.append("contacts:")
        text += [f"  - {{name: {n}, body: {bd}}}" for n, bd in contacts.items()]
    text.append("points:")
    text += [f"  - {{name: {b}_origin, body: {b}, position: [0, 0, 0]}}" for b in order]
    return ConvertedModel(name=name, yaml_text="\n".join(text) + "\n", couplings=couplings,
                          osim_coordinates=osim_coords, total_mass=total, notes=notes,
                          rotational=[c for c in osim_coords if coord_motion.get(c) == "rotational"])


