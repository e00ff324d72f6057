"""The package's layers import only downwards, with no cycles and imports at module top.

The import graph of ``symgait`` and ``training`` is read from the source (every import statement,
including those inside functions), not from what happens to be imported at run time.  Each package
(or top-level module) has a floor; a module may import modules of its own package or of a lower
floor.  Command-line modules may defer imports (for start-up time); elsewhere at most
``MAX_DEFERRED`` internal imports may sit inside functions, each for a reason given beside it.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("symgait", "training")

# floor of each package or module (dotted prefix); the longest matching prefix decides
FLOORS = {
    "symgait.errors": 0, "symgait.user_cache": 0, "symgait.paths": 0, "symgait._version": 0,
    "symgait.constants": 0, "symgait.parameters": 0, "symgait.atomic": 0,
    "symgait.signals": 1,  # arrays over time only: no files, no model
    "symgait.io": 2,       # file readers (a C3D reader resamples plates with signals)
    "symgait.model": 3,    # model files -> ModelSpec (an .osim through io)
    "symgait.symbolic": 4,
    "symgait.codegen": 5,
    "symgait.runtime": 6,
    "symgait": 7,  # the package face: load_model, kernels, errors
    "symgait.layers": 8,
    "symgait.markers": 9, "symgait.forces": 9,
    "symgait.trials": 10,
    "symgait.datasets": 11,
    "training": 12,
    "symgait.cli": 13,
    "training.cli": 13,
    "training.__main__": 13,
}
# packages of one floor that must not import each other
SIBLINGS = [("symgait.markers", "symgait.forces")]
# lower packages a package must not import although they are below it: the runtime reads what
# symbolic and codegen wrote (generated code, manifests) and never imports them (no SymPy at run time)
FORBIDDEN = {"symgait.runtime": ("symgait.symbolic", "symgait.codegen")}
CLI = ("symgait.cli", "training.cli", "training.__main__")
MAX_DEFERRED = 10


def _modules():
    out = {}
    for pkg in PACKAGES:
        for path in sorted((ROOT / pkg).rglob("*.py")):
            rel = path.relative_to(ROOT).with_suffix("")
            parts = list(rel.parts)
            is_pkg = parts[-1] == "__init__"
            if is_pkg:
                parts = parts[:-1]
            out[".".join(parts)] = (path, is_pkg)
    return out


MODULES = _modules()


def _resolve(cur: str, is_pkg: bool, level: int, module: str | None) -> str:
    if level == 0:
        return module or ""
    base = cur.split(".") if is_pkg else cur.split(".")[:-1]
    base = base[: len(base) - (level - 1)]
    return ".".join(base + ([module] if module else []))


def _known(name: str) -> str | None:
    """The internal module a dotted name refers to (itself, or its longest known prefix)."""
    while name:
        if name in MODULES:
            return name
        name = name.rpartition(".")[0]
    return None


def import_edges():
    """[(importer, imported, line, inside_function)] for every internal import."""
    edges = []
    for mod, (path, is_pkg) in MODULES.items():
        tree = ast.parse(path.read_text(), str(path))
        fn_lines = set()
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for sub in ast.walk(node):
                    if isinstance(sub, (ast.Import, ast.ImportFrom)):
                        fn_lines.add(sub.lineno)
        for node in ast.walk(tree):
            targets = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = _resolve(mod, is_pkg, node.level, node.module)
                targets = [base + "." + a.name if _known(base + "." + a.name) == base + "." + a.name else base
                           for a in node.names]
            for t in targets:
                k = _known(t)
                if k and k != mod:
                    edges.append((mod, k, node.lineno, node.lineno in fn_lines))
    return edges


def floor(mod: str) -> int:
    best = max((p for p in FLOORS if mod == p or mod.startswith(p + ".")), key=len)
    return FLOORS[best]


def _package(mod: str) -> str:
    best = max((p for p in FLOORS if mod == p or mod.startswith(p + ".")), key=len)
    return best


def find_cycles(edges):
    graph = {}
    for a, b, *_ in edges:
        graph.setdefault(a, set()).add(b)
    # Tarjan's strongly connected components
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in list(graph):
        if v not in index:
            visit(v)
    return out


def test_every_module_has_a_floor():
    assert all(floor(m) >= 0 for m in MODULES)


def test_no_import_cycles():
    cycles = find_cycles(import_edges())
    assert not cycles, "import cycles: " + "; ".join(" <-> ".join(c) for c in cycles)


def test_imports_point_down():
    up = [f"{a}:{line} imports {b} (floor {floor(a)} -> {floor(b)})"
          for a, b, line, _ in import_edges()
          if floor(b) > floor(a) and _package(a) != _package(b)]
    side = [f"{a}:{line} imports its sibling {b}" for a, b, line, _ in import_edges()
            for x, y in SIBLINGS if (_package(a), _package(b)) in ((x, y), (y, x))]
    banned = [f"{a}:{line} imports {b}" for a, b, line, _ in import_edges()
              for src, dsts in FORBIDDEN.items() if _package(a) == src and _package(b) in dsts]
    assert not up + side + banned, "imports that point up, sideways or where they must not:\n" + "\n".join(
        up + side + banned)


def test_imports_at_module_top():
    deferred = [f"{a}:{line} imports {b}" for a, b, line, inside in import_edges()
                if inside and not any(a == c or a.startswith(c + ".") for c in CLI)]
    assert len(deferred) <= MAX_DEFERRED, (f"{len(deferred)} internal imports inside functions outside the "
                                           f"command-line modules (at most {MAX_DEFERRED}):\n" + "\n".join(deferred))


@pytest.mark.parametrize("edges, cycle", [
    ([("a", "b", 1, False), ("b", "c", 1, False), ("c", "a", 1, False)], ["a", "b", "c"]),
    ([("a", "b", 1, False), ("b", "c", 1, False)], None),
])
def test_cycle_finder(edges, cycle):
    """The checker itself finds a three-module cycle and passes a chain."""
    found = find_cycles(edges)
    assert found == ([cycle] if cycle else [])
