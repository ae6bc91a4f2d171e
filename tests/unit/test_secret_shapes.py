"""The secrets scan against every listed key shape and every disguise; ``check-secrets`` finds
each planted in a cassette, a report, a JUnit file and an exported golden; export-goldens
redacts every shape and refuses only the case that still holds one."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from urllib.parse import quote

import pytest

from pytest_supportbot_evals.phoenix.export import AgentRun, AnnotationFilter, new_cases
from pytest_supportbot_evals.phoenix.export_file import append_cases
from pytest_supportbot_evals.recording import secrets
from pytest_supportbot_evals.run.goldens import load_file

#: One made-up key per documented shape (docs/secrets.md), built so this file holds none whole.
SHAPES = {
    "openai-style key": "sk-" + "proj-Ab3dEf6hIj9kLm2nOp5qRs8t",
    "Anthropic key": "sk-" + "ant-api03-Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2",
    "GitHub token": "gh" + "p_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8",
    "AWS access key id": "AK" + "IA" + "QWERTYUIOP123456",
    "Google API key": "AI" + "za" + "SyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q",
    "Slack token": "xo" + "xb-" + "123456789012-abcdefABCDEF",
    "credentials in a URL": "https://" + "admin:s3cr3t-pass" + "@phoenix.example.com",
}


def kinds(text: str) -> set[str]:
    return {f.kind.split(" (")[0] for f in secrets.scan_text(text, "t", env={})}


@pytest.mark.parametrize(("kind", "key"), SHAPES.items())
def test_each_provider_shape_is_found_and_redacted(kind, key):
    assert kind in kinds(f"the agent said: {key} ok")
    assert key not in secrets.redact(f"x {key} y", env={})


KEY = SHAPES["openai-style key"]


def _lines(data: bytes, width: int = 20):
    text = data.decode()
    return [text[i : i + width] for i in range(0, len(text), width)]


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("two JSON fields", json.dumps({"a": KEY[:12], "b": KEY[12:]})),
        ("two list items", json.dumps({"parts": [KEY[:10], KEY[10:]]})),
        ("0x hex", "blob 0x" + KEY.encode().hex()),
        ("\\x escapes", "".join(f"\\x{b:02x}" for b in KEY.encode())),
        ("base64 over lines", "\n".join(_lines(base64.b64encode(KEY.encode() * 3)))),
        ("base64 of base64", base64.b64encode(base64.b64encode(KEY.encode())).decode()),
        ("URL-encoded base64", quote(base64.b64encode(b"key=" + KEY.encode()).decode(), safe="")),
        ("base64 of a URL-encoded", base64.b64encode(quote("k: " + KEY).encode()).decode()),
        ("reversed", KEY[::-1]),
    ],
)
def test_a_key_in_any_disguise_is_found(name, text):
    assert "openai-style key" in kinds(text), name


def test_a_key_split_with_json_escaped_line_breaks_is_found():
    wrapped = "\n".join(_lines(base64.b64encode(KEY.encode() * 2)))  # "\n" in the JSON text
    assert "openai-style key" in kinds(json.dumps({"blob": wrapped}))


def test_plain_text_and_protobuf_payloads_are_not_flagged():
    text = "Your order ORD-1234 shipped; see https://example.com/track?id=5 for details."
    assert kinds(text) == set()
    assert kinds(base64.b64encode(bytes(range(256)) * 4).decode()) == set()


# -- check-secrets over every kind of file the plugin writes ---------------------------------


@pytest.mark.parametrize("kind", SHAPES)
def test_check_secrets_finds_each_shape_in_a_cassette_report_junit_and_golden(
    kind, tmp_path, capsys
):
    from pytest_supportbot_evals.cli.main import main

    key = SHAPES[kind]
    body = json.dumps({"choices": [{"message": {"content": f"use {key}"}}]})
    files = {
        "cassette.yaml": f"interactions:\n- response:\n    body:\n      string: '{body}'\n",
        "report.json": json.dumps({"cases": [{"error": f"boom {key}"}]}),
        "junit.xml": f'<testsuite><testcase name="g"><failure message="{key}"/></testcase>'
        "</testsuite>",
        "goldens.yaml": f"cases:\n  - id: g\n    query: 'what is {key}'\n    category: faq\n",
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    code = main(["check-secrets", *(str(tmp_path / n) for n in files)])
    out = capsys.readouterr()
    assert code == 1
    for name in files:
        assert f"{name}: {kind}" in out.out + out.err, (name, out)


# -- export-goldens --------------------------------------------------------------------------

DOWN = [AnnotationFilter("user_feedback", "thumbs-down")]


def test_a_thousand_golden_export_redacts_every_shape_and_refuses_only_encoded_ones(tmp_path):
    now = datetime(2026, 12, 1, tzinfo=UTC)
    notes = [("user_feedback", "thumbs-down", "HUMAN")]
    plain = list(SHAPES.values())
    runs = []
    for i in range(1000):
        query = f"question {i} about my order"
        if i % 100 == 7:
            query += " " + plain[(i // 100) % len(plain)]
        if i == 500:
            query = "my key " + base64.b64encode(KEY.encode()).decode()
        trace = f"{i:032x}"
        runs.append(
            AgentRun(trace, trace[:16], f"2026-11-30T00:{i:04d}", secrets.redact(query), "faq")
        )
        runs[-1].annotations.extend(notes)
    cases, _ = new_cases(runs, DOWN, [], project="p", now=now)
    path = tmp_path / "exported.yaml"

    refused = append_cases(path, cases)

    assert len(refused) == 1 and f"{500:032x}" in refused[0], refused
    assert len(load_file(path)) == 999
    assert secrets.scan_paths([path], env={}) == []


def test_a_key_split_by_a_space_never_becomes_the_golden_id():
    now = datetime(2026, 12, 1, tzinfo=UTC)
    query = "key " + KEY[:14] + " " + KEY[14:]  # each half too short to be a key
    run = AgentRun("ab" * 16, "ab" * 8, "2026-11-30T00:00", secrets.redact(query), "faq")
    run.annotations.append(("user_feedback", "thumbs-down", "HUMAN"))
    (case,), _ = new_cases([run], DOWN, [], project="p", now=now)
    assert case["id"].startswith("exported-redacted-")
