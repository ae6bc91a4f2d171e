"""The layers of the tree as rules over import statements (AST, nothing imported).

``evals_core`` is the neutral foundation; ``phoenix_delivery`` builds on it alone; the plugin
(``pytest_supportbot_evals``) builds on both and reaches SupportBot's distribution (``supportbot``,
``devservices``) only through its reference-agent adapter; SupportBot never imports the plugin.
The first-party modules import one another without a cycle, and none is over the line limit.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from pathlib import Path

PLUGIN = "pytest_supportbot_evals"
AGENT = frozenset({"supportbot", "devservices"})
#: Which first-party packages each may import (besides itself, stdlib and third party).
ALLOWED = {
    "evals_core": frozenset(),
    "phoenix_delivery": frozenset({"evals_core"}),
    PLUGIN: frozenset({"evals_core", "phoenix_delivery"}),
    "supportbot": frozenset({"evals_core", "phoenix_delivery", "devservices"}),
    "devservices": frozenset({"evals_core"}),
}
#: The plugin's one module that may import SupportBot's distribution.
ADAPTER = f"{PLUGIN}.run.reference"
MAX_LINES = 300


def module_files(roots: Mapping[str, Path]) -> dict[str, Path]:
    """Every module of each package: dotted name -> file (``roots``: package -> its folder)."""
    modules = {}
    for package, folder in roots.items():
        for path in sorted(folder.rglob("*.py")):
            parts = (package, *path.relative_to(folder).with_suffix("").parts)
            name = ".".join(parts).removesuffix(".__init__")
            modules[name] = path
    return modules


def imports(path: Path, name: str) -> set[str]:
    """The dotted names a module imports, anywhere in it (function-level imports included);
    ``from a import b`` counts as ``a.b`` (a module or a name in ``a``), and so does
    ``importlib.import_module("a.b")``."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found |= {f"{base}.{alias.name}" for alias in node.names}
        elif _is_import_module(node):
            found.add(node.args[0].value)  # importlib.import_module("a.b") with a literal
    return found


def _is_import_module(node: ast.AST) -> bool:
    if not isinstance(node, ast.Call) or not node.args:
        return False
    func, first = node.func, node.args[0]
    named = (isinstance(func, ast.Attribute) and func.attr == "import_module") or (
        isinstance(func, ast.Name) and func.id == "import_module"
    )
    return named and isinstance(first, ast.Constant) and isinstance(first.value, str)


def graph(modules: Mapping[str, Path]) -> dict[str, set[str]]:
    """First-party module -> the first-party modules it imports."""
    edges = {}
    for name, path in modules.items():
        targets = set()
        for imported in imports(path, name):
            while imported and imported not in modules:
                imported = imported.rpartition(".")[0]
            if imported and imported != name and imported not in _parents(name):
                targets.add(imported)
        # ``from a import b`` of a module ``a.b``: the edge is to ``a.b`` (not also to ``a``)
        edges[name] = {t for t in targets if not any(o.startswith(t + ".") for o in targets)}
    return edges


def _parents(name: str) -> set[str]:
    parts = name.split(".")
    return {".".join(parts[:i]) for i in range(1, len(parts))}


def layer_violations(modules: Mapping[str, Path]) -> list[str]:
    """``module imports target``, for each import that crosses a layer the wrong way."""
    out = []
    for name, targets in graph(modules).items():
        own = name.split(".")[0]
        for target in sorted(targets):
            other = target.split(".")[0]
            if other == own:
                continue
            if own == PLUGIN and other in AGENT and name == ADAPTER:
                continue
            if other not in ALLOWED.get(own, frozenset()):
                out.append(f"{name} imports {target}")
    return sorted(out)


def cycles(edges: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """The import cycles: each strongly connected set of two or more modules, sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []

    def visit(node: str) -> None:  # Tarjan's algorithm
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in edges.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return sorted(found)


def long_modules(modules: Mapping[str, Path], limit: int = MAX_LINES) -> list[str]:
    out = []
    for name, path in sorted(modules.items()):
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > limit:
            out.append(f"{name}: {lines} lines")
    return out
