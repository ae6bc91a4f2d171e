"""Property-based tests of the loaders: whatever bytes a file holds, the answer is a loaded value
or one clear error naming the file, never a bare exception from deep inside a parser."""

from __future__ import annotations

import json
import os
import string

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from evals_core.settings import Settings, SettingsError
from phoenix_delivery.spool import Spool
from pytest_supportbot_evals.recording.cassettes import AtomicPersister, CassetteError, use_cassette
from pytest_supportbot_evals.run.goldens import GoldenError, load_file
from pytest_supportbot_evals.verdict.gate import ThresholdError, parse_thresholds

SETTINGS = settings(
    max_examples=60,
    deadline=None,
    derandomize=bool(os.environ.get("CI")),  # CI reproducible; local runs explore anew
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
yaml_ish = st.text(alphabet=string.printable + "äé—", max_size=400)


@SETTINGS
@given(text=yaml_ish)
@example(text="!0 x")  # a tag safe_load refuses: found by this test, once a bare traceback
@example(text="!!python/object:os.system {}")
def test_any_golden_file_loads_or_names_the_file(tmp_path, text):
    path = tmp_path / "goldens.yaml"
    path.write_text(text, encoding="utf-8")
    try:
        cases = load_file(path)
    except GoldenError as error:
        assert str(path) in str(error)
    else:
        assert all(case.id and case.query.strip() for case in cases)


@SETTINGS
@given(
    cases=st.lists(
        st.fixed_dictionaries(
            {"id": st.text(max_size=12), "query": st.text(max_size=30)},
            optional={
                "category": st.sampled_from(["faq", "order_status", "other", 3]),
                "expect": st.dictionaries(st.text(max_size=8), st.text(max_size=8), max_size=2),
                "tags": st.one_of(st.lists(st.text(max_size=5)), st.integers()),
            },
        ),
        max_size=4,
    )
)
def test_structured_goldens_load_or_name_case_and_field(tmp_path, cases):
    path = tmp_path / "goldens.yaml"
    path.write_text(json.dumps({"cases": cases}), encoding="utf-8")  # JSON is valid YAML
    try:
        loaded = load_file(path)
    except GoldenError as error:
        message = str(error)
        assert str(path) in message
        assert "case" in message or "cases" in message
    else:
        assert [c.id for c in loaded] == [c["id"] for c in cases]


@SETTINGS
@given(text=st.text(max_size=300))
def test_any_cassette_file_replays_or_names_the_file(tmp_path, text):
    path = tmp_path / "case.yaml"
    path.write_text(text, encoding="utf-8")
    if not text.strip():
        return  # vcrpy treats an empty file as "not recorded yet"
    try:
        AtomicPersister.load_cassette(path, _yaml_serializer())
    except CassetteError as error:
        assert str(path) in str(error) and "Re-record" in str(error)
    except Exception as error:  # vcrpy's own "not found" is the only other answer
        assert type(error).__name__ == "CassetteNotFoundError"


@SETTINGS
@given(items=st.lists(st.text(max_size=20), max_size=4))
def test_thresholds_parse_or_name_the_setting(items):
    try:
        parsed = parse_thresholds(items, "--evals-threshold")
    except ThresholdError as error:
        assert "--evals-threshold" in str(error)
    else:
        assert all(0.0 <= value <= 1.5 for value in parsed.values())


@SETTINGS
@given(
    env=st.dictionaries(
        st.sampled_from(
            [
                "SUPPORTBOT_SEED",
                "SUPPORTBOT_TOP_K",
                "SUPPORTBOT_TEMPERATURE",
                "SUPPORTBOT_MAX_TOKENS",
                "SUPPORTBOT_CLASSIFY_MAX_TOKENS",
                "SUPPORTBOT_JUDGE_MAX_TOKENS",
                "SUPPORTBOT_TIMEOUT",
                "SUPPORTBOT_STRUCTURED_OUTPUT",
            ]
        ),
        st.text(max_size=8),
        max_size=3,
    )
)
def test_settings_parse_or_name_the_variable(env):
    try:
        Settings.from_env(env)
    except SettingsError as error:
        assert any(name in str(error) for name in env)


@SETTINGS
@given(lines=st.lists(st.text(max_size=40), max_size=6))
def test_a_spool_with_any_content_never_loses_a_good_record(tmp_path, lines):
    spool = Spool(tmp_path / "spool.jsonl")
    spool.path.write_text("\n".join(lines), encoding="utf-8")
    spool.append("annotations", ["good"])
    delivered: list[object] = []
    spool.drain(lambda record: delivered.append(record["payload"]) or True)
    assert ["good"] in delivered
    spool.path.with_suffix(".rejected").unlink(missing_ok=True)


def test_a_truncated_cassette_is_an_error_not_an_empty_recording(tmp_path):
    from pathlib import Path

    recorded = Path(__file__).resolve().parents[2] / "cassettes" / "tutorial-refund.yaml"
    path = tmp_path / "tutorial-refund.yaml"
    text = recorded.read_text()
    # cut in the middle of a quoted body, as a crash mid-write would
    cut = text.index("'", text.index("string: '", len(text) // 2) + len("string: '") + 5)
    truncated = text[: cut - 3]
    path.write_text(truncated)
    with pytest.raises(CassetteError, match="evals record tutorial-refund"):  # noqa: SIM117
        with use_cassette(path, "rewrite"):
            pass
    assert path.read_text() == truncated  # not overwritten


def _yaml_serializer():
    from vcr.serializers import yamlserializer

    return yamlserializer
