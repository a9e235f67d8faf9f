"""Built-in zoho_crm plugin: connector, default mapping and sandbox stand-in."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hub import hookimpl


@hookimpl
def register_connectors(register: Callable[[type[Any]], None]) -> None:
    # The connector module imports no SDK at import time; open() does.
    from pmhub_plugins.zoho_crm.connector import ZohoCrmConnector

    register(ZohoCrmConnector)


@hookimpl
def register_sandbox_services(register: Callable[[Any], None]) -> None:
    from pmhub_plugins.zoho_crm.sandbox import ZohoCrmSandbox

    register(ZohoCrmSandbox())
