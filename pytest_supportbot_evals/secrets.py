"""Find secrets in text before it reaches disk, and in files already on disk.

Three nets: header names that carry credentials, the *values* of API-key-like environment
variables, and key shapes (``sk-…``, ``org-…``, ``proj_…``, bearer tokens). Findings are
reported masked, so the report of a leak is not a leak itself.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

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


def scrub(text: str, values: Iterable[str]) -> str:
    """Replace every given secret value in ``text`` with a marker."""
    for value in values:
        text = text.replace(value, "<REDACTED>")
    return text


def scan_text(text: str, where: str, env: Mapping[str, str] | None = None) -> list[Finding]:
    findings = [
        Finding(where, f"secret header {m.group(1).lower()!r}", f"line {_line(text, m.start())}")
        for m in _HEADER_LINE.finditer(text)
    ]
    for kind, pattern in KEY_PATTERNS.items():
        for m in pattern.finditer(text):
            findings.append(
                Finding(where, kind, f"line {_line(text, m.start())}: {_mask(m.group(0))}")
            )
    for value in secret_values(env):
        index = text.find(value)
        if index >= 0:
            findings.append(
                Finding(
                    where,
                    "value of a secret environment variable",
                    f"line {_line(text, index)}: {_mask(value)}",
                )
            )
    return findings


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
