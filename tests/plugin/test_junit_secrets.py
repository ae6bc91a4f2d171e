"""The JUnit file pytest writes is scanned like every file of the run: a key in an agent's error
message (here a failing test's message) never stays in it."""

from xml.etree import ElementTree

from plugin_helpers import output_of, traceback_frames

KEY = "gh" + "p_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"  # a GitHub token shape


def test_a_key_in_a_failure_message_is_redacted_from_junit(eval_project):
    (eval_project.path / "tests" / "test_leak.py").write_text(
        "def test_leak():\n"
        f"    raise RuntimeError('agent failed with token {KEY[:8]}' + '{KEY[8:]}')\n",
        encoding="utf-8",
    )
    junit = eval_project.path / "junit.xml"

    result = eval_project.run(f"--junitxml={junit}")

    text = output_of(result)
    assert traceback_frames(text.split("short test summary")[-1]) == []
    assert f"JUnit report {junit} held a secret (" in text and "GitHub token" in text
    written = junit.read_text(encoding="utf-8")
    assert KEY not in written and "[REDACTED]" in written
    ElementTree.fromstring(written)  # still a JUnit file CI can read
    assert "evals" in written  # still the report: the gate and the tests are there
