"""``supportbot`` as a user meets it: bad input gets one clear line, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from supportbot.agent import SupportBot

from evals_core.settings import Settings
from evals_core.tracing import memory_provider


def supportbot(
    *args: str, stdin: str = "", module: str = "supportbot.cli", **env: str
) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("OPENAI_", "PHOENIX_", "SUPPORTBOT_"))
    }
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        env={**clean, **env},
        check=False,
    )


@pytest.mark.parametrize("query", ["", "   ", "\n\t"])
def test_ask_with_an_empty_query_says_so(query):
    done = supportbot("ask", query)
    assert done.returncode == 2
    assert "The query is empty" in done.stderr
    assert "Traceback" not in done.stdout + done.stderr


def test_an_over_long_query_is_refused_before_anything_is_sent():
    # The LLM endpoint is unreachable: a query that got as far as the LLM would say so instead.
    huge = "Where is my order? " * 6000  # ~100 KB
    done = supportbot("ask", huge, OPENAI_BASE_URL="http://127.0.0.1:9/v1")
    assert done.returncode == 2
    assert "characters; SupportBot takes at most 4,000" in done.stderr
    assert "Connection" not in done.stderr and "Traceback" not in done.stderr
    chat = supportbot("chat", stdin=huge + "\n", OPENAI_BASE_URL="http://127.0.0.1:9/v1")
    assert chat.returncode == 0 and "takes at most 4,000" in chat.stdout


def test_chat_skips_empty_lines_and_ends_at_end_of_input():
    done = supportbot("chat", stdin="\n   \n")
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("The query is empty") == 2
    assert "Traceback" not in done.stdout + done.stderr


def test_bad_setting_is_named():
    done = supportbot("ask", "hello", SUPPORTBOT_SEED="forty-two")
    assert done.returncode == 2
    assert "SUPPORTBOT_SEED" in done.stderr and "whole number" in done.stderr
    assert "Traceback" not in done.stderr


def test_unreachable_llm_is_one_line_and_the_agent_span_says_error():
    done = supportbot(
        "ask",
        "Where is ORD-12345?",
        OPENAI_BASE_URL="http://127.0.0.1:9/v1",
        SUPPORTBOT_MAX_RETRIES="0",
    )
    assert done.returncode == 1
    assert "APIConnectionError" in done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1

    settings = Settings.from_env(
        {"OPENAI_BASE_URL": "http://127.0.0.1:9/v1", "SUPPORTBOT_MAX_RETRIES": "0"}
    )
    provider, exporter = memory_provider("cli-errors")
    with pytest.raises(Exception, match="Connection"):
        SupportBot(settings, tracer_provider=provider).handle("Where is ORD-12345?")
    (root,) = [s for s in exporter.get_finished_spans() if s.name == "support-agent"]
    assert root.status.status_code.name == "ERROR"


def test_a_rating_that_is_not_y_n_or_s_is_explained():
    from supportbot.feedback import parse_rating

    with pytest.raises(ValueError, match="answer y, n or s"):
        parse_rating("maybe")


@pytest.mark.parametrize(
    ("args", "env", "needle"),
    [
        ([], {}, "export-goldens reads traces from Phoenix: set PHOENIX_COLLECTOR_ENDPOINT"),
        (["--phoenix", "http://127.0.0.1:9"], {}, "Phoenix is not reachable at http://127.0.0.1:9"),
        (
            ["--phoenix", "http://127.0.0.1:9", "--where", "thumbs-down"],
            {},
            "--where 'thumbs-down': write NAME=LABEL",
        ),
        (
            ["--phoenix", "http://127.0.0.1:9", "--since", "yesterday"],
            {},
            "time 'yesterday': give an ISO time",
        ),
    ],
)
def test_export_goldens_errors_say_what_to_do(args, env, needle, tmp_path):
    command = ["export-goldens", *args, "--out", str(tmp_path / "exported.yaml")]
    done = supportbot(*command, module="pytest_supportbot_evals.cli", **env)
    assert done.returncode == 2, done.stdout + done.stderr
    assert needle in done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert not (tmp_path / "exported.yaml").exists()
