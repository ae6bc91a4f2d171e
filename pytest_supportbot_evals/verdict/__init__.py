"""The verdict of a run: gate, baseline comparison, analysis, power, coverage, tokens."""
