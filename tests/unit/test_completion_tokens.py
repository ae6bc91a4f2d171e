"""The token gate per step: completion tokens against the baseline, and answers cut at
``max_tokens`` (the issue's case: "Be concise." made completion tokens +23% and cut 4 answers
while the sum of prompt and completion moved +3.7%)."""

from __future__ import annotations

import json

from pytest_supportbot_evals.run.results import CaseResult
from pytest_supportbot_evals.verdict import baseline, tokens


class Request:
    def __init__(self, step):
        self.headers = {"x-supportbot-step": step}


def reply(prompt, completion, finish="stop"):
    body = {
        "choices": [{"finish_reason": finish}],
        "usage": {"prompt_tokens": prompt, "completion_tokens": completion},
    }
    return {"body": {"string": json.dumps(body).encode()}}


def test_a_reply_cut_at_max_tokens_is_counted_per_step():
    table = tokens.usage_of(
        [
            (Request("faq_answer"), reply(200, 96, "length")),
            (Request("faq_answer"), reply(200, 40)),
            (Request("classify"), reply(100, 10)),
        ]
    )
    assert table["faq_answer"] == {"prompt": 400, "completion": 136, "calls": 2, "cut": 1}
    assert table["classify"] == {"prompt": 100, "completion": 10, "calls": 1}
    assert tokens.add([table, table])["faq_answer"]["cut"] == 2


def run(run_id, prompt, completion, cut=0):
    row = {"prompt": prompt, "completion": completion, "calls": 1}
    return CaseResult(
        run_id,
        "q",
        tokens={"faq_answer": {**row, "cut": cut} if cut else row, "judge:x": dict(row)},
    )


BEFORE = [run("a", 900, 100), run("b", 900, 100), run("c", 900, 96, cut=1)]


def written(results):
    return baseline.build(results, {})["tokens"]


def test_longer_answers_fail_per_step_though_the_sum_grows_little():
    now = [run("a", 900, 125), run("b", 900, 125), run("c", 900, 96, cut=1)]
    failures, notes = tokens.growth(written(BEFORE), now, 0.25, 0.2)
    assert failures == []  # +16.9% is under +20%: a note
    assert "evals: faq_answer completion tokens 296 -> 346 (+16.9%)" in " ".join(notes)
    failures, _ = tokens.growth(written(BEFORE), now, 0.25, 0.1)
    assert failures == [
        "evals: faq_answer completion tokens 296 -> 346 (+16.9%) over 3 golden run(s) also "
        "in the baseline, over the limit of +10% (evals_max_completion_growth)"
    ]  # while the agent's total grew +4.7%, under its +25%
    assert tokens.growth(written(BEFORE), now, 0.25, None)[0] == []  # empty: never


def test_an_answer_newly_cut_fails_and_every_cut_answer_is_named():
    now = [run("a", 900, 96, cut=1), run("b", 900, 100), run("c", 900, 96, cut=1)]
    failures, _ = tokens.growth(written(BEFORE), now, None, None)
    assert failures == [
        "evals: 1 answer(s) now cut at max_tokens (finish_reason length), complete in the "
        "baseline: a (faq_answer); shorten the answers or raise the step's max_tokens (and "
        "re-record)"
    ]
    line = tokens.summary_lines(tokens.priced(now, {}, "m", "j"), "evals")[0]
    assert line.endswith("; answers cut at max_tokens: 2 faq_answer")


def test_an_older_baseline_is_read_and_says_to_regenerate():
    old = {"evals": {"runs": {"a": 1000, "b": 1000, "c": 996}}}
    failures, notes = tokens.growth(old, BEFORE, 0.25, 0.2)
    assert failures == []
    assert any(
        "no per-step completion figures" in n and "--evals-update-baseline" in n for n in notes
    )


def test_the_baseline_keeps_each_runs_agent_steps_only():
    kept = written(BEFORE)["evals"]["steps_by_run"]
    assert kept["c"] == {"faq_answer": {"completion": 96, "cut": 1}}  # no judge step
