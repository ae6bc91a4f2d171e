"""``classification.confidence``: read from the reply's token log-probabilities, or absent.

The replies are real: two classify calls to the local llama.cpp server (base Gemma 3 270M,
JSON-schema decoding, ``top_logprobs: 20``), recorded by the project's recorder into
``data/classify-logprobs.yaml``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import yaml
from openai import OpenAI
from openai.types.chat import ChatCompletion
from opentelemetry.sdk.trace import TracerProvider
from supportbot.agent import SupportBot
from supportbot.classification import label_confidence, reply_tokens

from evals_core.settings import Settings

RECORDED = Path(__file__).parent / "data" / "classify-logprobs.yaml"


def recorded() -> list[tuple[dict, ChatCompletion]]:
    data = yaml.safe_load(RECORDED.read_text(encoding="utf-8"))
    return [
        (
            json.loads(i["request"]["body"]),
            ChatCompletion.model_validate_json(i["response"]["body"]["string"]),
        )
        for i in data["interactions"]
    ]


def test_the_confidence_is_the_labels_share_of_probability_where_the_label_starts():
    (refund_request, refund), (package_request, package) = recorded()
    assert refund_request["messages"][-1]["content"] == "How can I get a refund?"
    for request, reply in ((refund_request, refund), (package_request, package)):
        assert request["logprobs"] is True and request["top_logprobs"] == 20
        choice = reply.choices[0]
        tokens = reply_tokens(choice.logprobs)
        assert json.loads(choice.message.content)["category"] == "faq"
        # at the label's first token: faq's probability against order_status's ("order")
        (at,) = [t for t in tokens if t[0] == "faq"]
        top = dict(at[2])
        expected = math.exp(top["faq"]) / (math.exp(top["faq"]) + math.exp(top["order"]))
        assert label_confidence(choice.message.content, tokens) == round(expected, 4)
    confidences = [
        label_confidence(r.choices[0].message.content, reply_tokens(r.choices[0].logprobs))
        for r in (refund, package)
    ]
    assert confidences == [0.9022, 0.8226]  # sure of "faq" on a package question: and wrong


def test_a_label_outside_the_listed_tokens_counts_at_the_least_listed_probability():
    content = '{"category": "faq"}'
    tokens = [
        ('{"category": "', -0.1, []),
        ("faq", math.log(0.6), [("faq", math.log(0.6)), ("help", math.log(0.1))]),
        ('"}', -0.01, []),
    ]
    # order_status is not listed: at most 0.1 (the least listed), so faq >= 0.6 / 0.7
    assert label_confidence(content, tokens) == round(0.6 / 0.7, 4)
    # a token shared with the text before the label ('"fa' after '"'), and prefixes of labels
    tokens = [
        ('{"category": ', -0.1, []),
        ('"fa', math.log(0.5), [('"fa', math.log(0.5)), ('"o', math.log(0.3)), ('"x', -1.0)]),
        ('q"}', -0.01, []),
    ]
    assert label_confidence(content, tokens) == round(0.5 / 0.8, 4)


@pytest.mark.parametrize(
    ("content", "tokens"),
    [
        ('{"category": "faq"}', []),  # no log-probabilities
        ('{"category": "faq"}', [('{"category": "order_status"}', -0.1, [])]),  # not the reply
        ('{"label": "faq"}', [('{"label": "faq"}', -0.1, [])]),  # no category
    ],
)
def test_no_confidence_when_the_reply_cannot_give_one(content, tokens):
    assert label_confidence(content, tokens) is None


def replaying_bot(top_logprobs: int) -> tuple[SupportBot, list[dict]]:
    """The agent on an OpenAI client whose transport answers with the recorded reply (an
    in-process stand-in for the server, named as such), keeping the requests it was sent."""
    sent: list[dict] = []
    reply = yaml.safe_load(RECORDED.read_text())["interactions"][0]["response"]["body"]["string"]

    import httpx2

    def server(request: httpx2.Request) -> httpx2.Response:
        sent.append(json.loads(request.content))
        return httpx2.Response(200, text=reply, headers={"content-type": "application/json"})

    client = OpenAI(
        api_key="no-key", base_url="http://llm.invalid/v1",
        http_client=httpx2.Client(transport=httpx2.MockTransport(server)),
    )  # fmt: skip
    settings = Settings(classify_top_logprobs=top_logprobs)
    return SupportBot(settings, tracer_provider=TracerProvider(), client=client), sent


def test_the_agent_asks_for_logprobs_only_when_set_and_reads_the_confidence_from_them():
    bot, sent = replaying_bot(20)
    classification = bot._classify("How can I get a refund?", 42, ())
    assert (sent[0]["logprobs"], sent[0]["top_logprobs"]) == (True, 20)
    assert classification.confidence == 0.9022

    bot, sent = replaying_bot(0)
    classification = bot._classify("How can I get a refund?", 42, ())
    assert "logprobs" not in sent[0] and "top_logprobs" not in sent[0]
    # the recorded reply carries logprobs, so they are read; a reply without any gives none
    assert classification.confidence == 0.9022


def test_the_setting_is_strict():
    from evals_core.settings import SettingsError

    assert Settings.from_env({"SUPPORTBOT_CLASSIFY_TOP_LOGPROBS": "5"}).classify_top_logprobs == 5
    assert Settings.from_env({}).classify_top_logprobs == 0
    with pytest.raises(SettingsError, match="SUPPORTBOT_CLASSIFY_TOP_LOGPROBS"):
        Settings.from_env({"SUPPORTBOT_CLASSIFY_TOP_LOGPROBS": "50"})
