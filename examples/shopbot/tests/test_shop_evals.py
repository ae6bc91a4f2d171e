"""ShopBot's golden suite: one test per golden case, replayed from cassettes/."""

from collections.abc import Callable
from typing import Any


def test_golden(supportbot_results: Any, supportbot_assert: Callable[[Any], None]) -> None:
    supportbot_assert(supportbot_results)
