"""pytest-supportbot-evals: LLM evaluations of a traced agent as pytest regression tests.

The pytest plugin is ``pytest_supportbot_evals.plugin`` (entry point ``supportbot_evals``).
"""

__version__ = "0.1.0"
