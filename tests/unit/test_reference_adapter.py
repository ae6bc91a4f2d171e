"""The plugin's one door to SupportBot (``run/reference.py``): without the ``supportbot``
distribution it says what to do instead of a bare ImportError."""

import sys

import pytest

from pytest_supportbot_evals.run import reference


@pytest.mark.parametrize("module", ["supportbot", "supportbot.agent"])
def test_a_missing_supportbot_is_one_clear_error(monkeypatch, module):
    monkeypatch.setitem(sys.modules, module, None)  # importing it now fails as if not installed
    with pytest.raises(reference.ReferenceAgentMissing) as caught:
        reference.make_bot(None, None)
    message = str(caught.value)
    assert "evals_agent" in message and "packages/supportbot" in message
    assert "\n" not in message


def test_a_missing_devservices_is_one_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "devservices.llm_server", None)
    missing = pytest.raises(reference.ReferenceAgentMissing, match=r"devservices\.llm_server")
    with missing, reference.local_llm():
        pass


def test_another_missing_module_is_not_mistaken_for_supportbot():
    with pytest.raises(ModuleNotFoundError, match="no_such_module"), reference._needs_supportbot():
        import no_such_module  # noqa: F401
