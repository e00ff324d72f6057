"""Read and validate a YAML model file into a :class:`ModelSpec`."""
from __future__ import annotations

import numpy as np
import sympy as sp
from ..errors import ModelError
from ..paths import resolve_model_path
from .joints import JOINT_TYPES, QUATERNION_TYPES, ROOT_ONLY, euler_xyz_deg, joint_motions, parse_axis
from .mjcf_import import read_mjcf
from .motions import FIXED
from .spec import Body, Contact, Frame, ModelSpec, Point
from .urdf_import import read_urdf
from .validate import (BODY_KEYS, CONTACT_KEYS, JOINT_KEYS, POINT_KEYS, TOP_KEYS, check_bodies_physical,
                       check_keys, line_of, location, nearest, numeric_defaults, read_yaml)

_FUNCS = {"sqrt": sp.sqrt, "sin": sp.sin, "cos": sp.cos, "pi": sp.pi}


def load_spec(name_or_path, floating_root: str | None = None) -> ModelSpec:
    """The :class:`ModelSpec` of a built-in model name or a model file: YAML (.yaml, .yml), URDF (.urdf)
    or MuJoCo MJCF (.xml, .mjcf), by suffix. ``floating_root`` ('quaternion' or 'euler'): how an
    imported file's floating root is read (a YAML file states its joints itself)."""
    path = resolve_model_path(name_or_path)
    suffix = path.suffix.lower()
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as e:
        raise ModelError(f"{path}: cannot read the model file ({e}); give a UTF-8 model file (YAML, URDF or "
                         f"MJCF)") from None
    if suffix == ".urdf":
        return read_urdf(path, text, floating_root)
    if suffix in (".xml", ".mjcf"):
        return read_mjcf(path, text, floating_root)
    if floating_root is not None:
        raise ModelError(f"{path}: floating_root={floating_root!r} is for imported URDF and MJCF files; a YAML model "
                         f"file states its root joint itself (type: free_flyer or floating)")
    doc = read_yaml(text, str(path))
    if not isinstance(doc, dict):
        raise ModelError(f"{location(str(path), doc)}: expected a mapping with 'bodies' at the top level "
                         f"(docs/model_format.md)")
    return parse_spec(doc, text=text, path=str(path), default_name=path.stem)


def _finite_expr(e, where):
    if e.has(sp.nan, sp.zoo, sp.oo, -sp.oo):
        raise ModelError(f"{where}: the expression is not finite ({e}); fix it")
    return e


def _expr(value, where, symbols: dict, allow_subject=False):
    if isinstance(value, bool):
        raise ModelError(f"{where}: expected a number or an expression, got {value!r}")
    if isinstance(value, (int, float)):
        if not np.isfinite(value):
            raise ModelError(f"{where}: {value!r} is not finite; give a finite number")
        return sp.Float(value) if isinstance(value, float) else sp.Integer(value)
    if not isinstance(value, str):
        raise ModelError(f"{where}: expected a number or an expression string, got {value!r}")
    try:
        e = sp.sympify(value, locals={**symbols, **_FUNCS})
    except (sp.SympifyError, SyntaxError, TypeError, ValueError, AttributeError) as err:
        raise ModelError(f"{where}: cannot parse expression {value!r}: {err}") from None
    if not isinstance(e, sp.Expr):
        raise ModelError(f"{where}: {value!r} is not an arithmetic expression; use + - * / ** and "
                         f"sqrt, sin, cos, pi")
    unknown = sorted(str(s) for s in e.free_symbols if s not in set(symbols.values()))
    if unknown:
        kind = "subject inputs or earlier parameters" if allow_subject else "parameters"
        raise ModelError(f"{where}: expression {value!r} uses {unknown}, which are not {kind}; "
                         f"declare them under 'parameters:'{nearest(unknown[0], symbols)}")
    return _finite_expr(e, where)


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


def _name(value, where, what) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ModelError(f"{where}: {what} must be a non-empty name, got {value!r}")
    return value


def parse_spec(doc: dict, text: str = "", path: str = "<dict>", default_name: str = "model") -> ModelSpec:
    """A :class:`ModelSpec` from a model document (from :func:`load_spec`, whose nodes carry line
    numbers for the messages, or a plain dict). Every check runs here, before any derivation."""
    if not isinstance(doc, dict):
        raise ModelError(f"{path}: expected a mapping with 'bodies' at the top level")

    def at(node=None, key=None) -> str:
        return location(path, node, key)

    check_keys(doc, TOP_KEYS, path, "the model")
    name = str(doc.get("name", default_name))
    graw = doc.get("gravity", [0.0, -9.80665, 0.0])
    try:
        gravity = None if isinstance(graw, bool) or any(isinstance(g, bool) for g in graw) \
            else np.array(graw, dtype=float)
    except (TypeError, ValueError):
        gravity = None
    if gravity is None or gravity.shape != (3,) or not np.all(np.isfinite(gravity)):
        raise ModelError(f"{at(doc, 'gravity')}: gravity must be three finite numbers (m/s^2), e.g. "
                         f"[0, -9.80665, 0]; got {graw!r}")

    subject = doc.get("subject", {"height": 1.78, "mass": 93.5}) or {}
    subject_node = subject
    if not isinstance(subject, dict):
        raise ModelError(f"{at(doc, 'subject')}: 'subject' must map input names to default values, e.g. "
                         f"{{height: 1.78, mass: 93.5}}; got {subject!r}")
    for k, v in subject.items():
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not np.isfinite(v) or v <= 0:
            raise ModelError(f"{at(subject_node, k)}: subject input {k!r} must be a positive number (height in m, "
                             f"mass in kg), got {v!r}")
    subject = {str(k): float(v) for k, v in subject.items()}
    subj_syms = {k: sp.Symbol(k) for k in subject}

    params = doc.get("parameters", {}) or {}
    params_node = params
    if not isinstance(params, dict):
        raise ModelError(f"{at(doc, 'parameters')}: 'parameters' must map parameter names to default "
                         f"expressions, e.g. thigh_length: 0.245*height")
    pnames, pdefaults, psyms = [], [], []
    known = dict(subj_syms)
    for k, (pn, pv) in enumerate(params.items()):
        wp = at(params_node, pn)
        pn = str(pn)
        if pn in subj_syms or pn in pnames or pn in _FUNCS:
            raise ModelError(f"{wp}: parameter {pn!r} is declared twice or shadows a subject input/function; "
                             f"rename it")
        pdefaults.append(_expr(pv, f"{wp}: parameter {pn!r}", known, allow_subject=True))
        pnames.append(pn)
        sym = sp.Symbol(f"p[{k}]")
        psyms.append(sym)
        known[pn] = sp.Symbol(pn)
    # body fields see parameters as p[k] symbols
    psym_map = dict(zip(pnames, psyms))

    raw_bodies = doc.get("bodies")
    if not isinstance(raw_bodies, list) or not raw_bodies:
        raise ModelError(f"{at(doc, 'bodies')}: 'bodies' must be a non-empty list of bodies "
                         f"(docs/model_format.md)")
    by_name, node_of = {}, {}
    for i, b in enumerate(raw_bodies):
        if not isinstance(b, dict) or "name" not in b:
            raise ModelError(f"{at(raw_bodies, i)}: bodies[{i}] must be a mapping with a 'name'")
        check_keys(b, BODY_KEYS, path, f"body {b.get('name')!r}")
        bn = _name(b["name"], at(b, "name"), "a body name")
        if bn in by_name or bn == "ground":
            first = f" (first on line {line_of(node_of[bn])})" if bn in node_of and line_of(node_of[bn]) else ""
            raise ModelError(f"{at(b, 'name')}: body name {bn!r} is used twice{first} (or is the reserved "
                             f"'ground'); rename one")
        by_name[bn] = b
        node_of[bn] = b

    def parent_of(b) -> str:
        par = b.get("parent", "ground")
        return _name(par, at(b, "parent"), "parent") if par is not None else "ground"
    # parents, cycles, single root
    roots = [bn for bn, b in by_name.items() if parent_of(b) == "ground"]
    for bn, b in by_name.items():
        par = parent_of(b)
        if par != "ground" and par not in by_name:
            raise ModelError(f"{at(b, 'parent')}: body {bn!r} has parent {par!r}, which is not a body of this "
                             f"model{nearest(par, by_name)}; add it or use parent: ground")
    for bn in by_name:
        seen, cur = [], bn
        while cur != "ground":
            if cur in seen:
                loop = seen[seen.index(cur):] + [cur]
                raise ModelError(f"{at(by_name[cur], 'parent')}: the parent chain of body {bn!r} has a cycle "
                                 f"({' -> '.join(loop)}); a model must be a tree: give one of them another "
                                 f"parent")
            seen.append(cur)
            cur = parent_of(by_name[cur])
    if len(roots) != 1:
        raise ModelError(f"{at(doc, 'bodies')}: exactly one body must have parent 'ground' (found {roots}); "
                         f"attach the others to a body")
    # depth-first order, children in file order
    children = {bn: [] for bn in by_name}
    for bn, b in by_name.items():
        par = parent_of(b)
        if par != "ground":
            children[par].append(bn)
    order = []

    def visit(bn):
        order.append(bn)
        for c in children[bn]:
            visit(c)
    visit(roots[0])

    bodies, frames, coords, velocities, actuated = [], [], [], [], []
    coord_line = {}
    body_frame = {}
    for bn in order:
        b = by_name[bn]
        wb = f"{at(b)}: body {bn!r}"
        par = parent_of(b)
        j = b.get("joint", {}) or {}
        if not isinstance(j, dict):
            raise ModelError(f"{at(b, 'joint')}: body {bn!r}: 'joint' must be a mapping (type, coordinates, ...)")
        check_keys(j, JOINT_KEYS, path, f"the joint of body {bn!r}")
        wj = lambda key=None: f"{at(j, key) if key in j else at(b, 'joint')}: body {bn!r}"  # noqa: E731
        jt = str(j.get("type", "fixed" if par != "ground" else "floating"))
        if jt not in JOINT_TYPES:
            raise ModelError(f"{wj('type')}: unknown joint type {jt!r}{nearest(jt, JOINT_TYPES)}; use one of "
                             f"{sorted(JOINT_TYPES)}")
        is_root = par == "ground"
        if jt in ROOT_ONLY and not is_root:
            raise ModelError(f"{wj('type')}: joint type {jt!r} is allowed only for the root body")
        motions = joint_motions(jt, j.get("motions"), wj("motions"))
        quaternion = jt in QUATERNION_TYPES
        ndof, default_axes = (1, [[0, 0, 1]]) if quaternion else (len(motions), JOINT_TYPES[jt][1])
        jcoords = _list(j.get("coordinates"), f"{wj('coordinates')}: joint 'coordinates'", "coordinate names")
        jcoords = [_name(c, at(jcoords, k), "a coordinate name") for k, c in enumerate(jcoords)]
        if quaternion and len(jcoords) != 1:
            qn, vn = motions[0].names("<name>")
            raise ModelError(f"{wj('coordinates')}: a {jt!r} joint takes one name, the joint's (its configuration "
                             f"entries are {', '.join(qn)} and its velocities {', '.join(vn)}), e.g. "
                             f"coordinates: [shoulder_r]; got {jcoords}")
        if quaternion and "axes" in j:
            raise ModelError(f"{wj('axes')}: a {jt!r} joint turns about every axis (a unit quaternion) and takes "
                             f"no 'axes'; remove them (use 'orientation' to turn the joint frame)")
        if len(jcoords) != ndof:
            raise ModelError(f"{wj('coordinates')}: a {jt!r} joint needs {ndof} coordinate names, got {jcoords}")
        for k, c in enumerate(jcoords):
            taken = (motions[0].names(c)[0] + motions[0].names(c)[1]) if quaternion else [c]
            if any(t in coords or t in velocities for t in taken) or c in jcoords[:k] or c in coord_line:
                first = coord_line.get(c)
                raise ModelError(f"{at(j.get('coordinates'), k)}: body {bn!r}: coordinate {c!r} is used twice"
                                 f"{f' (first on line {first})' if first else ''}; every coordinate needs its "
                                 f"own name")
            coord_line[c] = line_of(j.get("coordinates"), k)
        axes_raw = j.get("axes", default_axes)
        if not isinstance(axes_raw, (list, tuple)):
            raise ModelError(f"{wj('axes')}: 'axes' must be a list of {ndof} axes (x, y, z, -x, ... or "
                             f"[ax, ay, az]) for a {jt!r} joint, got {axes_raw!r}")
        if len(axes_raw) != ndof:
            raise ModelError(f"{wj('axes')}: 'axes' needs {ndof} entries for a {jt!r} joint, got {axes_raw}")
        axes = [parse_axis(a, f"{at(axes_raw, k) if k < len(getattr(axes_raw, 'lines', [])) else at(b)}: "
                              f"body {bn!r}: joint axes[{k}]") for k, a in enumerate(axes_raw)]
        offset = _vec3(j.get("offset", [0, 0, 0]), f"{wj('offset')}: joint offset", psym_map)
        rot = euler_xyz_deg(j.get("orientation", [0, 0, 0]), f"{wj('orientation')}: joint orientation")
        act = j.get("actuated", not is_root)
        if not isinstance(act, bool):
            raise ModelError(f"{wj('actuated')}: joint 'actuated' must be true or false, got {act!r}")

        if "mass" not in b:
            raise ModelError(f"{wb}: 'mass' is required (kg, > 0)")
        mass = _expr(b["mass"], f"{at(b, 'mass')}: body {bn!r}: mass", psym_map)
        com = _vec3(b.get("com", [0, 0, 0]), f"{at(b, 'com')}: body {bn!r}: com", psym_map)
        inertia_raw = b.get("inertia")
        if not isinstance(inertia_raw, (list, tuple)) or len(inertia_raw) not in (3, 6):
            raise ModelError(f"{at(b, 'inertia') if 'inertia' in b else at(b)}: body {bn!r}: 'inertia' must be "
                             f"[Ixx, Iyy, Izz] or [Ixx, Iyy, Izz, Ixy, Ixz, Iyz] (kg m^2, about the COM)")
        inertia = [_expr(v, f"{at(b, 'inertia')}: body {bn!r}: inertia[{k}]", psym_map)
                   for k, v in enumerate(inertia_raw)]
        if len(inertia) == 3:
            inertia += [sp.Integer(0)] * 3
        as_given = b.get("inertia_as_given", False)
        if not isinstance(as_given, bool):
            raise ModelError(f"{at(b, 'inertia_as_given')}: body {bn!r}: 'inertia_as_given' must be true or "
                             f"false, got {as_given!r}")

        parent_frame = -1 if is_root else body_frame[par]
        body = Body(name=bn, parent=par, joint_type=jt, coordinates=jcoords, actuated=act, mass=mass,
                    com=com, inertia=tuple(inertia), joint_offset=offset, joint_rotation=rot,
                    joint_axes=axes, inertia_as_given=as_given)
        if not motions:
            motions, jnames, faxes = (FIXED,), [f"{bn}_fixed"], [np.array([0.0, 0.0, 1.0])]
        else:
            jnames, faxes = jcoords, axes
        for k, (motion, fname, ax) in enumerate(zip(motions, jnames, faxes)):
            first = k == 0
            ci = vi = None
            if motion.has_coordinate:
                qnames, vnames = motion.names(fname)
                ci, vi = len(coords), len(velocities)
                coords += qnames
                velocities += vnames
                actuated += [act] * len(vnames)
            f = Frame(index=len(frames), name=fname, parent=parent_frame, motion=motion, axis=ax,
                      offset=offset if first else (sp.Integer(0),) * 3,
                      rotation=rot if first else np.eye(3), coordinate=ci, velocity=vi)
            frames.append(f)
            body.joint_frames.append(f.index)
            parent_frame = f.index
        frames[parent_frame].body = len(bodies)
        body.frame = parent_frame
        body_frame[bn] = parent_frame
        bodies.append(body)
    # joint names (a coordinate's, or <body>_fixed) and the link names of the URDF export are unique
    for f in frames:
        if f.body is None and f"{f.name}_link" in by_name:
            raise ModelError(f"{at(node_of[f'{f.name}_link'], 'name')}: body name {f.name + '_link'!r} is "
                             f"also the name of the intermediate link of joint coordinate {f.name!r}; rename one")
        if f.coordinate is None and f.name in coord_line:
            raise ModelError(f"{at(by_name[bodies[f.body].name])}: the fixed joint {f.name!r} of body "
                             f"{bodies[f.body].name!r} has the name of a coordinate; rename the coordinate")

    def on_bodies(key, what, keys, needs):
        """The file's ``key`` list (contacts, points), each entry named and on an existing body."""
        raw = _list(doc.get(key), f"{at(doc, key)}: '{key}'", f"mappings with {needs}")
        for i, c in enumerate(raw):
            if not isinstance(c, dict) or "name" not in c or "body" not in c:
                raise ModelError(f"{at(raw, i)}: {key}[{i}] needs {needs}")
            check_keys(c, keys, path, f"{what} {c.get('name')!r}")
            n, b = _name(c["name"], at(c, "name"), f"a {what} name"), str(c["body"])
            if b not in body_frame:
                raise ModelError(f"{at(c, 'body')}: {what} {n!r} is on body {b!r}, which does not exist"
                                 f"{nearest(b, body_frame)}; use one of the model's bodies")
            yield c, n, b

    contacts, contact_nodes = [], []
    for c, cn, cb in on_bodies("contacts", "contact", CONTACT_KEYS, "'name' and 'body'"):
        contacts.append(Contact(name=cn, body=cb, frame=body_frame[cb]))
        contact_nodes.append(c)
    points, point_nodes = [], []
    for c, pn, pb in on_bodies("points", "point", POINT_KEYS, "'name', 'body' and 'position'"):
        points.append(Point(name=pn, body=pb, frame=body_frame[pb],
                            position=_vec3(c.get("position", [0, 0, 0]),
                                           f"{at(c, 'position') if 'position' in c else at(c)}: point {pn!r}",
                                           psym_map)))
        point_nodes.append(c)
    seen_names = {}
    for nm, node in [(c.name, n) for c, n in zip(contacts, contact_nodes)] + \
                    [(p.name, n) for p, n in zip(points, point_nodes)]:
        if nm in seen_names:
            first = line_of(seen_names[nm])
            raise ModelError(f"{at(node)}: contact/point name {nm!r} is used twice"
                             f"{f' (first on line {first})' if first else ''}; rename one")
        seen_names[nm] = node
    # physical values at the default subject
    pvals = numeric_defaults(subject, pnames, pdefaults, psyms)
    check_bodies_physical(path, pvals, params_node, pnames, bodies, [by_name[b.name] for b in bodies],
                          points, point_nodes)
    return ModelSpec(name=name, description=str(doc.get("description", "")), source=text, path=path,
                     gravity=gravity, subject=subject, parameter_names=pnames,
                     parameter_defaults=pdefaults, parameter_symbols=psyms, bodies=bodies, frames=frames,
                     coordinates=coords, actuated=actuated, contacts=contacts, points=points,
                     velocities=velocities)
