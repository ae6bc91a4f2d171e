#!/usr/bin/env bash
# Create .venv with the project and its dev tools (idempotent; safe to re-run).
# The Phoenix server is NOT installed here: it lives in its own virtualenv (see README),
# which the integration tests and `supportbot serve phoenix` create on first use.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
# The plugin (root: evals_core, phoenix_delivery, pytest_supportbot_evals) and SupportBot, its
# reference agent with the dev services, a distribution of its own (packages/supportbot).
# (A venv made before the plugin's distribution was renamed drops the old name first.)
.venv/bin/python -m pip uninstall --quiet --yes pytest-supportbot-evals 2> /dev/null || true
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[dev]" -e packages/supportbot
# Byte-compile once: where PYTHONDONTWRITEBYTECODE is set, every run would otherwise re-compile
# thousands of modules (about half of a replay's wall time).
.venv/bin/python -m compileall -q -j 0 .venv/lib evals_core phoenix_delivery \
  pytest_supportbot_evals packages/supportbot > /dev/null || true
