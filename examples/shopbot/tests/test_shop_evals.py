"""ShopBot's golden suite: one test per golden case, replayed from cassettes/."""


def test_golden(supportbot_results, supportbot_assert):
    supportbot_assert(supportbot_results)
