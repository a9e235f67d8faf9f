"""Built-in zoho_crm plugin: connector, default mapping and sandbox stand-in."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hub import hookimpl


@hookimpl
def register_connectors(register: Callable[[Any], None]) -> None:
    from hub.plugins import LazyConnector

    # Imported only when a config uses a zoho_crm connection; the SDK only in open().
    register(LazyConnector("zoho_crm", "pmhub_plugins.zoho_crm.connector:ZohoCrmConnector"))


@hookimpl
def register_sandbox_services(register: Callable[[Any], None]) -> None:
    from .sandbox import ZohoCrmSandbox

    register(ZohoCrmSandbox())


@hookimpl
def register_demo_steps(register: Callable[[Any], None]) -> None:
    # Only `pmhub demo` imports the steps (and, inside them, the client library).
    from . import demo

    demo.register(register)
