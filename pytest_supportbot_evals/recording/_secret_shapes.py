"""The shapes a secret takes, and the disguises the secrets scan sees through.

``PROVIDER_PATTERNS`` is the documented list of provider key shapes (docs/secrets.md); the views
below are what ``secrets.decoded_views`` adds to JSON-escapes, URL-encoding, base64 and hex runs:
``0x``/``\\x`` hex, base64 broken over lines, the string values of a JSON document joined (a key
split across two fields or list items), and the text reversed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

#: Provider key shapes, by name. Each is specific enough to be a finding on its own.
PROVIDER_PATTERNS = {
    "Anthropic key": re.compile(r"\bsk-ant-[A-Za-z0-9_\-]{20,}"),
    "GitHub token": re.compile(
        r"\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{30,}|\bgithub_pat_[A-Za-z0-9_]{22,}"
    ),
    "AWS access key id": re.compile(r"\b(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}(?![0-9A-Z])"),
    "AWS secret access key": re.compile(
        r"aws_secret_access_key['\"]?\s*[:=]\s*['\"]?[A-Za-z0-9/+]{40}", re.IGNORECASE
    ),
    "Google API key": re.compile(r"\bAIza[0-9A-Za-z_\-]{35}"),
    "Slack token": re.compile(r"\bxox[abposr]-[A-Za-z0-9\-]{10,}"),
    "Slack webhook": re.compile(r"hooks\.slack\.com/services/T[A-Za-z0-9]+/B[A-Za-z0-9]+/\w+"),
    "credentials in a URL": re.compile(
        r"\b[a-z][a-z0-9+.\-]{0,20}://[^\s/:@'\"<>]+:[^\s/@'\"<>]+@"
    ),
}

#: The name of the view of a JSON document's string values joined.
JOINED = "split across JSON strings"

#: What (lower-cased) each provider shape must contain.
PROVIDER_LITERALS = {
    "Anthropic key": ("sk-ant-",),
    "GitHub token": ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"),
    "AWS access key id": ("akia", "asia", "abia", "acca"),
    "AWS secret access key": ("aws_secret_access_key",),
    "Google API key": ("aiza",),
    "Slack token": ("xoxa-", "xoxb-", "xoxp-", "xoxo-", "xoxs-", "xoxr-"),
    "Slack webhook": ("hooks.slack.com",),
    "credentials in a URL": ("://",),
}

_HEX_0X = re.compile(r"0x((?:[0-9a-fA-F]{2}){8,})(?![0-9a-fA-F])")
_HEX_ESCAPES = re.compile(r"(?:\\x[0-9a-fA-F]{2}){8,}")
#: Base64 over several lines (MIME breaks at 76), with real or JSON-escaped line breaks.
_BASE64_LINES = re.compile(
    r"[A-Za-z0-9+/]{16,}(?:(?:\\r|\\n|[ \t]*\r?\n[ \t]*)+[A-Za-z0-9+/]{4,})+={0,2}"
)
_BREAKS = re.compile(r"\\r|\\n|\s")
#: A JSON string literal, and whether it is an object key (followed by ``:``).
_JSON_STRING = re.compile(r'"((?:[^"\\\n]|\\.){0,4000})"(\s*:)?')


def extra_views(text: str, b64: Callable[[str], str | None]) -> Iterator[tuple[str, int, str]]:
    """``(encoding, offset, view)`` for the disguises named in the module docstring; ``b64``
    decodes one base64 run (``secrets._b64``)."""
    for match in _HEX_0X.finditer(text):
        yield "0x hex", match.start(), bytes.fromhex(match.group(1)).decode("latin-1")
    for match in _HEX_ESCAPES.finditer(text):
        raw = match.group(0).replace("\\x", "")
        yield "\\x-escaped", match.start(), bytes.fromhex(raw).decode("latin-1")
    for match in _BASE64_LINES.finditer(text):
        decoded = b64(_BREAKS.sub("", match.group(0)))
        if decoded:
            yield "base64 over several lines", match.start(), decoded
    values = [m for m in _JSON_STRING.finditer(text) if not m.group(2)]
    if len(values) > 1:
        yield JOINED, values[0].start(), "".join(m.group(1) for m in values)


def reversed_view(text: str) -> tuple[str, int, str]:
    return "reversed", 0, text[::-1]
