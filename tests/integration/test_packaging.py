"""The plugin's distribution, built and installed as a team meets it: a wheel of the root
project installed into an empty virtualenv (no dependencies) holds the plugin, evals_core and
phoenix_delivery, and neither SupportBot's agent, its dev services nor its CLI."""

import json
import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ("evals_core", "phoenix_delivery", "pytest_supportbot_evals")


def run(*command, cwd=None):
    done = subprocess.run(command, capture_output=True, text=True, cwd=cwd, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_installing_the_plugin_installs_no_supportbot(tmp_path):
    # the root project alone (packages/ left behind), so the build cannot reach SupportBot
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    for package in SHIPPED:
        shutil.copytree(
            ROOT / package, source / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
    run(*pip, "wheel", "--no-deps", "-q", "-w", str(tmp_path / "dist"), str(source))
    (wheel,) = (tmp_path / "dist").glob("pytest_evals_gate-*.whl")
    tops = {name.split("/")[0] for name in zipfile.ZipFile(wheel).namelist()}
    assert {t for t in tops if not t.endswith(".dist-info")} == set(SHIPPED)
    assert "evals_core/prompts/judge_retrieval_relevance.txt" in zipfile.ZipFile(wheel).namelist()

    env = tmp_path / "venv"
    venv.create(env, with_pip=False)
    python = env / "bin" / "python"
    run(*pip, "--python", str(python), "install", "--no-deps", "--no-index", "-q", str(wheel))
    probe = (
        "import importlib.metadata as m, importlib.util as u, json; print(json.dumps(["
        "sorted(d.metadata['Name'] for d in m.distributions()),"
        "[n for n in ('supportbot', 'devservices', 'evals_core', 'phoenix_delivery',"
        " 'pytest_supportbot_evals') if u.find_spec(n)],"
        "sorted(e.name for e in m.entry_points(group='console_scripts')),"
        "[e.value for e in m.entry_points(group='pytest11')]]))"
    )
    dists, importable, scripts, plugins = json.loads(run(str(python), "-c", probe, cwd=tmp_path))
    assert "supportbot" not in dists and "pytest-evals-gate" in dists
    assert importable == ["evals_core", "phoenix_delivery", "pytest_supportbot_evals"]
    assert scripts == ["evals", "supportbot-evals"]
    assert plugins == ["pytest_supportbot_evals.plugin"]
    assert not (env / "bin" / "supportbot").exists()
