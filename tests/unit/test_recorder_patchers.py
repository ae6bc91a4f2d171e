"""Entering a cassette patches every installed HTTP library and searches for no absent one.

vcrpy imports each library it can patch on every cassette entry; an absent one is searched for
on the whole ``sys.path`` each time. The recorder skips those once per process, and still
refuses a request it has no recording for, whichever installed library sends it.
"""

from __future__ import annotations

import http.client
import importlib.abc
import sys
from pathlib import Path

import httpx2
import pytest
import requests
from vcr.errors import CannotOverwriteExistingCassetteException

from pytest_supportbot_evals.recording import _recorder
from pytest_supportbot_evals.recording.cassettes import use_cassette

ROOT = Path(__file__).resolve().parents[2]
#: A recorded golden's cassette (any will do: nothing in it is asked for here).
CASSETTE = ROOT / "cassettes" / "tutorial-refund.yaml"


class _Searches(importlib.abc.MetaPathFinder):
    """Notes every top-level module an import statement searches for (finds nothing itself)."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def find_spec(self, name, path=None, target=None):
        self.names.append(name.partition(".")[0])
        return None


def test_only_libraries_that_are_not_installed_are_skipped():
    skipped = _recorder.absent_patchers()
    for group, library in _recorder._PATCHED_LIBRARIES.items():
        assert (group in skipped) is (not _recorder._installed(library)), group
    # the SDK's transport and the usual clients are here, so they are always patched
    assert not {"httpx2", "requests", "urllib3"} & set(skipped)


def test_entering_a_cassette_searches_for_no_absent_library():
    absent = {lib for lib in _recorder._PATCHED_LIBRARIES.values() if not _recorder._installed(lib)}
    if not absent:
        pytest.skip("every library vcrpy patches is installed here")
    with use_cassette(CASSETTE, "none"):  # the first use imports vcrpy (it looks for them once)
        pass
    searches = _Searches()
    sys.meta_path.insert(0, searches)
    try:
        for _ in range(3):
            with use_cassette(CASSETTE, "none"):
                pass
    finally:
        sys.meta_path.remove(searches)
    assert not absent & set(searches.names)


@pytest.mark.parametrize("client", ["httpx2", "requests", "http.client"])
def test_an_unrecorded_request_is_refused_by_every_installed_client(client):
    url = "http://127.0.0.1:9/v1/not-recorded"
    with (
        use_cassette(CASSETTE, "none") as use,
        pytest.raises(CannotOverwriteExistingCassetteException),
    ):
        if client == "httpx2":
            httpx2.post(url, json={"x": 1})
        elif client == "requests":
            requests.post(url, json={"x": 1}, timeout=5)
        else:
            connection = http.client.HTTPConnection("127.0.0.1", 9, timeout=5)
            connection.request("POST", "/v1/not-recorded", body=b'{"x": 1}')
            connection.getresponse()
    assert use.misses, "the refused request is named as a miss"
