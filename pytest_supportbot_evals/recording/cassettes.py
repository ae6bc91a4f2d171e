"""vcrpy cassettes for golden cases: strict matching, no secrets, atomic writes, readable misses.

Unlike vcrpy's and pytest-recording's defaults, requests match on their canonical JSON *body*:
a changed prompt must miss the old recording, never replay the old answer. The host and port
are not matched, because the local server that recorded a cassette runs on any free port.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_supportbot_evals.recording import _recorder as _filters
from pytest_supportbot_evals.recording import _seal as seal
from pytest_supportbot_evals.recording import secrets
from pytest_supportbot_evals.recording._recorder import (
    MATCH_ON,
    VOLATILE_FIELDS,
    canonical_body,
    rerecord_command,
)
from pytest_supportbot_evals.recording.files import write_atomic
from pytest_supportbot_evals.run import steps

RECORD_MODES = ("none", "once", "new_episodes", "all", "rewrite")
__all__ = [
    "MATCH_ON",
    "RECORD_MODES",
    "VOLATILE_FIELDS",
    "AtomicPersister",
    "CassetteError",
    "CassetteUse",
    "canonical_body",
    "check_seal",
    "rerecord_command",
    "reseal",
    "use_cassette",
]


class CassetteError(RuntimeError):
    """A cassette cannot be read or does not match the requests of its golden case."""


@dataclass
class CassetteUse:
    """What happened to one cassette during one case."""

    path: Path
    misses: list[Any] = field(default_factory=list)
    cassette: Any = None
    #: Set when a recording went wrong (server error, crash): the cassette is then not written,
    #: so the previous recording stays intact.
    discard: bool = False
    #: How many interactions the cassette held when it was opened (those recorded before).
    loaded: int = 0

    def recorded(self) -> list[tuple[Any, Any]]:
        """The (request, response) pairs recorded during this use (not loaded from the file)."""
        c = self.cassette
        return [] if c is None else list(c.data[self.loaded :])

    @property
    def unplayed(self) -> int:
        """Recorded interactions this run did not use (stale recordings)."""
        c = self.cassette
        if c is None or c.record_mode in ("all",):
            return 0
        return sum(1 for i in range(self.loaded) if not c.play_counts[i])


class AtomicPersister:
    """Writes cassettes via a temp file and rename, after a secrets scan of the exact text, with
    a seal of their interactions; checks the seal when it loads one (see ``seal``)."""

    @classmethod
    def load_cassette(cls, cassette_path: str | Path, serializer: Any) -> Any:
        """Load, or say clearly why not. vcrpy would treat an undecodable cassette as empty
        and could then overwrite it; here it is an error, so nothing recorded is lost."""
        from vcr.persisters.filesystem import CassetteNotFoundError, FilesystemPersister

        path = Path(cassette_path)
        try:
            loaded = FilesystemPersister.load_cassette(path, serializer)
        except CassetteNotFoundError:
            raise
        except Exception as exc:
            raise CassetteError(_unreadable(path, exc)) from None
        if _VERIFY_SEAL.get():
            requests, responses, *rest = loaded
            found = seal.problems(path, requests, responses, rest[0] if rest else None)
            if found:
                raise CassetteError(seal.explain(path, found))
        return loaded

    @staticmethod
    def save_cassette(cassette_path: str | Path, cassette_dict: Any, serializer: Any) -> None:
        """Write it; an error is kept for ``use_cassette`` to raise once vcrpy has left the
        cassette (raised inside vcrpy's exit, it can leave vcrpy's patching of the HTTP client
        behind, and later recordings in the process would go to the wrong cassette)."""
        holder = _SAVE_ERROR.get()
        try:
            AtomicPersister._save(Path(cassette_path), cassette_dict, serializer)
        except Exception as exc:
            if holder is None:
                raise
            holder.append(exc)

    @staticmethod
    def _save(cassette_path: Path, cassette_dict: Any, serializer: Any) -> None:
        from vcr.serialize import serialize

        # The bodies as a replay reads them too, not only as YAML renders them (escaped, wrapped).
        for request, response in zip(
            cassette_dict["requests"], cassette_dict["responses"], strict=True
        ):
            for body in (request.body, response.get("body", {}).get("string")):
                if body:
                    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
                    secrets.ensure_clean(text, str(cassette_path))
        metadata = dict(cassette_dict.get("metadata") or {})
        metadata.pop(seal.LEGACY_SEAL_KEY, None)
        metadata[seal.SEAL_KEY] = seal.seal(cassette_dict["requests"], cassette_dict["responses"])
        sealed = {**cassette_dict, "metadata": metadata}
        write_atomic(Path(cassette_path), serialize(sealed, serializer))


#: Whether loading a cassette checks its seal: always, except when it is being re-recorded from
#: scratch (``rewrite``: nothing of the old recording is kept).
_VERIFY_SEAL: ContextVar[bool] = ContextVar("evals_verify_seal", default=True)
#: Where ``save_cassette`` leaves its error while vcrpy leaves the cassette (``use_cassette``).
_SAVE_ERROR: ContextVar[list[BaseException] | None] = ContextVar("evals_save_error", default=None)


def _load_unverified(path: Path) -> tuple[list[Any], list[Any], Any]:
    from vcr.serializers import yamlserializer

    token = _VERIFY_SEAL.set(False)
    try:
        requests, responses, *rest = AtomicPersister.load_cassette(path, yamlserializer)
    finally:
        _VERIFY_SEAL.reset(token)
    return requests, responses, rest[0] if rest else None


def check_seal(path: Path) -> list[str]:
    """What in ``path`` does not match its seal (``[]`` when intact)."""
    return seal.problems(path, *_load_unverified(path))


def reseal(path: Path) -> int:
    """Seal the interactions ``path`` holds now (a deliberate edit); return how many."""
    from vcr.serializers import yamlserializer

    requests, responses, metadata = _load_unverified(path)
    data = {"requests": requests, "responses": responses, "metadata": metadata or {}}
    AtomicPersister.save_cassette(path, data, yamlserializer)
    return len(requests)


def _unreadable(path: Path, exc: BaseException) -> str:
    return (
        f"Cassette {path} cannot be read ({type(exc).__name__}: {str(exc)[:200]}). It was "
        "truncated, edited by hand or written by another vcrpy version. Re-record it: "
        f"{rerecord_command([path.stem])}"
    )


@functools.cache
def _recorder() -> Any:
    return _filters.build(AtomicPersister)


@contextmanager
def use_cassette(
    path: Path, record_mode: str, ignore_hosts: tuple[str, ...] = ()
) -> Iterator[CassetteUse]:
    """Replay (or record) every HTTP call of one golden case from ``path``.

    ``ignore_hosts`` pass through untouched (e.g. a local Phoenix reached inside the block).
    """
    if record_mode not in RECORD_MODES:
        raise CassetteError(f"Unknown record mode {record_mode!r}; use one of {RECORD_MODES}.")
    recorder = _recorder()
    if record_mode == "rewrite":
        mode, drop_unused = "all", True
    else:
        mode, drop_unused = record_mode, False
    if record_mode in ("none", "new_episodes") and _blank(path):
        raise CassetteError(
            f"Cassette {path} is empty (no recording in it, not even a header): empty cassette, "
            f"re-record it: {rerecord_command([path.stem])}"
        )
    use = CassetteUse(path)
    token: Any = _VERIFY_SEAL.set(record_mode != "rewrite")
    errors: list[BaseException] = []
    error_token = _SAVE_ERROR.set(errors)
    try:
        with (
            _filters.secret_values(),
            recorder.use_cassette(
                str(path),
                record_mode=mode,
                match_on=MATCH_ON,
                drop_unused_requests=drop_unused,
                ignore_hosts=ignore_hosts,
            ) as cassette,
        ):
            _VERIFY_SEAL.reset(token)
            token = None
            use.cassette, use.loaded = cassette, len(cassette.data)
            original = cassette.can_play_response_for

            def can_play(request: Any) -> bool:
                playable = original(request)
                # The same test vcrpy makes before refusing a request (ignored hosts pass).
                if not playable and cassette.write_protected and cassette.filter_request(request):
                    use.misses.append(steps.tag(request))
                return playable

            cassette.can_play_response_for = can_play
            yield use
            if use.discard:
                cassette.dirty = False  # vcrpy writes only a dirty cassette
        if errors:  # vcrpy has left the cassette; now the save's error (e.g. a secret) is raised
            raise errors[0]
    finally:
        _SAVE_ERROR.reset(error_token)
        if token is not None:
            _VERIFY_SEAL.reset(token)


def _blank(path: Path) -> bool:
    """An existing cassette file with nothing but whitespace (vcrpy reads it as "no cassette")."""
    try:
        with path.open("rb") as handle:
            return not handle.read(4096).strip() and path.stat().st_size <= 4096
    except OSError:
        return False
