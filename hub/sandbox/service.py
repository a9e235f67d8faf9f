"""Base class of a sandbox stand-in: routing, JSON helpers, auth hook, error envelope hook."""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

if TYPE_CHECKING:
    from hub.sandbox.deliveries import Deliveries, Delivery

Endpoint = Callable[..., Response]


def route(path: str, methods: tuple[str, ...] = ("GET",)) -> Callable[[Endpoint], Endpoint]:
    """Mark a service method as the handler of ``path`` (werkzeug rule syntax) under the service."""

    def mark(fn: Endpoint) -> Endpoint:
        fn.__dict__.setdefault("_sandbox_routes", []).append((path, methods))
        return fn

    return mark


class BadPayload(Exception):
    """Raised by handlers for malformed input; answered with the service's own error envelope."""

    def __init__(self, status: int, message: str, **details: Any) -> None:
        super().__init__(message)
        self.status, self.message, self.details = status, message, details


@dataclass
class Call:
    """One request as a handler sees it."""

    request: Request
    #: The service's root URL as the client sees it, e.g. ``http://127.0.0.1:8400/github``.
    base: str

    @property
    def args(self) -> Any:
        return self.request.args

    def json(self) -> Any:
        """The JSON body, or BadPayload(400) naming the problem."""
        raw = self.request.get_data(cache=True)
        if not raw:
            raise BadPayload(400, "Request body is empty")
        try:
            return json.loads(raw)
        except ValueError as error:
            raise BadPayload(400, f"Problems parsing JSON: {error}") from None

    def form_or_json(self) -> dict[str, Any]:
        if self.request.mimetype == "application/json":
            body = self.json()
            return body if isinstance(body, dict) else {}
        return {k: v for k, v in self.request.values.items()}


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        json.dumps(data, separators=(",", ":")), status=status, headers=headers,
        mimetype="application/json",
    )


class SandboxService(ABC):
    """A stateful stand-in of one tool's API, mounted under ``/<name>``.

    Subclasses keep their state in plain attributes (the server serialises requests with a lock),
    declare handlers with ``@route``, and implement ``reset``, ``error`` and ``authorized``.
    """

    name: ClassVar[str]
    #: The sandbox's webhook delivery queue (``SandboxApp`` sets it); None: deliveries are off.
    deliveries: Deliveries | None = None

    def __init__(self) -> None:
        rules = []
        for attr in dir(type(self)):
            fn = getattr(type(self), attr)
            for path, methods in getattr(fn, "_sandbox_routes", ()):
                rules.append(Rule(path, endpoint=attr, methods=list(methods)))
        self.url_map = Map(rules, strict_slashes=False, merge_slashes=False)
        self.reset("empty")

    @abstractmethod
    def reset(self, seed: str) -> None:
        """Drop all state and load ``seed`` ("empty" or "demo")."""

    @abstractmethod
    def error(self, status: int, message: str, call: Call | None = None) -> Response:
        """The tool's real error reply for ``status`` (its envelope, its headers)."""

    @abstractmethod
    def authorized(self, call: Call, token: str) -> bool:
        """Does the request carry ``token`` the way this tool's clients send credentials?"""

    def decorate(self, call: Call, response: Response) -> Response:
        """Add the headers this tool puts on every reply (rate-limit counters, request ids) to a
        reply the stand-in did not make itself (an injected fault's body). Default: none."""
        return response

    def control(self, name: str, request: Request) -> Response | None:
        """Answer the sandbox-only control ``/_sandbox/<service>/<name>`` (e.g. switching a limit
        on), or None when this stand-in has no control of that name. Default: none."""
        return None

    def deliver(self, delivery: Delivery) -> None:
        """Send ``delivery`` to its hook in the background (nothing when deliveries are off)."""
        if self.deliveries is not None:
            self.deliveries.send(delivery)

    def handle(self, request: Request, subpath: str, base: str, token: str | None) -> Response:
        call = Call(request, base)
        if token is not None and not self.authorized(call, token):
            return self.error(401, "Bad credentials", call)
        adapter = self.url_map.bind("sandbox", path_info=subpath, url_scheme="http")
        try:
            endpoint, values = adapter.match(method=request.method)
        except NotFound:
            return self.error(404, "Not Found", call)
        except MethodNotAllowed:
            return self.error(405, "Method Not Allowed", call)
        try:
            return getattr(self, endpoint)(call, **values)
        except BadPayload as bad:
            return self.error(bad.status, bad.message, call)
