"""Built-in github plugin: connector, default mapping and sandbox stand-in."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hub import hookimpl


@hookimpl
def register_connectors(register: Callable[[Any], None]) -> None:
    from hub.plugins import LazyConnector

    # Imported only when a config uses a github connection.
    register(LazyConnector("github", "pmhub_plugins.github.connector:GitHubConnector"))


@hookimpl
def register_sandbox_services(register: Callable[[Any], None]) -> None:
    from .sandbox import GitHubSandbox

    register(GitHubSandbox())


@hookimpl
def register_demo_steps(register: Callable[[Any], None]) -> None:
    # Only `pmhub demo` imports the steps (and, inside them, the client library).
    from . import demo

    demo.register(register)
