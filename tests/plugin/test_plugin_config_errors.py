"""Bad settings and bad golden files: one clear error naming the setting, file, case and field.

Each case is checked twice: that the message names what is wrong (holds today), and that it is
reported as a usage error (exit status 4) without a traceback.
"""

import re

import pytest
from plugin_helpers import output_of, traceback_frames

# (id, command-line args, ini extras, env, texts the error must contain)
BAD_SETTINGS = [
    ("unknown-evaluator", ["--evals-threshold", "nosuch=0.5"], {}, {},
     ["--evals-threshold", "unknown evaluator 'nosuch'"]),
    ("not-a-number", ["--evals-threshold", "tool_result=abc"], {}, {},
     ["--evals-threshold", "'abc'", "is not a number"]),
    ("out-of-range", ["--evals-threshold", "tool_result=7"], {}, {},
     ["--evals-threshold", "'tool_result=7' is out of range"]),
    ("record-mode", ["--evals-record-mode=bogus"], {}, {},
     ["--evals-record-mode='bogus'", "none"]),
    ("ini-threshold", [], {"evals_thresholds": ["label=high"]}, {},
     ["ini evals_thresholds", "'high'"]),
    ("ini-max-tokens", [], {"evals_max_tokens": "lots"}, {},
     ["ini evals_max_tokens='lots'"]),
    ("ini-completion-growth", [],
     {"evals_max_completion_growth": "lots", "evals_baseline": "baseline.json"}, {},
     ["ini evals_max_completion_growth='lots'", "give a fraction such as 0.25"]),
    ("ini-judge-method", [], {"evals_judge_method": "psychic"}, {},
     ["ini evals_judge_method='psychic'"]),
    ("env-temperature", [], {}, {"SUPPORTBOT_TEMPERATURE": "hot"},
     ["SUPPORTBOT_TEMPERATURE='hot'"]),
    ("repeat-zero", ["--evals-repeat=0"], {}, {},
     ["--evals-repeat=0", "at least 1"]),
    ("phoenix-not-a-url", ["--evals-phoenix=not-a-url"], {}, {},
     ["--evals-phoenix='not-a-url' is not a Phoenix URL", "http://127.0.0.1:6006"]),
    ("phoenix-env-bad-port", [], {}, {"PHOENIX_COLLECTOR_ENDPOINT": "http://localhost:99999"},
     ["PHOENIX_COLLECTOR_ENDPOINT='http://localhost:99999' is not a Phoenix URL"]),
    ("judge-gating", [], {"evals_judge_gating": "sometimes"}, {},
     ["ini evals_judge_gating='sometimes'", "advisory or strict"]),
    ("experiment-without-phoenix", ["--evals-experiment", "goldens"], {}, {},
     ["--evals-experiment='goldens' logs to Phoenix", "--evals-phoenix"]),
]  # fmt: skip

CASE = '  - id: {id}\n    query: "{query}"\n    category: faq\n'
ONE = "cases:\n" + CASE.format(id="same-id", query="one")
TWO = "cases:\n" + CASE.format(id="other", query="two") + CASE.format(id="same-id", query="x")
COLOUR = "cases:\n" + CASE.format(id="case-a", query="q") + "    colour: red\n"
MAYBE = "cases:\n" + CASE.format(id="case-c", query="q") + "    expect: {tool_result: maybe}\n"
# a case at line 3 (after a comment), with extra fields
CASE_AT = "# answer expectations\ncases:\n" + CASE.format(id="case-d", query="q") + "{}"
# (id, {file name: text}, texts the error must contain; {dir} is the goldens folder)
BAD_GOLDENS = [
    ("invalid-yaml", {"bad.yaml": "cases:\n  - id: oops\n    query: a: b\n    category: faq\n"},
     ["{dir}/bad.yaml:3: invalid YAML", "mapping values are not allowed"]),
    ("duplicate-id", {"a.yaml": ONE, "b.yaml": TWO},
     ["{dir}/b.yaml:5: case id 'same-id' is already used at {dir}/a.yaml:2"]),
    ("unknown-field", {"u.yaml": COLOUR},
     ["{dir}/u.yaml:2: case 'case-a': unknown field(s) ['colour']"]),
    ("wrong-type", {"w.yaml": "cases:\n  - id: case-b\n    query: 42\n    category: faq\n"},
     ["{dir}/w.yaml:2: case 'case-b': field 'query' must be a non-empty string"]),
    ("wrong-expectation", {"e.yaml": MAYBE},
     ["{dir}/e.yaml:2: case 'case-c': field 'expect': tool_result is 'maybe'"]),
    ("empty-file", {"empty.yaml": ""}, ["{dir}/empty.yaml: file is empty"]),
    ("answer-contains-type", {"a.yaml": CASE_AT.format("    answer_contains: {shipped: yes}\n")},
     ["{dir}/a.yaml:3: case 'case-d': field 'answer_contains' must be a non-empty string or a "
      "list of them"]),
    ("answer-matches-regex", {"m.yaml": CASE_AT.format("    answer_matches: 'track(ing'\n")},
     ["{dir}/m.yaml:3: case 'case-d': field 'answer_matches' is not a valid regular expression "
      "(missing ), unterminated subpattern at position 5): 'track(ing'"]),
    ("answer-in-expect", {"x.yaml": CASE_AT.format("    expect: {answer_contains: contains}\n")},
     ["{dir}/x.yaml:3: case 'case-d': field 'expect': unknown key 'answer_contains'"]),
    ("conversation-turn",
     {"c.yaml": "cases:\n  - id: chat\n    turns:\n      - {query: q, category: bogus}\n"},
     ["{dir}/c.yaml:2: case 'chat', turn 1: field 'category' is 'bogus'"]),
]  # fmt: skip


def run_bad_setting(eval_project, clean_env, args, ini, env):
    eval_project.write_ini(**ini)
    for name, value in env.items():
        clean_env.setenv(name, value)
    return eval_project.run(*args)


def run_bad_goldens(eval_project, files):
    """(result, goldens folder) of a run over exactly the given golden files."""
    folder = eval_project.path / "goldens"
    for old in folder.iterdir():
        old.unlink()
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return eval_project.run(), folder


def cached(run_cache, key, run):
    """Both tests of a case check the same run; run it once per session."""
    if key not in run_cache:
        run_cache[key] = run()
    return run_cache[key]


def assert_named_error(result, needles):
    text = output_of(result)
    assert result.ret not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED), text
    assert not any(re.search(r"\d+ passed", line) for line in result.outlines), text
    for needle in needles:
        assert needle in text, f"{needle!r} not in:\n{text}"
    assert "Traceback (most recent call last)" not in text


def assert_clean_usage_error(result):
    text = output_of(result)
    assert result.ret == pytest.ExitCode.USAGE_ERROR, text
    assert traceback_frames(text) == [], text
    assert "evals:" in "\n".join(result.errlines)


@pytest.mark.parametrize(("args", "ini", "env", "needles"), [c[1:] for c in BAD_SETTINGS],
                         ids=[c[0] for c in BAD_SETTINGS])  # fmt: skip
def test_bad_setting_is_named(eval_project, clean_env, run_cache, args, ini, env, needles):
    key = ("setting", repr((args, ini, env)))
    result = cached(
        run_cache, key, lambda: run_bad_setting(eval_project, clean_env, args, ini, env)
    )
    assert_named_error(result, needles)


@pytest.mark.parametrize(("args", "ini", "env"), [c[1:4] for c in BAD_SETTINGS],
                         ids=[c[0] for c in BAD_SETTINGS])  # fmt: skip
def test_bad_setting_is_a_usage_error_without_traceback(
    eval_project, clean_env, run_cache, args, ini, env
):
    key = ("setting", repr((args, ini, env)))
    result = cached(
        run_cache, key, lambda: run_bad_setting(eval_project, clean_env, args, ini, env)
    )
    assert_clean_usage_error(result)


@pytest.mark.parametrize(("files", "needles"), [c[1:] for c in BAD_GOLDENS],
                         ids=[c[0] for c in BAD_GOLDENS])  # fmt: skip
def test_bad_golden_file_is_named(eval_project, run_cache, files, needles):
    key = ("goldens", repr(files))
    result, folder = cached(run_cache, key, lambda: run_bad_goldens(eval_project, files))
    assert_named_error(result, [n.format(dir=folder) for n in needles])
    assert len([line for line in result.errlines if line.startswith("ERROR:")]) == 1


@pytest.mark.parametrize("files", [c[1] for c in BAD_GOLDENS], ids=[c[0] for c in BAD_GOLDENS])
def test_bad_golden_file_is_a_usage_error_without_traceback(eval_project, run_cache, files):
    key = ("goldens", repr(files))
    result, _ = cached(run_cache, key, lambda: run_bad_goldens(eval_project, files))
    assert_clean_usage_error(result)


def test_missing_golden_folder_is_named(eval_project):
    result = eval_project.run("--evals-goldens=no/such/dir")
    assert_named_error(result, [f"{eval_project.path}/no/such/dir: no such golden file or folder"])
