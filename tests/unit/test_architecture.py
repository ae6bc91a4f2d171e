"""The folders show the architecture, and the rules in ``architecture_rules`` hold over the tree:
evals_core imports none of the other packages, phoenix_delivery only evals_core, the plugin
reaches SupportBot only through its reference adapter, SupportBot never imports the plugin; no
import cycle; no module over 300 lines. The checker itself is tested on planted violations."""

from pathlib import Path

import pytest
from architecture_rules import (
    ADAPTER,
    cycles,
    graph,
    layer_violations,
    long_modules,
    module_files,
)

ROOT = Path(__file__).resolve().parents[2]
ROOTS = {
    "evals_core": ROOT / "evals_core",
    "phoenix_delivery": ROOT / "phoenix_delivery",
    "pytest_supportbot_evals": ROOT / "pytest_supportbot_evals",
    "supportbot": ROOT / "packages" / "supportbot" / "supportbot",
    "devservices": ROOT / "packages" / "supportbot" / "devservices",
}


@pytest.fixture(scope="module")
def modules():
    found = module_files(ROOTS)
    for package in ROOTS:
        assert package in found, f"{package} has no __init__.py"
    return found


def test_every_package_imports_only_the_layers_below_it(modules):
    assert layer_violations(modules) == []


def test_the_plugin_reaches_supportbot_only_through_its_adapter(modules):
    edges = graph(modules)
    assert ADAPTER in modules
    reaching = {
        name
        for name, targets in edges.items()
        if name.startswith("pytest_supportbot_evals")
        and any(t.split(".")[0] in {"supportbot", "devservices"} for t in targets)
    }
    assert reaching == {ADAPTER}


def test_no_import_cycle_among_first_party_modules(modules):
    assert cycles(graph(modules)) == []


def test_no_module_is_over_300_lines(modules):
    assert long_modules(modules) == []


# -- the checker, on planted violations --------------------------------------------------------


def plant(tmp_path, files):
    for relative, text in files.items():
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return module_files({p: tmp_path / p for p in {r.split("/")[0] for r in files}})


def test_the_checker_finds_an_import_against_the_layers(tmp_path):
    modules = plant(
        tmp_path,
        {
            "evals_core/__init__.py": "",
            "evals_core/spans.py": "def f():\n    from phoenix_delivery import spool\n",
            "phoenix_delivery/__init__.py": "",
            "phoenix_delivery/spool.py": (
                "import importlib\nimportlib.import_module('supportbot.settings')\n"
            ),
            "supportbot/__init__.py": "",
            "supportbot/settings.py": "import pytest_supportbot_evals.plugin\n",
            "pytest_supportbot_evals/__init__.py": "",
            "pytest_supportbot_evals/plugin.py": "from supportbot import settings\n",
            "pytest_supportbot_evals/run/__init__.py": "",
            "pytest_supportbot_evals/run/reference.py": "from supportbot import settings\n",
        },
    )
    assert layer_violations(modules) == [
        "evals_core.spans imports phoenix_delivery.spool",
        "phoenix_delivery.spool imports supportbot.settings",
        "pytest_supportbot_evals.plugin imports supportbot.settings",
        "supportbot.settings imports pytest_supportbot_evals.plugin",
    ]


def test_the_checker_finds_a_cycle_through_a_lazy_import(tmp_path):
    modules = plant(
        tmp_path,
        {
            "pytest_supportbot_evals/__init__.py": "",
            "pytest_supportbot_evals/recording/__init__.py": "",
            "pytest_supportbot_evals/recording/cassettes.py": (
                "from pytest_supportbot_evals.recording import _seal\n"
            ),
            "pytest_supportbot_evals/recording/_seal.py": (
                "def explain():\n    from .cassettes import rerecord_command\n"
            ),
            "pytest_supportbot_evals/recording/misses.py": (
                "from pytest_supportbot_evals.recording.cassettes import use_cassette\n"
            ),
        },
    )
    assert cycles(graph(modules)) == [
        [
            "pytest_supportbot_evals.recording._seal",
            "pytest_supportbot_evals.recording.cassettes",
        ]
    ]


def test_the_checker_finds_a_long_module(tmp_path):
    modules = plant(tmp_path, {"evals_core/__init__.py": "", "evals_core/big.py": "x = 1\n" * 301})
    assert long_modules(modules) == ["evals_core.big: 301 lines"]
