"""ShopBot's golden suite: one test per golden case, replayed from cassettes/."""

from collections.abc import Callable
from typing import Any


def test_golden(evals_results: Any, evals_assert: Callable[[Any], None]) -> None:
    evals_assert(evals_results)
