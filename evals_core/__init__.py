"""The neutral foundation shared by an agent, the Phoenix delivery package and the pytest plugin:
the span view, judges and their verdicts, settings, atomic files, tracing helpers, prompt
loading and fingerprints. It imports none of them."""
