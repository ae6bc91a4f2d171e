"""The plugin's settings: options, ini keys, the agent's configuration and contract."""
