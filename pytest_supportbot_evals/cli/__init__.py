"""The ``evals`` command line (also ``supportbot-evals``)."""
