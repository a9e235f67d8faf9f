"""Built-in trello plugin: connector, default mapping and sandbox stand-in."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hub import hookimpl


@hookimpl
def register_connectors(register: Callable[[Any], None]) -> None:
    from hub.plugins import LazyConnector

    # Imported only when a config uses a trello connection.
    register(LazyConnector("trello", "pmhub_plugins.trello.connector:TrelloConnector"))


@hookimpl
def register_sandbox_services(register: Callable[[Any], None]) -> None:
    from .sandbox import TrelloSandbox

    register(TrelloSandbox())
