"""Tools for testing pmhub and its plugins: the reference connector, the contract kit and the
sandbox fixtures (``pytest`` loads ``hub.testing.pytest_plugin`` automatically)."""
