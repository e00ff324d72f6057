"""Checks of a model file before any derivation: YAML read with the line of every key and list item,
unknown keys (naming the nearest valid one), and the physical values of the bodies at the default
subject (mass > 0, inertia positive definite and satisfying the triangle inequality, finite
lengths). Every error is a :class:`ModelError` naming the file, the line and the fix."""
from __future__ import annotations

import difflib

import numpy as np
import sympy as sp
import yaml

from ..errors import ModelError

__all__ = ["LineMap", "LineList", "read_yaml", "line_of", "location", "check_keys", "nearest",
           "numeric_defaults", "check_bodies_physical", "TOP_KEYS", "BODY_KEYS", "JOINT_KEYS",
           "CONTACT_KEYS", "POINT_KEYS"]

TOP_KEYS = ("name", "description", "gravity", "subject", "parameters", "bodies", "contacts", "points")
BODY_KEYS = ("name", "parent", "joint", "mass", "com", "inertia", "inertia_as_given")
JOINT_KEYS = ("type", "motions", "coordinates", "axes", "offset", "orientation", "actuated")
CONTACT_KEYS = ("name", "body")
POINT_KEYS = ("name", "body", "position")


class LineMap(dict):
    """A YAML mapping that remembers its own line (``line``) and each key's (``lines``), 1-based."""
    line = None
    lines: dict = {}


class LineList(list):
    """A YAML sequence that remembers its own line (``line``) and each item's (``lines``), 1-based."""
    line = None
    lines: list = []


class _LineLoader(yaml.SafeLoader):
    path = "<string>"


def _construct_map(loader, node):
    data = LineMap()
    data.line, data.lines = node.start_mark.line + 1, {}
    yield data
    loader.flatten_mapping(node)
    for knode, vnode in node.value:
        key = loader.construct_object(knode, deep=True)
        line = knode.start_mark.line + 1
        try:
            hash(key)
        except TypeError:
            raise ModelError(f"{loader.path}, line {line}: a key must be a name, not {key!r}") from None
        if key in data:
            raise ModelError(f"{loader.path}, line {line}: key {key!r} is given twice in one mapping (first on "
                             f"line {data.lines[key]}); keep one")
        data[key] = loader.construct_object(vnode, deep=True)
        data.lines[key] = line


def _construct_seq(loader, node):
    data = LineList()
    data.line, data.lines = node.start_mark.line + 1, [n.start_mark.line + 1 for n in node.value]
    yield data
    data.extend(loader.construct_object(n, deep=True) for n in node.value)


_LineLoader.add_constructor("tag:yaml.org,2002:map", _construct_map)
_LineLoader.add_constructor("tag:yaml.org,2002:seq", _construct_seq)


def read_yaml(text: str, path: str):
    """The YAML document of ``text`` with :class:`LineMap` / :class:`LineList` nodes."""
    loader = _LineLoader(text)
    loader.path = path
    try:
        return loader.get_single_data()
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
        where = f"{path}, line {mark.line + 1}" if mark is not None else path
        problem = getattr(e, "problem", None) or str(e)
        raise ModelError(f"{where}: not valid YAML ({problem}); check the indentation and the brackets "
                         f"there (docs/model_format.md shows the layout)") from None
    finally:
        loader.dispose()


def line_of(node, key=None):
    """1-based line of ``node[key]`` (or of ``node`` itself) where the node came from :func:`read_yaml`;
    None for a plain dict or list."""
    if key is not None:
        lines = getattr(node, "lines", None)
        if isinstance(lines, dict) and key in lines:
            return lines[key]
        if isinstance(lines, list) and isinstance(key, int) and 0 <= key < len(lines):
            return lines[key]
    return getattr(node, "line", None)


def location(path: str, node=None, key=None) -> str:
    """``"path, line N"`` (or ``"path"`` where the line is unknown)."""
    line = line_of(node, key) if node is not None else None
    return f"{path}, line {line}" if line is not None else path


def nearest(word, valid) -> str:
    """`` (did you mean 'x'?)`` for the closest of ``valid``, else ``""``."""
    close = difflib.get_close_matches(str(word), [str(v) for v in valid], n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def check_keys(node: dict, allowed, path: str, what: str) -> None:
    """Refuse keys of ``node`` outside ``allowed`` (typos), naming the nearest valid key."""
    for k in node:
        if k not in allowed:
            raise ModelError(f"{location(path, node, k)}: unknown key {k!r} in {what}{nearest(k, allowed)}; "
                             f"valid keys: {', '.join(allowed)}")


def _real(expr, env):
    """A sympy expression at the numbers ``env`` as a float (NaN where it is not a finite real)."""
    try:
        v = complex(sp.sympify(expr).xreplace(env).evalf())
    except (TypeError, ValueError):
        return float("nan")
    return v.real if v.imag == 0 and np.isfinite(v.real) else float("nan")


def numeric_defaults(subject: dict, names, defaults, symbols) -> dict:
    """``{p[k] symbol: value}`` of the parameters at the default subject (as
    :meth:`symgait.model.Model.parameters` computes them)."""
    env = {sp.Symbol(k): sp.Float(v) for k, v in subject.items()}
    out = {}
    for name, expr, sym in zip(names, defaults, symbols):
        v = _real(expr, env)
        env[sp.Symbol(name)] = sp.Float(v)
        out[sym] = v
    return out


def check_bodies_physical(path: str, pvals: dict, params_node, param_names, bodies, body_nodes,
                          points, point_nodes, length_suffix: str = "_length") -> None:
    """ModelError for a non-physical value at the default subject: a non-finite parameter, a length
    parameter <= 0, a body mass <= 0, an inertia that is not positive definite or breaks the triangle
    inequality (unless the body says ``inertia_as_given``), a non-finite com, joint offset or point
    position."""
    env = {s: sp.Float(v) for s, v in pvals.items() if np.isfinite(v)}
    for name, (sym, v) in zip(param_names, pvals.items()):
        at = location(path, params_node, name)
        if not np.isfinite(v):
            raise ModelError(f"{at}: parameter {name!r} is not a finite real number at the default subject; "
                             f"fix its expression")
        if name.endswith(length_suffix) and v <= 0:
            raise ModelError(f"{at}: parameter {name!r} = {v:g} m at the default subject; lengths must be > 0")
    for b, node in zip(bodies, body_nodes):
        m = _real(b.mass, env)
        if not m > 0:
            raise ModelError(f"{location(path, node, 'mass')}: body {b.name!r} has mass {m:g} kg at the default "
                             f"subject; a mass must be > 0 (kg)")
        ixx, iyy, izz, ixy, ixz, iyz = (_real(x, env) for x in b.inertia)
        mat = np.array([[ixx, ixy, ixz], [ixy, iyy, iyz], [ixz, iyz, izz]])
        at = location(path, node, "inertia")
        if not np.all(np.isfinite(mat)):
            raise ModelError(f"{at}: body {b.name!r} has a non-finite inertia at the default subject; fix it")
        ev = np.linalg.eigvalsh(mat)
        if ev[0] <= 0:
            raise ModelError(f"{at}: body {b.name!r} has inertia {[float(x) for x in (ixx, iyy, izz, ixy, ixz, iyz)]}"
                             f" kg m^2, which is not positive definite (principal moments {ev.tolist()}); "
                             f"every principal moment must be > 0")
        if ev[0] + ev[1] < ev[2] * (1 - 1e-9) and not b.inertia_as_given:
            raise ModelError(f"{at}: body {b.name!r} has principal moments of inertia {ev.tolist()} kg m^2, which "
                             f"break the triangle inequality (the two smaller must sum to at least the largest); "
                             f"no rigid body has them (a body of an imported OpenSim model may say "
                             f"'inertia_as_given: true', docs/model_format.md)")
        for key, vec in (("com", b.com), ("joint", b.joint_offset)):
            if not all(np.isfinite(_real(x, env)) for x in vec):
                what = "com" if key == "com" else "joint offset"
                raise ModelError(f"{location(path, node, key)}: body {b.name!r}: the {what} is not finite at the "
                                 f"default subject; fix its expressions")
    for pt, node in zip(points, point_nodes):
        if not all(np.isfinite(_real(x, env)) for x in pt.position):
            raise ModelError(f"{location(path, node, 'position')}: point {pt.name!r}: the position is not finite "
                             f"at the default subject; fix its expressions")
