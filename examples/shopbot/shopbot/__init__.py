"""ShopBot: an electronics shop's assistant (warranty checks and shop policies).

An example of a team's own agent gated by the evals plugin through the documented agent
contract only; it shares no name with SupportBot.
"""
