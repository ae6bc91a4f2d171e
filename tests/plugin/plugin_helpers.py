"""Helpers for black-box tests of the pytest plugin, run in a pytester project.

Each test builds a small project in a temporary folder: a pyproject.toml with the repository's
``evals_model``/``evals_max_tokens`` (the cassettes were recorded with them), a golden
file with a few tutorial cases, their committed cassettes (copied, never edited) and the shipped
golden test module. pytest runs in a subprocess: the plugin keeps per-session state, and a
subprocess also proves the plugin loads through its entry point.
"""

import copy
import json
import re
import shutil
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
CASSETTE_DIR = ROOT / "cassettes"
TUTORIAL_GOLDENS = ROOT / "tests" / "goldens" / "tutorial.yaml"
#: Set when the cassettes were recorded with the classifier's log-probabilities.
TOP_LOGPROBS = "evals_classify_top_logprobs"
GOLDEN_TESTS = ROOT / "tests" / "evals" / "test_goldens.py"
CASE_IDS = (
    "tutorial-order-not-found",
    "tutorial-refund",
    "tutorial-order-shipped",
    "tutorial-upgrade-premium",
)
#: Settings that must not leak from the developer's shell into the pytester run.
CLEARED_ENV = ("OPENAI_API_KEY", "OPENAI_BASE_URL", "PHOENIX_COLLECTOR_ENDPOINT", "PHOENIX_API_KEY")
#: A traceback frame as Python (``File "x.py", line 3``) or pytest (``x.py:3: in f``) prints it.
TRACEBACK_FRAME = re.compile(
    r'Traceback \(most recent call last\)|File ".*", line \d+|\.py:\d+: in '
)


def repo_ini():
    with (ROOT / "pyproject.toml").open("rb") as handle:
        return tomllib.load(handle)["tool"]["pytest"]["ini_options"]


def tutorial_cases(ids=CASE_IDS):
    """The named cases of tests/goldens/tutorial.yaml, as plain dicts (deep copies)."""
    cases = yaml.safe_load(TUTORIAL_GOLDENS.read_text(encoding="utf-8"))["cases"]
    by_id = {case["id"]: case for case in cases}
    return [copy.deepcopy(by_id[case_id]) for case_id in ids]


def output_of(result):
    return "\n".join(result.outlines + result.errlines)


def traceback_frames(text):
    """Lines of ``text`` that belong to a printed traceback."""
    return [line for line in text.splitlines() if TRACEBACK_FRAME.search(line)]


class EvalProject:
    """A pytester project running the golden suite against copied cassettes."""

    def __init__(self, pytester):
        self.pytester = pytester
        self.path = Path(pytester.path)

    def write_ini(self, thresholds=(), **overrides):
        """pyproject.toml with the repository's model settings; ``overrides`` replace keys."""
        ini = repo_ini()
        settings = {
            "evals_agent": "pytest_supportbot_evals.run.reference:make_agent",
            "evals_goldens": "goldens",
            "evals_cassettes": "cassettes",
            "evals_model": ini["evals_model"],
            "evals_answer_model": ini.get("evals_answer_model") or "",
            "evals_max_tokens": str(ini["evals_max_tokens"]),
            "evals_classify_max_tokens": str(ini["evals_classify_max_tokens"]),
            "evals_judge_max_tokens": str(ini["evals_judge_max_tokens"]),
            "evals_classify_top_logprobs": str(ini.get(TOP_LOGPROBS) or 0),
            "evals_thresholds": list(thresholds),
            **overrides,
        }
        lines = ["[tool.pytest.ini_options]"]
        lines += [f"{key} = {json.dumps(value)}" for key, value in settings.items()]
        (self.path / "pyproject.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")

    def write_goldens(self, cases, name="tutorial.yaml", folder="goldens"):
        target = self.path / folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(yaml.safe_dump({"cases": cases}, sort_keys=False), encoding="utf-8")
        return target

    def copy_cassettes(self, ids=CASE_IDS, folder="cassettes"):
        target = self.path / folder
        target.mkdir(parents=True, exist_ok=True)
        for case_id in ids:
            shutil.copy(CASSETTE_DIR / f"{case_id}.yaml", target / f"{case_id}.yaml")

    def cassette(self, case_id):
        return self.path / "cassettes" / f"{case_id}.yaml"

    def run(self, *args):
        return self.pytester.runpytest_subprocess("-p", "no:cacheprovider", *args)

    def run_with_report(self, *args, name="report.json"):
        report = self.path / name
        result = self.run(f"--evals-report={report}", *args)
        assert report.exists(), output_of(result)
        return result, json.loads(report.read_text(encoding="utf-8"))
