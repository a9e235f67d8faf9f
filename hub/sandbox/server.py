"""The sandbox WSGI app (services + ``/_sandbox`` control API) and a threaded server for it."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from hub.sandbox.deliveries import Deliveries
from hub.sandbox.service import Call, SandboxService, json_response

SEEDS = ("empty", "demo")


@dataclass
class Fault:
    """An injected failure: requests matching service, method and path fail ``times`` times."""

    service: str
    method: str = "*"
    #: Regular expression searched in the path under the service (e.g. ``/repos/.*/issues$``).
    path: str = ".*"
    status: int | None = None
    times: int = 1
    delay: float = 0.0
    drop: bool = False
    #: Apply the request, then fail the reply: the lost-response case.
    after_commit: bool = False
    retry_after: int | None = None
    #: The reply's body instead of the stand-in's error envelope: a JSON object or array is sent
    #: as JSON, a string as it is (text/plain unless ``headers`` name a Content-Type), so any
    #: real reply can be injected (GitHub's secondary-limit 403, an HTML page with status 200).
    body: Any = None
    #: Headers set on the reply, over the ones the stand-in adds (e.g. ``x-ratelimit-remaining``).
    headers: dict[str, str] | None = None
    hits: int = field(default=0)

    def matches(self, service: str, method: str, path: str) -> bool:
        return (
            self.times > self.hits
            and self.service == service
            and self.method in ("*", method)
            and re.search(self.path, path) is not None
        )


class _DropConnection(Exception):
    pass


class SandboxApp:
    """WSGI app serving every registered service under ``/<name>`` plus the control API."""

    def __init__(self, services: list[SandboxService], *, token: str | None = None,
                 seed: str = "empty") -> None:
        self.services = {service.name: service for service in services}
        self.token = token
        self.lock = threading.RLock()
        self.log: list[dict[str, Any]] = []
        self.faults: list[Fault] = []
        self.deliveries = Deliveries(self.lock)
        for service in services:
            service.deliveries = self.deliveries
        self.reset(seed)

    # -- control ---------------------------------------------------------------------------
    def reset(self, seed: str) -> None:
        if seed not in SEEDS:
            raise ValueError(f"unknown seed {seed!r}; expected one of {', '.join(SEEDS)}")
        with self.lock:
            for service in self.services.values():
                service.reset(seed)
            self.log.clear()
            self.faults.clear()
            self.deliveries.reset()

    def counts(self) -> dict[str, dict[str, int]]:
        per: dict[str, Counter[str]] = {}
        for entry in self.log:
            per.setdefault(entry["service"], Counter())[entry["method"]] += 1
        return {service: dict(counter) for service, counter in per.items()}

    def _control(self, request: Request, path: str) -> Response:
        method = request.method
        if path == "health" and method == "GET":
            return json_response({"status": "ok", "services": sorted(self.services)})
        if path == "reset" and method == "POST":
            body = request.get_json(silent=True) or {}
            try:
                self.reset(body.get("seed", "empty"))
            except ValueError as error:
                return json_response({"error": str(error)}, 400)
            return json_response({"status": "reset", "seed": body.get("seed", "empty")})
        if path == "requests":
            with self.lock:
                if method == "GET":
                    return json_response({"requests": list(self.log), "counts": self.counts()})
                if method == "DELETE":
                    self.log.clear()
                    return json_response({"status": "cleared"})
        if path == "faults":
            with self.lock:
                if method == "GET":
                    return json_response({"faults": [asdict(f) for f in self.faults]})
                if method == "DELETE":
                    self.faults.clear()
                    return json_response({"status": "cleared"})
                if method == "POST":
                    return self._add_faults(request)
        webhooks = self.deliveries.control(path, request, set(self.services))
        if webhooks is not None:
            return webhooks
        # A stand-in's own controls: /_sandbox/<service>/<name> (GitHub's content-creation limit).
        name, _, control = path.partition("/")
        if name in self.services and control:
            with self.lock:
                answer = self.services[name].control(control, request)
            if answer is not None:
                return answer
        return json_response({"error": f"no control endpoint {method} /_sandbox/{path}"}, 404)

    def _add_faults(self, request: Request) -> Response:
        body = request.get_json(silent=True)
        specs = body if isinstance(body, list) else [body]
        added = []
        for spec in specs:
            if not isinstance(spec, dict) or spec.get("service") not in self.services:
                return json_response(
                    {"error": f"fault needs a known 'service' ({', '.join(sorted(self.services))})"}, 400)
            try:
                fault = Fault(**{k: v for k, v in spec.items() if k != "hits"})
                re.compile(fault.path)
            except (TypeError, re.error) as error:
                return json_response({"error": f"bad fault {spec}: {error}"}, 400)
            if fault.status is None and not fault.drop and not fault.delay:
                return json_response({"error": "fault needs 'status', 'drop' or 'delay'"}, 400)
            problem = _envelope_problem(fault)
            if problem:
                return json_response({"error": f"bad fault {spec}: {problem}"}, 400)
            added.append(fault)
        self.faults.extend(added)
        return json_response({"faults": [asdict(f) for f in added]}, 201)

    # -- serving ---------------------------------------------------------------------------
    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        path = request.path
        if path.startswith("/_sandbox/"):
            return self._control(request, path[len("/_sandbox/"):].strip("/"))(environ, start_response)
        name, _, rest = path.lstrip("/").partition("/")
        service = self.services.get(name)
        if service is None:
            return json_response({"error": f"no sandbox service {name!r}"}, 404)(environ, start_response)
        subpath = "/" + rest
        base = request.host_url.rstrip("/") + "/" + name
        try:
            response = self._serve(service, request, subpath, base)
        except _DropConnection:
            sock = environ.get("werkzeug.socket")
            if sock is not None:
                sock.shutdown(socket.SHUT_RDWR)
            response = Response(b"", status=500)
        return response(environ, start_response)

    def _serve(self, service: SandboxService, request: Request, subpath: str, base: str) -> Response:
        with self.lock:
            fault = next((f for f in self.faults if f.matches(service.name, request.method, subpath)), None)
            if fault is not None:
                fault.hits += 1
        if fault is not None and fault.delay:
            time.sleep(fault.delay)
        if fault is not None and not fault.after_commit and (fault.status or fault.drop):
            return self._fail(service, request, subpath, base, fault)
        with self.lock:
            response = service.handle(request, subpath, base, self.token)
            self._record(service.name, request, subpath, response.status_code)
        if fault is not None and fault.after_commit:
            return self._fail(service, request, subpath, base, fault)
        return response

    def _fail(self, service: SandboxService, request: Request, subpath: str, base: str,
              fault: Fault) -> Response:
        with self.lock:
            self._record(service.name, request, subpath, 0 if fault.drop else fault.status or 0,
                         fault=True)
        if fault.drop or fault.status is None:
            raise _DropConnection
        call = Call(request, base)
        if fault.body is None:
            response = service.error(fault.status, "Injected fault", call)
        else:
            response = service.decorate(call, _reply(fault.status, fault.body))
        if fault.retry_after is not None:
            response.headers["Retry-After"] = str(fault.retry_after)
        for name, value in (fault.headers or {}).items():
            response.headers[name] = value
        return response

    def _record(self, service: str, request: Request, subpath: str, status: int,
                fault: bool = False) -> None:
        entry: dict[str, Any] = {
            "service": service, "method": request.method, "path": subpath,
            "query": request.query_string.decode("latin-1"), "status": status,
            "at": time.time(),  # when it was answered (spacing of writes across processes)
        }
        if fault:
            entry["fault"] = True
        self.log.append(entry)


def _envelope_problem(fault: Fault) -> str | None:
    """What is wrong with a fault's ``body`` / ``headers``, or None."""
    if fault.body is not None and not isinstance(fault.body, (str, dict, list)):
        return "'body' must be a JSON object or array, or a string"
    if fault.body is not None and fault.status is None:
        return "'body' needs a 'status'"
    if fault.headers is not None and not (
            isinstance(fault.headers, dict)
            and all(isinstance(k, str) and isinstance(v, str) for k, v in fault.headers.items())):
        return "'headers' must map names to strings"
    return None


def _reply(status: int, body: str | dict[str, Any] | list[Any]) -> Response:
    if isinstance(body, str):
        return Response(body, status=status, mimetype="text/plain")
    return json_response(body, status)


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass

    def log_error(self, *args: Any) -> None:
        pass


class SandboxServer:
    """Serve a ``SandboxApp`` from a background thread: ``with SandboxServer(app) as s: s.url``."""

    def __init__(self, app: SandboxApp, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app = app
        self._server: BaseWSGIServer = make_server(
            host, port, app, threaded=True, request_handler=_QuietHandler)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        # werkzeug's port is the bound one: the OS's pick when port 0 was asked for.
        return f"http://{self._server.host}:{self._server.port}"

    def start(self) -> SandboxServer:
        self._thread = threading.Thread(target=self._server.serve_forever, name="pmhub-sandbox",
                                        daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._server.serve_forever()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        # Tests may serve a wrapper of the app (a request recorder), which has no deliveries.
        deliveries = getattr(self.app, "deliveries", None)
        if deliveries is not None:
            deliveries.stop()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def build_sandbox(*, token: str | None = None, seed: str = "empty",
                  services: list[SandboxService] | None = None) -> SandboxApp:
    """The app with every service the installed plugins register (or the ones given)."""
    if services is None:
        from hub.plugins import build_plugin_manager

        services = build_plugin_manager().sandbox_services()
    return SandboxApp(services, token=token, seed=seed)
