"""Read and validate a YAML model file into a :class:`ModelSpec`."""
from __future__ import annotations

import numpy as np
import sympy as sp
import yaml

from ..errors import ModelError
from ..paths import resolve_model_path
from .joints import JOINT_TYPES, ROOT_ONLY, euler_xyz_deg, joint_motions, parse_axis
from .motions import FIXED
from .spec import Body, Contact, Frame, ModelSpec, Point

_FUNCS = {"sqrt": sp.sqrt, "sin": sp.sin, "cos": sp.cos, "pi": sp.pi}


def load_spec(name_or_path) -> ModelSpec:
    path = resolve_model_path(name_or_path)
    text = path.read_text()
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise ModelError(f"{path}: not valid YAML: {e}") from None
    if not isinstance(doc, dict):
        raise ModelError(f"{path}: expected a mapping with 'bodies' at the top level")
    return parse_spec(doc, text=text, path=str(path), default_name=path.stem)


def _expr(value, where, symbols: dict, allow_subject=False):
    if isinstance(value, bool):
        raise ModelError(f"{where}: expected a number or an expression, got {value!r}")
    if isinstance(value, (int, float)):
        if not np.isfinite(value):
            raise ModelError(f"{where}: {value!r} is not finite")
        return sp.Float(value) if isinstance(value, float) else sp.Integer(value)
    if not isinstance(value, str):
        raise ModelError(f"{where}: expected a number or an expression string, got {value!r}")
    try:
        e = sp.sympify(value, locals={**symbols, **_FUNCS})
    except (sp.SympifyError, SyntaxError, TypeError) as err:
        raise ModelError(f"{where}: cannot parse expression {value!r}: {err}") from None
    unknown = sorted(str(s) for s in e.free_symbols if s not in set(symbols.values()))
    if unknown:
        kind = "subject inputs or earlier parameters" if allow_subject else "parameters"
        raise ModelError(f"{where}: expression {value!r} uses {unknown}, which are not {kind}; "
                         f"declare them under 'parameters:'")
    return e


def _list(value, where, what) -> list:
    """A YAML list (None -> [])."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise ModelError(f"{where} must be a list of {what}, got {value!r}")
    return value


def _vec3(value, where, symbols):
    if not isinstance(value, (list, tuple)) or len(value) != 3:
        raise ModelError(f"{where}: expected a list of 3 values, got {value!r}")
    return tuple(_expr(v, f"{where}[{i}]", symbols) for i, v in enumerate(value))


def parse_spec(doc: dict, text: str = "", path: str = "<dict>", default_name: str = "model") -> ModelSpec:
    name = str(doc.get("name", default_name))
    where0 = f"model {name!r} ({path})"
    graw = doc.get("gravity", [0.0, -9.80665, 0.0])
    try:
        gravity = np.array(graw, dtype=float)
    except (TypeError, ValueError):
        gravity = None
    if gravity is None or gravity.shape != (3,) or not np.all(np.isfinite(gravity)):
        raise ModelError(f"{where0}: gravity must be three finite numbers (m/s^2), e.g. [0, -9.80665, 0]; "
                         f"got {graw!r}")

    subject = doc.get("subject", {"height": 1.78, "mass": 93.5}) or {}
    if not isinstance(subject, dict):
        raise ModelError(f"{where0}: 'subject' must map input names to default values, e.g. "
                         f"{{height: 1.78, mass: 93.5}}; got {subject!r}")
    for k, v in subject.items():
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not np.isfinite(v) or v <= 0:
            raise ModelError(f"{where0}: subject input {k!r} must be a positive number (height in m, mass "
                             f"in kg), got {v!r}")
    subject = {str(k): float(v) for k, v in subject.items()}
    subj_syms = {k: sp.Symbol(k) for k in subject}

    params = doc.get("parameters", {}) or {}
    if not isinstance(params, dict):
        raise ModelError(f"{where0}: 'parameters' must map parameter names to default expressions")
    pnames, pdefaults, psyms = [], [], []
    known = dict(subj_syms)
    for k, (pn, pv) in enumerate(params.items()):
        pn = str(pn)
        if pn in subj_syms or pn in pnames or pn in _FUNCS:
            raise ModelError(f"{where0}: parameter {pn!r} is declared twice or shadows a subject input/function")
        pdefaults.append(_expr(pv, f"{where0}: parameter {pn!r}", known, allow_subject=True))
        pnames.append(pn)
        sym = sp.Symbol(f"p[{k}]")
        psyms.append(sym)
        known[pn] = sp.Symbol(pn)
    # body fields see parameters as p[k] symbols
    psym_map = dict(zip(pnames, psyms))

    raw_bodies = doc.get("bodies")
    if not isinstance(raw_bodies, list) or not raw_bodies:
        raise ModelError(f"{where0}: 'bodies' must be a non-empty list")
    by_name = {}
    for i, b in enumerate(raw_bodies):
        if not isinstance(b, dict) or "name" not in b:
            raise ModelError(f"{where0}: bodies[{i}] must be a mapping with a 'name'")
        bn = str(b["name"])
        if bn in by_name or bn == "ground":
            raise ModelError(f"{where0}: body name {bn!r} is used twice (or is the reserved 'ground')")
        by_name[bn] = b
    # parents, cycles, single root
    roots = [bn for bn, b in by_name.items() if str(b.get("parent", "ground")) == "ground"]
    for bn, b in by_name.items():
        par = str(b.get("parent", "ground"))
        if par != "ground" and par not in by_name:
            raise ModelError(f"{where0}: body {bn!r} has parent {par!r}, which is not a body of this model; "
                             f"add it or use parent: ground")
    for bn in by_name:
        seen, cur = set(), bn
        while cur != "ground":
            if cur in seen:
                raise ModelError(f"{where0}: the parent chain of body {bn!r} has a cycle through {cur!r}; "
                                 f"a model must be a tree")
            seen.add(cur)
            cur = str(by_name[cur].get("parent", "ground"))
    if len(roots) != 1:
        raise ModelError(f"{where0}: exactly one body must have parent 'ground' (found {roots})")
    # depth-first order, children in file order
    children = {bn: [] for bn in by_name}
    for bn, b in by_name.items():
        par = str(b.get("parent", "ground"))
        if par != "ground":
            children[par].append(bn)
    order = []

    def visit(bn):
        order.append(bn)
        for c in children[bn]:
            visit(c)
    visit(roots[0])

    bodies, frames, coords, actuated = [], [], [], []
    body_frame = {}
    for bn in order:
        b = by_name[bn]
        wb = f"{where0}: body {bn!r}"
        par = str(b.get("parent", "ground"))
        j = b.get("joint", {}) or {}
        if not isinstance(j, dict):
            raise ModelError(f"{wb}: 'joint' must be a mapping")
        jt = str(j.get("type", "fixed" if par != "ground" else "floating"))
        if jt not in JOINT_TYPES:
            raise ModelError(f"{wb}: unknown joint type {jt!r}; use one of {sorted(JOINT_TYPES)}")
        is_root = par == "ground"
        if jt in ROOT_ONLY and not is_root:
            raise ModelError(f"{wb}: joint type {jt!r} is allowed only for the root body")
        motions = joint_motions(jt, j.get("motions"), wb)
        ndof, default_axes = len(motions), JOINT_TYPES[jt][1]
        jcoords = _list(j.get("coordinates"), f"{wb}: joint 'coordinates'", "coordinate names")
        jcoords = [str(c) for c in jcoords]
        if len(jcoords) != ndof:
            raise ModelError(f"{wb}: a {jt!r} joint needs {ndof} coordinate names, got {jcoords}")
        for c in jcoords:
            if c in coords:
                raise ModelError(f"{wb}: coordinate {c!r} is used twice")
        axes_raw = j.get("axes", default_axes)
        if not isinstance(axes_raw, (list, tuple)):
            raise ModelError(f"{wb}: 'axes' must be a list of {ndof} axes (x, y, z, -x, ... or [ax, ay, az]) "
                             f"for a {jt!r} joint, got {axes_raw!r}")
        if len(axes_raw) != ndof:
            raise ModelError(f"{wb}: 'axes' needs {ndof} entries for a {jt!r} joint, got {axes_raw}")
        axes = [parse_axis(a, f"{wb}: joint axes[{k}]") for k, a in enumerate(axes_raw)]
        offset = _vec3(j.get("offset", [0, 0, 0]), f"{wb}: joint offset", psym_map)
        rot = euler_xyz_deg(j.get("orientation", [0, 0, 0]), f"{wb}: joint orientation")
        act = j.get("actuated", not is_root)
        if not isinstance(act, bool):
            raise ModelError(f"{wb}: joint 'actuated' must be true or false, got {act!r}")

        if "mass" not in b:
            raise ModelError(f"{wb}: 'mass' is required (kg, > 0)")
        mass = _expr(b["mass"], f"{wb}: mass", psym_map)
        com = _vec3(b.get("com", [0, 0, 0]), f"{wb}: com", psym_map)
        inertia_raw = b.get("inertia")
        if not isinstance(inertia_raw, (list, tuple)) or len(inertia_raw) not in (3, 6):
            raise ModelError(f"{wb}: 'inertia' must be [Ixx, Iyy, Izz] or [Ixx, Iyy, Izz, Ixy, Ixz, Iyz] "
                             f"(kg m^2, about the COM)")
        inertia = [_expr(v, f"{wb}: inertia[{k}]", psym_map) for k, v in enumerate(inertia_raw)]
        if len(inertia) == 3:
            inertia += [sp.Integer(0)] * 3

        parent_frame = -1 if is_root else body_frame[par]
        body = Body(name=bn, parent=par, joint_type=jt, coordinates=jcoords, actuated=act, mass=mass,
                    com=com, inertia=tuple(inertia), joint_offset=offset, joint_rotation=rot,
                    joint_axes=axes)
        if not motions:
            motions, jnames, faxes = (FIXED,), [f"{bn}_fixed"], [np.array([0.0, 0.0, 1.0])]
        else:
            jnames, faxes = jcoords, axes
        for k, (motion, fname, ax) in enumerate(zip(motions, jnames, faxes)):
            first = k == 0
            ci = None
            if motion.has_coordinate:
                ci = len(coords)
                coords.append(fname)
                actuated.append(act)
            f = Frame(index=len(frames), name=fname, parent=parent_frame, motion=motion, axis=ax,
                      offset=offset if first else (sp.Integer(0),) * 3,
                      rotation=rot if first else np.eye(3), coordinate=ci)
            frames.append(f)
            body.joint_frames.append(f.index)
            parent_frame = f.index
        frames[parent_frame].body = len(bodies)
        body.frame = parent_frame
        body_frame[bn] = parent_frame
        bodies.append(body)

    contacts = []
    for i, c in enumerate(_list(doc.get("contacts"), f"{where0}: 'contacts'", "mappings with 'name' and 'body'")):
        if not isinstance(c, dict) or "name" not in c or "body" not in c:
            raise ModelError(f"{where0}: contacts[{i}] needs 'name' and 'body'")
        if str(c["body"]) not in body_frame:
            raise ModelError(f"{where0}: contact {c['name']!r} is on body {c['body']!r}, which does not exist")
        contacts.append(Contact(name=str(c["name"]), body=str(c["body"]), frame=body_frame[str(c["body"])]))
    points = []
    for i, c in enumerate(_list(doc.get("points"), f"{where0}: 'points'",
                                "mappings with 'name', 'body' and 'position'")):
        if not isinstance(c, dict) or "name" not in c or "body" not in c:
            raise ModelError(f"{where0}: points[{i}] needs 'name', 'body' and 'position'")
        if str(c["body"]) not in body_frame:
            raise ModelError(f"{where0}: point {c['name']!r} is on body {c['body']!r}, which does not exist")
        points.append(Point(name=str(c["name"]), body=str(c["body"]), frame=body_frame[str(c["body"])],
                            position=_vec3(c.get("position", [0, 0, 0]), f"{where0}: point {c['name']!r}",
                                           psym_map)))
    names = [c.name for c in contacts] + [p.name for p in points]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ModelError(f"{where0}: contact/point names used twice: {dup}")
    return ModelSpec(name=name, description=str(doc.get("description", "")), source=text, path=path,
                     gravity=gravity, subject=subject, parameter_names=pnames,
                     parameter_defaults=pdefaults, parameter_symbols=psyms, bodies=bodies, frames=frames,
                     coordinates=coords, actuated=actuated, contacts=contacts, points=points)
