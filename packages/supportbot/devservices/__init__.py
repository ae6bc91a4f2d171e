"""Local services for development and tests: a llama.cpp server and ``phoenix serve``.

Each runs in a virtualenv of its own, on a free loopback port, health-checked and cleaned up
afterwards; ``supportbot serve phoenix|llm`` runs one in the foreground.
"""
