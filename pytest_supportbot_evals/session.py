"""One eval session: the agent and judges it runs with, the results, and what happens at the end.

Kept apart from the pytest hooks so it is plain, testable code: the hooks only feed it results
and ask it for the gate, the report and the Phoenix delivery.
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
from dataclasses import dataclass, field
from typing import Any

from pytest_supportbot_evals import baseline, report
from pytest_supportbot_evals.analysis import Analysis, analyse, fingerprint
from pytest_supportbot_evals.config import EvalConfig
from pytest_supportbot_evals.goldens import GoldenCase, goldens_hash
from pytest_supportbot_evals.runner import CaseResult
from supportbot import prompts

ANNOTATION_PREFIX = "supportbot-evals"
GOLDEN_ANNOTATION = "supportbot_golden"


@dataclass
class EvalSession:
    config: EvalConfig
    results: list[CaseResult] = field(default_factory=list)
    suite_thresholds: dict[str, dict[str, float]] = field(default_factory=dict)
    #: Spans of results that pytest-xdist workers ran, already OTLP-encoded.
    encoded_spans: list[str] = field(default_factory=list)
    delivery_note: str | None = None
    #: Fingerprint of each suite's golden set (recorded in baselines).
    goldens: dict[str, str] = field(default_factory=dict)
    baseline_note: str | None = None
    _analysis: Analysis | None = None

    def add(self, result: CaseResult) -> None:
        self.results.append(result)

    def to_worker_output(self) -> dict[str, str]:
        """What an xdist worker hands to the controller, which computes the one gate."""
        from supportbot.phoenix_sink import encode_spans

        spans = [span for r in self.results for span in r.spans]
        return {
            "supportbot_results": json.dumps([r.to_dict() for r in self.results]),
            "supportbot_thresholds": json.dumps(self.suite_thresholds),
            "supportbot_goldens": json.dumps(self.goldens),
            "supportbot_spans": encode_spans(spans)
            if spans and self.config.phoenix_endpoint
            else "",
        }

    def add_worker_output(self, output: dict[str, str]) -> None:
        self.results.extend(
            CaseResult.from_dict(d) for d in json.loads(output["supportbot_results"])
        )
        self.suite_thresholds.update(json.loads(output["supportbot_thresholds"]))
        self.goldens.update(json.loads(output.get("supportbot_goldens", "{}")))
        if output.get("supportbot_spans"):
            self.encoded_spans.append(output["supportbot_spans"])
        self._analysis = None

    def note_goldens(self, suite: str, cases: list[GoldenCase]) -> None:
        """Fingerprint a suite's golden set (recorded in baselines)."""
        self.goldens[suite] = goldens_hash(cases)

    def analysis(self) -> Analysis:
        if self._analysis is None:
            self._analysis = analyse(
                self.results,
                {"supportbot": self.config.thresholds, **self.suite_thresholds},
                run_fingerprint=fingerprint(self.meta(), self.goldens),
                baseline_path=None if self.config.update_baseline else self.config.baseline_path,
                min_kappa=self.config.min_kappa,
            )
        return self._analysis

    def update_baseline(self) -> str | None:
        """Write this run as the baseline (``--supportbot-update-baseline``); say what happened."""
        path = self.config.baseline_path
        if not self.config.update_baseline:
            return None
        if path is None:
            return "no baseline written: set --supportbot-baseline or ini supportbot_baseline"
        if self.analysis().gate.errored:
            return f"baseline {path} NOT updated: some cases could not be evaluated"
        data = baseline.build(self.results, fingerprint(self.meta(), self.goldens))
        report.write_json(path, data)
        return f"baseline written: {path}"

    def meta(self) -> dict[str, Any]:
        from supportbot import fingerprints

        s = self.config.settings
        return {
            "judge": fingerprints.relevance_judge(s, self.config.judge_method),
            "agent_steps": fingerprints.agent_steps(s),
            "model": s.model,
            "judge_model": s.effective_judge_model,
            "judge_method": self.config.judge_method,
            "record_mode": self.config.record_mode,
            "agent_prompts": prompts.prompt_hashes(),
            "judge_prompt": prompts.prompt_hashes(prompts.JUDGE_PROMPTS),
            "git_commit": git_commit(),
            "goldens": self.goldens,
            "min_kappa": self.config.min_kappa,
        }

    def write_outputs(self) -> None:
        """The JSON report, the Markdown table, and GitHub's job summary, as configured."""
        analysis = self.analysis()
        if self.config.report_path is not None:
            data = report.build_report(analysis, self.results, self.meta())
            report.write_json(self.config.report_path, data)
        markdown = report.markdown(analysis)
        if self.config.markdown_path is not None:
            report.write_text(self.config.markdown_path, markdown)
        if os.environ.get("GITHUB_STEP_SUMMARY"):
            with open(os.environ["GITHUB_STEP_SUMMARY"], "a", encoding="utf-8") as summary:
                summary.write(markdown)

    def deliver_to_phoenix(self) -> None:
        """Queue every span and verdict in the spool, then flush it; note what is pending."""
        endpoint = self.config.phoenix_endpoint
        if not endpoint or not self.results:
            return
        from supportbot.phoenix_sink import PhoenixSink

        settings = self.config.settings
        sink = PhoenixSink(
            endpoint,
            self.config.spool_path,
            api_key=settings.phoenix_api_key,
            project=settings.phoenix_project,
        )
        sink.add_spans([span for r in self.results for span in r.spans])
        for encoded in self.encoded_spans:
            sink.add_encoded_spans(encoded)
        sink.add_annotations(self.annotations())
        delivery = sink.flush()
        self.delivery_note = delivery.describe(endpoint, self.config.spool_path)
        if self.config.experiment_dataset:
            self.delivery_note += "\n" + self.log_experiment()

    def log_experiment(self) -> str:
        """Log the run as a Phoenix experiment; a failure is a note, never a lost gate."""
        import httpx
        from phoenix.client import Client

        from pytest_supportbot_evals.phoenix_datasets import log_experiment

        dataset = str(self.config.experiment_dataset)
        meta = self.meta()
        name = f"supportbot {meta['git_commit'] or 'local'} {meta['model']}"
        settings = self.config.settings
        client = Client(base_url=self.config.phoenix_endpoint, api_key=settings.phoenix_api_key)
        try:
            url = log_experiment(
                client,
                dataset,
                self.results,
                experiment_name=name,
                metadata={
                    "git_commit": meta["git_commit"],
                    "model": meta["model"],
                    "gate": self.analysis().verdict,
                    "agent_prompts": meta["agent_prompts"],
                },
            )
        except (httpx.HTTPError, KeyError, ValueError) as exc:
            return f"experiment on dataset {dataset!r} not logged: {type(exc).__name__}: {exc}"
        return f"experiment logged on dataset {dataset!r}: {url}"

    def annotations(self) -> list[dict[str, Any]]:
        from supportbot.phoenix_sink import span_annotation

        meta = self.meta()
        base = {"git_commit": meta["git_commit"], "model": meta["model"]}
        items = []
        for r in self.results:
            identifier = f"{ANNOTATION_PREFIX}:{r.suite}:{r.case_id}:{r.repetition}"
            golden = {**base, "golden_id": r.case_id, "suite": r.suite}
            for v in r.verdicts:
                items.append(
                    span_annotation(
                        span_id=v.span_id,
                        name=v.judge,
                        annotator_kind=v.annotator_kind,
                        label=v.label,
                        score=v.score,
                        explanation=v.explanation
                        or (f"judge failed: {v.error}" if v.error else None),
                        identifier=identifier,
                        metadata={
                            **golden,
                            "judge_model": v.model,
                            "evaluator": v.judge,
                            "prompt_hash": meta["judge_prompt"].get(f"judge_{v.judge}"),
                        },
                    )
                )
            if r.span_id and r.error is None:
                failed = r.failed_checks()
                items.append(
                    span_annotation(
                        span_id=r.span_id,
                        name=GOLDEN_ANNOTATION,
                        annotator_kind="CODE",
                        label="pass" if not failed else "fail",
                        score=0.0 if failed else 1.0,
                        explanation="; ".join(
                            f"{c.evaluator}: expected {c.expected}, got {c.actual}" for c in failed
                        )
                        or "all expectations held",
                        identifier=identifier,
                        metadata={**golden, "prompt_hashes": meta["agent_prompts"]},
                    )
                )
        return items


@functools.cache
def git_commit() -> str | None:
    if os.environ.get("GITHUB_SHA"):
        return os.environ["GITHUB_SHA"]
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None
