"""Cassettes: recording, replay, seals, secret scanning, misses and reply health."""
