"""``python -m pytest_supportbot_evals.cli``: the ``evals`` command."""

import sys

from pytest_supportbot_evals.cli.main import main

sys.exit(main())
