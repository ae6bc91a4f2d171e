"""Find secrets in text before it reaches disk, and in files already on disk.

Three nets: header names that carry credentials, the *values* of API-key-like environment
variables, and key shapes (``sk-…``, ``org-…``, ``proj_…``, bearer tokens, and the provider
shapes of ``secret_shapes.PROVIDER_PATTERNS``: Anthropic, GitHub, AWS, Google, Slack, URLs with a
password). Findings are reported masked, so the report of a leak is not a leak itself.

A secret is found in any encoding a server or a payload may wrap it in: the values and key
shapes are also looked for after decoding JSON ``\\uXXXX`` escapes, URL-encoding, every
base64/base64url or hex run in the text (a spool's span payloads are base64 protobuf), and the
disguises of ``secret_shapes.extra_views``; encodings within encodings (two deep), and the text
reversed.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from pytest_supportbot_evals.recording._secret_shapes import (
    JOINED,
    PROVIDER_LITERALS,
    PROVIDER_PATTERNS,
    extra_views,
    reversed_view,
)

#: Request and response headers never written to a cassette.
SECRET_HEADERS = (
    "authorization",
    "api-key",
    "x-api-key",
    "openai-organization",
    "openai-project",
    "cookie",
    "set-cookie",
    "proxy-authorization",
)
#: Response headers that identify an account or a request: dropped as well.
ACCOUNT_HEADERS = (
    "openai-organization",
    "openai-project",
    "x-request-id",
    "request-id",
    "cf-ray",
    "x-openai-proxy-wasm",
)
KEY_PATTERNS = {
    "openai-style key": re.compile(r"\bsk-[A-Za-z0-9_\-]{16,}"),
    "organization id": re.compile(r"\borg-[A-Za-z0-9]{16,}"),
    "project id": re.compile(r"\bproj_[A-Za-z0-9]{16,}"),
    "bearer token": re.compile(r"\bBearer\s+[A-Za-z0-9._~+/\-]{12,}=*", re.IGNORECASE),
    **PROVIDER_PATTERNS,
}
#: What (lower-cased) each key shape must contain: a shape is matched only in a view that
#: holds one of them (a substring test is far cheaper than a pattern search).
KEY_LITERALS = {
    "openai-style key": ("sk-",),
    "organization id": ("org-",),
    "project id": ("proj_",),
    "bearer token": ("bearer",),
    **PROVIDER_LITERALS,
}
_HEADER_LINE = re.compile(
    r"^\s*['\"]?(" + "|".join(re.escape(h) for h in SECRET_HEADERS) + r")['\"]?\s*:",
    re.IGNORECASE | re.MULTILINE,
)
_SECRET_ENV = re.compile(r"(API_KEY|_TOKEN|_SECRET|PASSWORD)$", re.IGNORECASE)
MIN_SECRET_LENGTH = 8


class SecretFoundError(RuntimeError):
    """Text about to be written (or already written) holds a secret."""


@dataclass(frozen=True)
class Finding:
    where: str
    kind: str
    excerpt: str

    def __str__(self) -> str:
        return f"{self.where}: {self.kind} ({self.excerpt})"


def secret_values(env: Mapping[str, str] | None = None) -> list[str]:
    """Values of environment variables whose names say they are secrets."""
    env = os.environ if env is None else env
    return sorted(
        {
            v
            for k, v in env.items()
            if _SECRET_ENV.search(k) and len(v.strip()) >= MIN_SECRET_LENGTH
        },
        key=len,
        reverse=True,
    )


#: What a scrubbed secret is replaced with, in cassettes and in exported goldens alike.
REDACTED = "<REDACTED>"


def redact(text: str, env: Mapping[str, str] | None = None) -> str:
    """``text`` with every secret environment value and key shape replaced by ``REDACTED``
    (for text a user typed, e.g. a query pasted with an API key, before it is kept)."""
    text = scrub(text, secret_values(env))
    for pattern in KEY_PATTERNS.values():
        text = pattern.sub(REDACTED, text)
    return text


def scrub(text: str, values: Iterable[str]) -> str:
    """Replace every given secret value in ``text`` with ``REDACTED``."""
    for value in values:
        text = text.replace(value, REDACTED)
    return text


def scan_text(text: str, where: str, env: Mapping[str, str] | None = None) -> list[Finding]:
    findings = [
        Finding(where, f"secret header {m.group(1).lower()!r}", f"line {_line(text, m.start())}")
        for m in _HEADER_LINE.finditer(text)
    ]
    values = secret_values(env)
    seen: set[tuple[str, str]] = set()
    for encoding, offset, view in decoded_views(text):
        suffix = f" ({encoding})" if encoding else ""
        hits = [
            (kind, m.start(), m.group(0))
            for kind, pattern in _shapes_in(view)
            for m in pattern.finditer(view)
        ]
        hits += [
            ("value of a secret environment variable", view.find(value), value)
            for value in values
            if value in view
        ]
        for kind, index, found in hits:
            line = _line(text, offset if encoding else index)
            if (kind, found) in seen:
                continue
            seen.add((kind, found))
            findings.append(Finding(where, kind + suffix, f"line {line}: {_mask(found)}"))
    return findings


_BASE64_RUN = re.compile(r"[A-Za-z0-9+/_-]{16,}={0,2}")
_HEX_RUN = re.compile(r"\b(?:[0-9a-fA-F]{2}){8,}\b")
_JSON_ESCAPE = re.compile(r"\\+u([0-9a-fA-F]{4})")  # any depth: "\\u0041" in a JSON string
_URL_ESCAPE = re.compile(r"%[0-9a-fA-F]{2}")


#: How many encodings deep a secret is looked for (a base64 of a URL-encoded key is two).
DECODE_DEPTH = 2


def decoded_views(text: str, depth: int = DECODE_DEPTH) -> Iterator[tuple[str, int, str]]:
    """``(encoding, offset, text)``: the text itself (encoding ""), then what its encoded
    parts decode to (``depth`` encodings deep), each with the offset of the encoded part in
    ``text``, each distinct view once; and the text reversed."""
    yield "", 0, text
    seen = {text}
    for encoding, offset, view in _nested(text, depth):
        if view not in seen:
            seen.add(view)
            yield encoding, offset, view
    yield reversed_view(text)


def _nested(text: str, depth: int) -> Iterator[tuple[str, int, str]]:
    for encoding, offset, view in _decodings(text):
        yield encoding, offset, view
        # Only text is decoded further: a second encoding wraps text, not binary noise.
        if depth > 1 and encoding != JOINED and _is_text(view):
            for inner, _, deeper in _nested(view, depth - 1):
                yield f"{inner} inside {encoding}", offset, deeper


def _shapes_in(view: str) -> list[tuple[str, re.Pattern[str]]]:
    lower = view.lower()
    return [
        (kind, pattern)
        for kind, pattern in KEY_PATTERNS.items()
        if any(literal in lower for literal in KEY_LITERALS[kind])
    ]


def _is_text(view: str) -> bool:
    printable = sum(1 for c in view if " " <= c <= "~" or c in "\n\r\t")
    return printable >= 0.95 * len(view)


def _decodings(text: str) -> Iterator[tuple[str, int, str]]:
    if escaped := _JSON_ESCAPE.search(text):
        yield "JSON \\u-escaped", escaped.start(), _unescape_json(text)
    if quoted := _URL_ESCAPE.search(text):
        from urllib.parse import unquote_plus

        yield "URL-encoded", quoted.start(), unquote_plus(text)
    for match in _BASE64_RUN.finditer(text):
        decoded = _b64(match.group(0))
        if decoded:
            yield "base64-encoded", match.start(), decoded
    for match in _HEX_RUN.finditer(text):
        yield "hex-encoded", match.start(), bytes.fromhex(match.group(0)).decode("latin-1")
    yield from extra_views(text, _b64)


def _unescape_json(text: str) -> str:
    return _JSON_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)


def _b64(run: str) -> str | None:
    """A base64 or base64url run decoded to text (latin-1: any bytes), or None if it is not."""
    import base64
    import binascii

    body = run.rstrip("=")
    padded = body + "=" * (-len(body) % 4)
    altchars = b"-_" if ("-" in body or "_" in body) else None
    try:
        raw = base64.b64decode(padded, altchars=altchars, validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw.decode("latin-1")


def scan_paths(paths: Iterable[Path], env: Mapping[str, str] | None = None) -> list[Finding]:
    """Scan files (folders recursively) of cassettes, reports and spools."""
    findings: list[Finding] = []
    for path in paths:
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            if file.exists():
                text = file.read_text(encoding="utf-8", errors="replace")
                findings.extend(scan_text(text, str(file), env))
    return findings


def ensure_clean(text: str, where: str) -> None:
    """Raise before writing ``text`` if it holds a secret."""
    findings = scan_text(text, where)
    if findings:
        listed = "\n  ".join(str(f) for f in findings)
        raise SecretFoundError(
            f"Refusing to write {where}: it would contain a secret:\n  {listed}\n"
            "Nothing was written; the previous file is unchanged."
        )


def _line(text: str, index: int) -> int:
    return text.count("\n", 0, index) + 1


def _mask(value: str) -> str:
    return value[:4] + "…" + f"({len(value)} chars)"
