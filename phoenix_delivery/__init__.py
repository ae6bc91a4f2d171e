"""Delivering spans and span annotations to Phoenix through a spool (nothing lost, nothing doubled).

Used by the agent's CLI (``supportbot``) and by the pytest plugin.
"""
