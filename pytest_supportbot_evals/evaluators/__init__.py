"""Evaluators: the base types, the registry, built-in, user and ranking ones."""
