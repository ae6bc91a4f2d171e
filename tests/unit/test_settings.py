"""Settings: defaults, strict parsing of the environment, and errors that name the variable."""

import dataclasses

import pytest

from evals_core.settings import DEFAULT_MODEL, DEFAULT_PROJECT, Settings, SettingsError


def test_defaults():
    s = Settings()
    assert s.api_key is None
    assert s.base_url is None
    assert s.model == DEFAULT_MODEL == "gpt-4o-mini"
    assert s.judge_model is None
    assert s.effective_judge_model == DEFAULT_MODEL
    assert s.temperature == 0.0
    assert s.seed == 42
    assert s.max_tokens == 256
    assert s.top_k == 2
    assert s.request_timeout == 120.0
    assert s.max_retries == 2
    assert s.structured_output == "json_schema"
    assert (s.classify_max_tokens, s.judge_max_tokens) == (160, 160)
    assert s.phoenix_endpoint is None
    assert s.phoenix_project == DEFAULT_PROJECT == "support-bot"
    assert s.phoenix_api_key is None


def test_empty_environment_gives_the_defaults():
    assert Settings.from_env(env={}) == Settings()


def test_blank_values_count_as_unset():
    env = {
        "SUPPORTBOT_MODEL": "   ",
        "SUPPORTBOT_SEED": "",
        "SUPPORTBOT_TOP_K": "  ",
        "SUPPORTBOT_STRUCTURED_OUTPUT": " ",
        "PHOENIX_PROJECT_NAME": "",
        "OPENAI_API_KEY": " ",
    }
    assert Settings.from_env(env=env) == Settings()


def test_environment_is_parsed():
    env = {
        "OPENAI_API_KEY": "k-test",
        "OPENAI_BASE_URL": " http://127.0.0.1:8080/v1 ",
        "SUPPORTBOT_MODEL": "some-model",
        "SUPPORTBOT_JUDGE_MODEL": "judge-model",
        "SUPPORTBOT_TEMPERATURE": "0.7",
        "SUPPORTBOT_SEED": "7",
        "SUPPORTBOT_MAX_TOKENS": "64",
        "SUPPORTBOT_CLASSIFY_MAX_TOKENS": "16",
        "SUPPORTBOT_JUDGE_MAX_TOKENS": "8",
        "SUPPORTBOT_TOP_K": "5",
        "SUPPORTBOT_TIMEOUT": "2.5",
        "SUPPORTBOT_MAX_RETRIES": "0",
        "SUPPORTBOT_STRUCTURED_OUTPUT": "json_object",
        "PHOENIX_COLLECTOR_ENDPOINT": "http://127.0.0.1:6006",
        "PHOENIX_PROJECT_NAME": "proj",
        "PHOENIX_API_KEY": "pk-test",
    }
    s = Settings.from_env(env=env)
    assert s == Settings(
        api_key="k-test",
        base_url="http://127.0.0.1:8080/v1",
        model="some-model",
        judge_model="judge-model",
        temperature=0.7,
        seed=7,
        max_tokens=64,
        classify_max_tokens=16,
        judge_max_tokens=8,
        top_k=5,
        request_timeout=2.5,
        max_retries=0,
        structured_output="json_object",
        phoenix_endpoint="http://127.0.0.1:6006",
        phoenix_project="proj",
        phoenix_api_key="pk-test",
    )
    assert isinstance(s.seed, int)
    assert isinstance(s.max_tokens, int)
    assert isinstance(s.top_k, int)
    assert isinstance(s.max_retries, int)
    assert s.effective_judge_model == "judge-model"


@pytest.mark.parametrize(("value", "expected"), [("0", 0.0), ("2", 2.0), ("1.25", 1.25)])
def test_temperature_bounds_are_inclusive(value, expected):
    assert Settings.from_env(env={"SUPPORTBOT_TEMPERATURE": value}).temperature == expected


@pytest.mark.parametrize(("value", "expected"), [("1", 1), ("20", 20)])
def test_top_k_bounds_are_inclusive(value, expected):
    assert Settings.from_env(env={"SUPPORTBOT_TOP_K": value}).top_k == expected


def test_from_env_reads_os_environ_by_default(monkeypatch):
    monkeypatch.setenv("SUPPORTBOT_MODEL", "from-os-environ")
    monkeypatch.setenv("SUPPORTBOT_TOP_K", "3")
    s = Settings.from_env()
    assert s.model == "from-os-environ"
    assert s.top_k == 3


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SUPPORTBOT_SEED", "abc"),
        ("SUPPORTBOT_SEED", "1.5"),
        ("SUPPORTBOT_TOP_K", "0"),
        ("SUPPORTBOT_TOP_K", "21"),
        ("SUPPORTBOT_TOP_K", "two"),
        ("SUPPORTBOT_TEMPERATURE", "5"),
        ("SUPPORTBOT_TEMPERATURE", "-0.1"),
        ("SUPPORTBOT_TEMPERATURE", "warm"),
        ("SUPPORTBOT_MAX_TOKENS", "0"),
        ("SUPPORTBOT_MAX_TOKENS", "many"),
        ("SUPPORTBOT_CLASSIFY_MAX_TOKENS", "0"),
        ("SUPPORTBOT_JUDGE_MAX_TOKENS", "lots"),
        ("SUPPORTBOT_TIMEOUT", "0"),
        ("SUPPORTBOT_TIMEOUT", "soon"),
        ("SUPPORTBOT_MAX_RETRIES", "-1"),
        ("SUPPORTBOT_STRUCTURED_OUTPUT", "xml"),
        ("SUPPORTBOT_STRUCTURED_OUTPUT", "JSON_OBJECT"),
    ],
)
def test_bad_value_raises_settings_error_naming_the_variable(name, value):
    with pytest.raises(SettingsError) as info:
        Settings.from_env(env={name: value})
    message = str(info.value)
    assert name in message
    assert repr(value) in message


def test_settings_error_is_a_value_error():
    assert issubclass(SettingsError, ValueError)


def test_nan_temperature_is_rejected():
    with pytest.raises(SettingsError, match="SUPPORTBOT_TEMPERATURE"):
        Settings.from_env(env={"SUPPORTBOT_TEMPERATURE": "nan"})


def test_settings_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        Settings().model = "other"  # type: ignore[misc]


def test_with_overrides_ignores_none_and_copies():
    base = Settings()
    changed = base.with_overrides(model="m", max_tokens=128, max_retries=0, judge_model=None)
    assert changed.model == "m"
    assert changed.max_tokens == 128
    assert changed.max_retries == 0
    assert changed.judge_model is None
    assert base == Settings()
