#!/usr/bin/env bash
# Create .venv with the project and its dev tools (idempotent; safe to re-run).
# The Phoenix server is NOT installed here: it lives in its own virtualenv (see README),
# which the integration tests and `supportbot serve phoenix` create on first use.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[dev]"
# Byte-compile once: where PYTHONDONTWRITEBYTECODE is set, every run would otherwise re-compile
# thousands of modules (about half of a replay's wall time).
.venv/bin/python -m compileall -q -j 0 .venv/lib supportbot pytest_supportbot_evals > /dev/null || true
