"""The engine's modules import in one direction: model -> symbolic -> codegen -> runtime -> layers (the
shared bottom: errors, paths, parameters, user_cache, _version), with no import cycle (imports inside functions counted),
and the runtime never imports the symbolic layer or code generation (it reads their output)."""
from __future__ import annotations

import ast

from symgait_testing import REPO

PKG = REPO / "symgait"
ENGINE = ("model", "symbolic", "codegen", "runtime", "layers")
BOTTOM = ("symgait._version", "symgait.errors", "symgait.paths", "symgait.parameters", "symgait.user_cache")
# which engine layers each one may import (at module level or inside a function)
ALLOWED = {"model": set(), "symbolic": {"model"}, "codegen": {"model", "symbolic"},
           "runtime": {"model"}, "layers": {"model", "runtime"}}


def _modules() -> dict:
    """{dotted name: path} of symgait's own top-level modules and its engine packages."""
    out = {}
    for path in PKG.rglob("*.py"):
        rel = path.relative_to(REPO).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if len(parts) == 1 or parts[1] in ENGINE or len(parts) == 2 and path.parent == PKG:
            out[".".join(parts)] = path
    return out


def _imports(name: str, path, modules: dict, top_only: bool) -> set:
    """The symgait modules that ``name`` imports (only those at module level if ``top_only``)."""
    tree = ast.parse(path.read_text())
    nodes = tree.body if top_only else list(ast.walk(tree))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = set()
    for n in nodes:
        if isinstance(n, ast.ImportFrom):
            base = package
            for _ in range(n.level - 1):
                base = base.rpartition(".")[0]
            target = (f"{base}.{n.module}" if n.module else base) if n.level else n.module
            for a in n.names:
                sub = f"{target}.{a.name}"
                out.add(sub if sub in modules else target)
        elif isinstance(n, ast.Import):
            out |= {a.name for a in n.names}
    return {m for m in out if m in modules and m != name}


def test_no_import_cycle():
    """No cycle, counting the imports inside functions too (they run later, but a cycle through them is
    still two modules that each need the other)."""
    modules = _modules()
    graph = {m: _imports(m, p, modules, top_only=False) for m, p in modules.items()}
    state, stack = {}, []

    def visit(m):
        state[m] = "open"
        stack.append(m)
        for n in sorted(graph[m]):
            if state.get(n) == "open":
                raise AssertionError("import cycle: " + " -> ".join(stack[stack.index(n):] + [n]))
            if n not in state:
                visit(n)
        stack.pop()
        state[m] = "done"

    for m in sorted(graph):
        if m not in state:
            visit(m)


def test_engine_layers_import_downwards_only():
    modules = _modules()
    bad = []
    for m, p in modules.items():
        parts = m.split(".")
        if len(parts) < 2 or parts[1] not in ENGINE:
            continue
        for n in _imports(m, p, modules, top_only=False):
            layer = n.split(".")[1] if n.count(".") else None
            if layer in ENGINE and layer != parts[1] and layer not in ALLOWED[parts[1]]:
                bad.append(f"{m} imports {n}")
            if n == "symgait" or (layer not in ENGINE and n not in BOTTOM and layer != parts[1]):
                bad.append(f"{m} imports {n} (engine modules import the bottom modules and lower layers only)")
    assert not bad, "\n".join(sorted(bad))


def test_bottom_modules_import_no_engine_layer():
    modules = _modules()
    for m in BOTTOM:
        deps = _imports(m, modules[m], modules, top_only=False)
        assert deps <= set(BOTTOM), f"{m} imports {sorted(deps - set(BOTTOM))}"
