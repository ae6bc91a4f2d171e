"""The vcrpy recorder behind ``cassettes.use_cassette``: requests match on their canonical JSON
body, credentials and secret values never reach a recording, and replay does no work twice.

vcrpy passes every request through its ``before_record_request`` filters about four times (to
test whether a recording can answer it, to find the recording, to play it; once per loaded
interaction), deep-copying the request before each pass, and its matcher parses both bodies for
every comparison. Here a request is scrubbed and tagged once, in place (vcrpy's request object
is built for this one call; the HTTP request sent is another object), and is then marked as
filtered; a body's canonical form is computed once; the secret values are read from the
environment once per cassette use (``secret_values``), not per filter pass.

vcrpy also tries to import every HTTP library it can patch each time a cassette is entered;
an absent one is searched for on the whole ``sys.path`` (through pytest's import hook) again
and again. The recorder skips the patchers of libraries that are not installed, found once per
process (vcrpy could not patch a library installed later anyway: it keeps the originals it
patches from its own first import).
"""

from __future__ import annotations

import functools
import importlib.util
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from pytest_supportbot_evals.recording import secrets
from pytest_supportbot_evals.run import steps

#: Request-body fields that vary between otherwise identical calls; not matched.
VOLATILE_FIELDS = ("user", "metadata", "stream_options", "service_tier")
MATCH_ON = ("method", "path", "query", "supportbot_body")
#: Set on a vcrpy request once it has been scrubbed and tagged.
_FILTERED = "_supportbot_filtered"
_SECRET_VALUES: ContextVar[list[str] | None] = ContextVar("supportbot_secret_values", default=None)


def canonical_body(body: bytes | str | None) -> Any:
    if body is None or body == b"" or body == "":
        return None
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return text
    if isinstance(data, dict):
        data = {k: v for k, v in data.items() if k not in VOLATILE_FIELDS}
    return data


#: The canonical form of the bodies compared lately (a replayed request is compared with every
#: recorded one, twice): computed once per body. Read only; never handed out.
_canonical = functools.lru_cache(maxsize=512)(canonical_body)


def canonical_of(body: Any) -> Any:
    """``canonical_body``, computed once per body text (the seal and the matcher both ask);
    the result is shared: read it, never change it."""
    return _canonical(body) if isinstance(body, bytes | str | None) else canonical_body(body)


def body_matcher(r1: Any, r2: Any) -> None:
    b1, b2 = r1.body, r2.body
    if b1 is b2 or b1 == b2:
        return
    if canonical_of(b1) != canonical_of(b2):
        raise AssertionError("request bodies differ")


@contextmanager
def secret_values() -> Iterator[list[str]]:
    """The secret values of the environment, read once for the requests of this block."""
    values = secrets.secret_values()
    token = _SECRET_VALUES.set(values)
    try:
        yield values
    finally:
        _SECRET_VALUES.reset(token)


def _values() -> list[str]:
    values = _SECRET_VALUES.get()
    return secrets.secret_values() if values is None else values


def scrub_request(request: Any) -> Any:
    """Drop credential headers, scrub secret values from the body, name the step; once."""
    if getattr(request, _FILTERED, False):
        return request
    steps.tag(request)  # which step sent it, for misses and health checks (not matched)
    for name in list(request.headers):
        if name.lower() in secrets.SECRET_HEADERS:
            del request.headers[name]
    values = _values()
    if values and request.body:
        body = request.body
        text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
        request.body = secrets.scrub(text, values).encode("utf-8")
    setattr(request, _FILTERED, True)
    return request


def scrub_response(response: dict[str, Any]) -> dict[str, Any]:
    drop = set(secrets.SECRET_HEADERS) | set(secrets.ACCOUNT_HEADERS)
    response["headers"] = {
        k: v for k, v in response.get("headers", {}).items() if k.lower() not in drop
    }
    values = _values()
    body = response.get("body", {}).get("string")
    if values and body:
        text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
        response["body"]["string"] = secrets.scrub(text, values).encode("utf-8")
    return response


#: vcrpy's patcher groups (``skip_patchers`` names) and the library each one patches.
_PATCHED_LIBRARIES = {
    "requests": "requests",
    "boto3": "botocore",
    "urllib3": "urllib3",
    "httplib2": "httplib2",
    "tornado": "tornado",
    "aiohttp": "aiohttp",
    "httpx": "httpx",
    "httpx2": "httpx2",
}


def _installed(module: str) -> bool:
    if sys.modules.get(module) is not None:
        return True
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def absent_patchers() -> tuple[str, ...]:
    """vcrpy's patcher groups whose library is not installed (nothing there to patch)."""
    return tuple(group for group, lib in _PATCHED_LIBRARIES.items() if not _installed(lib))


def build(persister: Any) -> Any:
    """A vcrpy ``VCR`` with the filters above, run once per request and without copies."""
    import vcr

    class Recorder(vcr.VCR):  # type: ignore[misc]
        def _build_before_record_request(self, options: dict[str, Any]) -> Any:
            ignored = frozenset(options.get("ignore_hosts", self.ignore_hosts))

            def before_record_request(request: Any) -> Any:
                if ignored and request.host in ignored:
                    return None  # passes through untouched, never recorded
                return scrub_request(request)

            return before_record_request

    recorder = Recorder(
        before_record_response=scrub_response,
        decode_compressed_response=True,
        record_on_exception=False,
        skip_patchers=absent_patchers(),
    )
    recorder.register_persister(persister)
    recorder.register_matcher("supportbot_body", body_matcher)
    return recorder


def rerecord_command(case_ids: list[str]) -> str:
    return "evals record " + " ".join(sorted(case_ids))
