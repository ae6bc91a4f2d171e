"""Is the answer grounded in what the agent's own spans found? A deterministic, lexical rule.

The evidence of a turn is what its TOOL spans returned (their output fields, or their error) and
the documents its RETRIEVER spans found. The answer is:

* ``contradicts`` when it says the opposite of the evidence: it says a lookup failed (``not
  found``, ``couldn't find``...) when the tool returned a result; it affirms (``Yes, ...``) or
  states a result when the tool failed; it denies (``No, ...``) a value the question names and
  the tool returned; or it states a number (a date, an amount, an id) found nowhere in the
  evidence or the question;
* ``grounded`` when it states what was found: a value of the tool's output that is not the
  tool's own input (the order id it was asked for proves nothing), or, for a yes/no question
  that names such a value, a ``Yes``; when the tool failed, it says so; for retrieved documents,
  at least half of the answer's claim words (its content words not in the question, plus the
  question's when it answers ``Yes``) are in the documents, or it declines to answer;
* ``unsupported`` otherwise, with what it should have said (the fields, the documents).

Several sources: a contradiction anywhere wins, then any grounded source. A turn with neither a
TOOL span nor a RETRIEVER span has nothing to check against: no verdict (``None``).

What it cannot tell: meaning beyond words (paraphrase, synonyms: "en route" is not "shipped"), a
wrong value the tool could have returned (the rule does not know a status field's other values:
"shipped" for a processing order is ``unsupported``, not ``contradicts``), whether a declined
answer should have answered (``retrieval_hit`` and relevance judge that), and languages other
than English (the stop words and phrases are English).
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from evals_core.judges import tool_result
from evals_core.spans import SpanView, flatten

GROUNDED, CONTRADICTS, UNSUPPORTED = "grounded", "contradicts", "unsupported"
LABELS = (GROUNDED, CONTRADICTS, UNSUPPORTED)
#: The fraction of an answer's claim words that must be in the retrieved documents.
MIN_OVERLAP = 0.5

STOP_WORDS = frozenset(
    """a about above after again all also am an and any are as at be because been before being
    below between both but by can could did do does doing done down during each either else
    ever every few for from further get got had has have having he her here hers him his how i
    if in into is it its itself just let like may me might more most much must my myself need
    no nor not now of off on once only or other our ours out over own please per quite rather
    really same shall she should so some such than that the their them then there these they
    this those through to too under until up upon us very via was we were what when where which
    while who whom why will with within would yes yet you your yours ok okay hi hello thanks
    thank sure sorry dear customer none null unknown true false don doesn didn isn aren wasn
    weren won can couldn shouldn wouldn haven hasn hadn""".split()
)
FAILED = (
    "not found", "couldn't find", "could not find", "can't find", "cannot find", "unable to",
    "couldn't locate", "could not locate", "no record", "no such", "doesn't exist",
    "does not exist", "not in our system", "isn't in our system", "not available", "unavailable",
    "invalid", "error", "have no", "there is no", "there's no", "check the order number",
    "double-check", "doesn't match", "failed",
)  # fmt: skip
DECLINED = (
    "don't have that information", "do not have that information", "don't have information",
    "no information", "don't know", "do not know", "human agent", "connect you",
    "can't help", "cannot help", "not able to", "unable to", "don't have", "do not have",
)  # fmt: skip
AFFIRMS = re.compile(r"^(yes|yeah|yep|sure|certainly|absolutely|of course|correct)\b")
DENIES = re.compile(r"^(no|nope)\b")
LIST_MARKER = re.compile(r"(?m)^\s*\d+[.)]\s")
CONTRACTION = re.compile(r"'(s|t|m|re|ll|ve|d)\b")
WORD = re.compile(r"[a-z0-9]+")
DIGIT = re.compile(r"[0-9]")


def normalize(text: str) -> str:
    """Lowercase, curly quotes straightened, ``_`` as a space, whitespace collapsed."""
    text = str(text).lower().replace("\u2019", "'").replace("_", " ")
    return " ".join(text.split())


def stem(word: str) -> str:
    """A light suffix strip (``shipped``/``shipping``/``ships`` -> ``ship``), nothing more."""
    if word.isdigit() or len(word) < 4:
        return word
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith(("sses", "xes", "ches", "shes", "zes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    for suffix in ("ing", "ed"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            if word[-1] == word[-2] and word[-1] not in "aeiouslz":
                word = word[:-1]  # shipped -> ship
            break
    return word


def words(text: str) -> list[str]:
    """A text's words: list markers (``1.``) and contractions (``'t``, ``'m``...) dropped."""
    return list(_words(str(text)))


def content(text: str) -> set[str]:
    """The stems of a text's content words (stop words dropped)."""
    return set(_content(str(text)))


# The same texts come back case after case (a FAQ entry retrieved by many goldens, the same
# tool output): their words and stems are computed once per process. Callers get copies.
@functools.lru_cache(maxsize=4096)
def _words(text: str) -> tuple[str, ...]:
    text = CONTRACTION.sub("", normalize(LIST_MARKER.sub(" ", text)))
    return tuple(w for w in WORD.findall(text) if len(w) > 1 or w.isdigit())


@functools.lru_cache(maxsize=4096)
def _content(text: str) -> frozenset[str]:
    return frozenset(stem(w) for w in _words(text) if w not in STOP_WORDS)


def numbers(text: str) -> set[str]:
    """Digit-bearing words of a text (dates, amounts, ids), list markers (``1.``) aside."""
    return {w for w in _words(str(text)) if DIGIT.search(w)}


def states(text: str, value: str) -> bool:
    """Whether ``text`` states ``value``: the value as a phrase, or (for a value of several
    content words) at least half of them."""
    wanted = content(value)
    if not wanted:
        return False
    if re.search(rf"(?<![a-z0-9]){re.escape(normalize(value))}(?![a-z0-9])", normalize(text)):
        return True
    return len(wanted & content(text)) >= max(1, math.ceil(len(wanted) / 2))


def has_phrase(text: str, phrases: Iterable[str]) -> bool:
    said = normalize(text)
    return any(re.search(rf"(?<![a-z]){re.escape(p)}(?![a-z])", said) for p in phrases)


@dataclass(frozen=True)
class ToolOutput:
    """What one TOOL span returned: its fields (``{"output": text}`` when not a JSON object),
    its input, and its error (``None`` when it succeeded)."""

    name: str
    fields: dict[str, str]
    input: str
    error: str | None = None


@dataclass(frozen=True)
class Evidence:
    tools: tuple[ToolOutput, ...] = ()
    #: ``(id, content)`` of every retrieved document; ``None``: no RETRIEVER span.
    documents: tuple[tuple[str, str], ...] | None = None

    @property
    def empty(self) -> bool:
        return not self.tools and self.documents is None

    @property
    def text(self) -> str:
        tools = " ".join(
            f"{t.input} {t.error or ''} {' '.join(t.fields.values())}" for t in self.tools
        )
        return f"{tools} {' '.join(c for _, c in self.documents or ())}"


def evidence_of(spans: Sequence[SpanView], tool_spans: str = "*") -> Evidence:
    """The evidence in a turn's spans (TOOL spans whose name matches the glob ``tool_spans``)."""
    import fnmatch

    tools = []
    for span in spans:
        if span.kind != "TOOL" or not fnmatch.fnmatchcase(span.name, tool_spans):
            continue
        output = str(span.get("output.value", "") or "")
        verdict = tool_result(span)
        error = verdict.explanation.removeprefix("The tool reported an error: ")
        try:
            data = json.loads(output)
        except ValueError:
            data = None
        fields = {k: str(v) for k, v in flatten(data).items()} if isinstance(data, dict) else {}
        if not fields and output.strip():
            fields = {"output": output}
        given = str(span.get("tool.parameters") or span.get("input.value") or "")
        failed = verdict.label == "error"
        tools.append(
            ToolOutput(span.name, {} if failed else fields, given, error if failed else None)
        )
    retrievers = [s for s in spans if s.kind == "RETRIEVER"]
    documents = None
    if retrievers:
        documents = tuple(
            (str(d["id"]), str(d["content"])) for s in retrievers for d in s.documents
        )
    return Evidence(tuple(tools), documents)


def check(query: str, answer: str, evidence: Evidence) -> tuple[str, str] | None:
    """``(label, explanation)`` of the answer against the evidence; ``None``: no evidence."""
    if evidence.empty:
        return None
    found = []
    if evidence.tools:
        found.append(_against_tools(query, answer, evidence))
    if evidence.documents is not None:
        found.append(_against_documents(query, answer, evidence.documents))
    for label in LABELS[1:2] + LABELS[:1]:  # a contradiction first, then any grounded source
        hit = next((f for f in found if f[0] == label), None)
        if hit is not None:
            return hit
    return UNSUPPORTED, "; ".join(f[1] for f in found)


def _stray_number(query: str, answer: str, evidence: Evidence) -> str | None:
    known = numbers(query) | numbers(evidence.text)
    stray = sorted(numbers(answer) - known)
    return stray[0] if stray else None


def _against_tools(query: str, answer: str, evidence: Evidence) -> tuple[str, str]:
    ok = [t for t in evidence.tools if t.error is None]
    said = normalize(answer)[:120]
    stray = _stray_number(query, answer, evidence)
    if not ok:
        failed = evidence.tools[0]
        what = f"{failed.name} failed ({failed.error})"
        if AFFIRMS.match(normalize(answer).lstrip("\"' ")):
            return CONTRADICTS, f"{what}, but the answer affirms: {said!r}"
        if stray:
            return CONTRADICTS, f"{what}, but the answer states {stray!r}"
        if has_phrase(answer, FAILED):
            return GROUNDED, f"the answer says what {failed.name} did: it failed ({failed.error})"
        return UNSUPPORTED, f"{what}; the answer does not say so: {said!r}"
    facts = [(t.name, k, v) for t in ok for k, v in t.fields.items() if not _is_input(v, t.input)]
    if has_phrase(answer, ("not found", "couldn't find", "could not find", "can't find")):
        return CONTRADICTS, f"{ok[0].name} returned a result, but the answer says it was not found"
    if stray:
        return CONTRADICTS, f"the answer states {stray!r}, which {ok[0].name} did not return"
    opening = normalize(answer).lstrip("\"' ")
    for name, key, value in facts:
        if states(answer, value):
            return GROUNDED, f"the answer states {name}'s {key} {value!r}"
        if states(query, value) and AFFIRMS.match(opening):
            return GROUNDED, f"the answer affirms {name}'s {key} {value!r}, named in the question"
        if states(query, value) and DENIES.match(opening):
            return CONTRADICTS, f"the answer denies {name}'s {key} {value!r}"
    listed = ", ".join(f"{k} {v!r}" for _, k, v in facts[:6]) or "(no fields)"
    return UNSUPPORTED, f"the answer states none of what {ok[0].name} returned ({listed})"


def _is_input(value: str, given: str) -> bool:
    """A value the tool was given (the id it looked up) is no evidence that the answer used it."""
    stems = content(value)
    return bool(stems) and stems <= content(given)


def _against_documents(
    query: str, answer: str, documents: Sequence[tuple[str, str]]
) -> tuple[str, str]:
    ids = ", ".join(i for i, _ in documents) or "nothing"
    if has_phrase(answer, DECLINED):
        return GROUNDED, f"the answer declines; it claims nothing the documents ({ids}) must back"
    evidence = Evidence(documents=tuple(documents))
    stray = _stray_number(query, answer, evidence)
    if stray:
        return CONTRADICTS, f"the answer states {stray!r}, which no retrieved document ({ids}) has"
    claims = content(answer) - content(query)
    if AFFIRMS.match(normalize(answer).lstrip("\"' ")):
        claims |= content(query)
    if not claims:
        return UNSUPPORTED, "the answer states nothing beyond the question's own words"
    if not documents:
        return UNSUPPORTED, "nothing was retrieved, yet the answer makes claims"
    found = set().union(*(content(c) for _, c in documents)) & claims
    best = max(documents, key=lambda d: len(content(d[1]) & claims))[0]
    share = f"{len(found)} of {len(claims)} of the answer's claim words"
    if len(found) >= MIN_OVERLAP * len(claims):
        return GROUNDED, f"{share} are in the retrieved documents (most in {best})"
    missing = ", ".join(sorted(claims - found)[:6])
    return UNSUPPORTED, f"{share} are in the retrieved documents ({ids}); not in them: {missing}"
