"""The plugin's one door to SupportBot (``run/reference.py``): without the ``supportbot``
distribution it says what to do instead of a bare ImportError."""

import sys

import pytest

from pytest_supportbot_evals.run import reference


def not_installed(monkeypatch, package):
    """Importing ``package`` or any module of it now fails as if it were not installed (also
    when an earlier test imported it)."""
    for name in [package, *(m for m in sys.modules if m.startswith(package + "."))]:
        monkeypatch.setitem(sys.modules, name, None)


def test_a_missing_supportbot_is_one_clear_error(monkeypatch):
    not_installed(monkeypatch, "supportbot")
    with pytest.raises(reference.ReferenceAgentMissing) as caught:
        reference.make_bot(None, None)
    message = str(caught.value)
    assert "evals_agent" in message and "packages/supportbot" in message
    assert "\n" not in message


def test_a_missing_devservices_is_one_clear_error(monkeypatch):
    not_installed(monkeypatch, "devservices")
    missing = pytest.raises(reference.ReferenceAgentMissing, match=r"devservices")
    with missing, reference.local_llm():
        pass


def test_another_missing_module_is_not_mistaken_for_supportbot():
    with pytest.raises(ModuleNotFoundError, match="no_such_module"), reference._needs_supportbot():
        import no_such_module  # noqa: F401
