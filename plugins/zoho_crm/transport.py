"""How every HTTP request the Zoho SDK makes gets a timeout, a pooled session and a count.

zohocrmsdk8-0 sends its requests through the module-level ``requests.get/post/put/patch/delete``
functions, as looked up in two of its modules (``util.api_http_connector`` for API calls,
``authenticator.oauth_token`` for token refreshes). Only GETs get the configured timeouts; POST,
PUT, PATCH, DELETE and the token refresh get none, so a stalled write hangs a sync forever.

The SDK offers no hook for this, so ``install`` replaces the name ``requests`` in those two SDK
modules (and nowhere else: the ``requests`` package itself is untouched) with an ``SdkRequests``
object. While a connector is inside ``SdkRequests.using(wire)`` (a context variable, so threads
and several connections stay apart), each request goes through that connector's ``Wire``: its
``requests.Session`` (connection reuse), its timeout when the SDK gave none, and its counter.
Outside such a block the object behaves exactly like the ``requests`` module.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import requests

_SDK_MODULES = (
    "zohocrmsdk.src.com.zoho.crm.api.util.api_http_connector",
    "zohocrmsdk.src.com.zoho.api.authenticator.oauth_token",
)


@dataclass
class Wire:
    """One connection's way out: session, timeout for calls the SDK sent without one, a counter."""

    timeout: float
    on_request: Callable[[str, str], None]
    session: requests.Session = field(default_factory=requests.Session)
    #: Status and headers of the latest reply: the SDK drops both when it cannot parse a body.
    last_status: int | None = None
    last_headers: dict[str, str] | None = None


class SdkRequests:
    """Stands in for the ``requests`` module inside the SDK; see the module docstring."""

    def __init__(self, real: ModuleType) -> None:
        self._real = real
        self._wire: contextvars.ContextVar[Wire | None] = contextvars.ContextVar("pmhub_zoho_wire",
                                                                                 default=None)
        #: ``Initializer.initialize`` goes through a process-wide class attribute; connections that
        #: initialise at the same time on different threads would read each other's.
        self.init_lock = threading.Lock()

    @contextmanager
    def using(self, wire: Wire) -> Iterator[None]:
        reset = self._wire.set(wire)
        try:
            yield
        finally:
            self._wire.reset(reset)

    def request(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        wire = self._wire.get()
        if wire is None:
            return self._real.request(method, url, **kwargs)
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = wire.timeout
        wire.on_request(method.upper(), url)
        reply = wire.session.request(method, url, **kwargs)
        wire.last_status, wire.last_headers = reply.status_code, dict(reply.headers)
        return reply

    def get(self, url: str, params: Any = None, **kwargs: Any) -> requests.Response:
        return self.request("GET", url, params=params, **kwargs)

    def post(self, url: str, data: Any = None, json: Any = None, **kwargs: Any) -> requests.Response:
        return self.request("POST", url, data=data, json=json, **kwargs)

    def put(self, url: str, data: Any = None, **kwargs: Any) -> requests.Response:
        return self.request("PUT", url, data=data, **kwargs)

    def patch(self, url: str, data: Any = None, **kwargs: Any) -> requests.Response:
        return self.request("PATCH", url, data=data, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> requests.Response:
        return self.request("DELETE", url, **kwargs)

    def __getattr__(self, name: str) -> Any:
        # Anything else the SDK reads from ``requests`` (exceptions, codes) is the real thing.
        return getattr(self._real, name)


def install() -> SdkRequests:
    """Put one ``SdkRequests`` into the SDK's modules (once per process) and return it."""
    import importlib

    modules = [importlib.import_module(name) for name in _SDK_MODULES]
    current = getattr(modules[0], "requests", None)
    shim = current if isinstance(current, SdkRequests) else SdkRequests(requests)
    for module in modules:
        if getattr(module, "requests", None) is not shim:
            module.requests = shim  # type: ignore[attr-defined]
    return shim
