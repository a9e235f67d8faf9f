"""Built-in reference plugin: the SQLite-backed connector pmhub's own tests and benchmark sync with."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hub import hookimpl


@hookimpl
def register_connectors(register: Callable[[Any], None]) -> None:
    from hub.plugins import LazyConnector

    register(LazyConnector("reference", "hub.testing.reference:ReferenceConnector"))
