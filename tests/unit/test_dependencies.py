"""Each distribution declares exactly the third-party distributions its packages import: none
unused (``arize-phoenix-otel`` was), none missing (``httpx`` was). An import is traced to the
installed distribution that ships its file, so namespace packages (``opentelemetry.*``,
``phoenix.*``, ``openinference.*``) are told apart."""

import ast
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIRST_PARTY = {
    "evals_core",
    "phoenix_delivery",
    "pytest_supportbot_evals",
    "supportbot",
    "devservices",
}
DISTRIBUTIONS = {
    # pyproject -> the folders of the packages it ships
    ROOT / "pyproject.toml": ["evals_core", "phoenix_delivery", "pytest_supportbot_evals"],
    ROOT / "packages/supportbot/pyproject.toml": [
        "packages/supportbot/supportbot",
        "packages/supportbot/devservices",
    ],
}


def normalized(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def third_party_imports(folders):
    """Each third-party import as the dotted names it may be, most specific first (``from a
    import b``: ``a.b``, a module, or ``a``, holding a name ``b``)."""
    found = set()
    for folder in folders:
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    names = [(alias.name,) for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                    names = [(f"{node.module}.{a.name}", node.module) for a in node.names]
                else:
                    continue
                for candidates in names:
                    top = candidates[-1].split(".")[0]
                    if top not in FIRST_PARTY and top not in sys.stdlib_module_names:
                        found.add(candidates)
    return found


@pytest.fixture(scope="module")
def file_owners():
    """Installed file (relative to site-packages) -> the distribution that ships it."""
    owners = {}
    for dist in importlib.metadata.distributions():
        for file in dist.files or ():
            if file.suffix == ".py":
                owners[str(file)] = normalized(dist.metadata["Name"])
    return owners


def owner(candidates, owners):
    """The distribution that ships the module (found by its file: nothing is imported)."""
    for name in candidates:
        stem = name.replace(".", "/")
        for file in (f"{stem}.py", f"{stem}/__init__.py"):
            if file in owners:
                return owners[file]
    raise AssertionError(f"no installed distribution ships {candidates[-1]}")


def declared(pyproject):
    requirements = tomllib.loads(pyproject.read_text())["project"]["dependencies"]
    names = {normalized(re.split(r"[<>=!~\[ ;]", r, maxsplit=1)[0]) for r in requirements}
    return names - {"pytest-evals-gate"}  # the plugin's distribution, for evals_core


@pytest.mark.parametrize("pyproject", list(DISTRIBUTIONS), ids=lambda p: p.parent.name)
def test_declared_dependencies_are_exactly_the_imported_ones(pyproject, file_owners):
    imported = {owner(m, file_owners) for m in third_party_imports(DISTRIBUTIONS[pyproject])}
    assert declared(pyproject) == imported


def test_the_plugin_does_not_depend_on_supportbot():
    requirements = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert not any(normalized(r) == "supportbot" for r in requirements["dependencies"])
    assert "supportbot" not in requirements["scripts"]
