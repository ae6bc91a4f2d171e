"""Running golden cases: the session, fixtures, marker, goldens, runner and results."""
