"""The golden eval suite: one test per case in tests/goldens/, replayed from cassettes/.

Each test runs SupportBot on its golden query (or, for a conversation, on each of its turns in
one session), applies the judges to the child spans and
checks the golden's expectations. A missed expectation is counted against the pass-rate gate
(shown as MISSED); a stale cassette or a crash fails the test. The session fails when an
evaluator's pass rate falls below its threshold (pyproject.toml, [tool.pytest.ini_options]).
"""


def test_golden(evals_results, evals_assert):
    evals_assert(evals_results)
