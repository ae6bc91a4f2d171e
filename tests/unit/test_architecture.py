"""The folders show the architecture: the agent package and the packages beside it (Phoenix
delivery, dev services) never import the plugin."""

import ast
from pathlib import Path

import pytest

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


@pytest.mark.parametrize(
    "package",
    ["packages/supportbot/supportbot", "phoenix_delivery", "packages/supportbot/devservices"],
)
def test_the_agent_side_packages_never_import_the_plugin(package):
    paths = sorted((ROOT / package).rglob("*.py"))
    assert paths, f"{package}/ has no modules"
    offenders = {
        str(path.relative_to(ROOT)): sorted(
            m for m in imported_modules(path) if m.split(".")[0] == "pytest_supportbot_evals"
        )
        for path in paths
    }
    assert {k: v for k, v in offenders.items() if v} == {}
