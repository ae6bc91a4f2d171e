"""Reports of a run: the JSON/Markdown report and JUnit properties."""
