"""The folders show the architecture: the agent package never imports the plugin."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_the_agent_package_never_imports_the_plugin():
    offenders = {
        str(path.relative_to(ROOT)): sorted(
            m for m in imported_modules(path) if m.split(".")[0] == "pytest_supportbot_evals"
        )
        for path in sorted((ROOT / "supportbot").rglob("*.py"))
    }
    assert {k: v for k, v in offenders.items() if v} == {}
