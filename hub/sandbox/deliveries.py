"""Webhook deliveries of the stand-ins: one background thread per sandbox, with injectable faults.

A stand-in that holds a registered hook turns each write into a ``Delivery`` (the tool's real
payload, headers and signature, plus a forged copy for the bad-signature fault) and hands it to
``Deliveries.send``; the write's reply never waits for it. The worker thread starts with the first
delivery, so a sandbox without hooks runs none. Deliveries go only to loopback URLs: a hook
pointing anywhere else is kept (the tools accept any URL) and its deliveries are logged as skipped.

Control API (under ``/_sandbox``):
- ``POST webhook-faults`` ``{"service", "mode", "times": 1, "delay": 1.0}`` (or a list of them),
  ``GET`` lists them, ``DELETE`` clears them. Modes, each for the next ``times`` deliveries of
  that service: ``drop`` (never sent), ``duplicate`` (sent twice, same delivery id),
  ``delay`` (sent ``delay`` seconds late on a timer of its own, so later ones overtake it),
  ``reorder`` (held back and sent right after the next delivery, or after ``delay`` seconds when
  none follows), ``bad_signature`` (the forged copy: a signature made with the wrong key, or for
  Zoho the wrong token).
- ``GET webhook-deliveries``: what was attempted (service, event, url, status, fault) and how many
  are still queued; ``DELETE`` clears the log.
"""

from __future__ import annotations

import datetime as dt
import http.client
import ipaddress
import queue
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import urlsplit

from werkzeug.wrappers import Request, Response

from hub.sandbox.service import json_response

FAULT_MODES = ("drop", "duplicate", "delay", "reorder", "bad_signature")
#: Real tools give up on a receiver after about ten seconds (GitHub: 10 s).
SEND_TIMEOUT = 10.0
#: How long a reordered delivery waits for one to overtake it before going anyway.
REORDER_WAIT = 1.0


@dataclass
class Delivery:
    """One HTTP request a tool makes to a registered hook."""

    service: str
    #: What it is about, for the log (``issues.opened``, ``jira:issue_updated``, ``updateCard``).
    event: str
    url: str
    body: bytes
    headers: dict[str, str]
    #: The same delivery with a wrong signature (headers and/or body), for ``bad_signature``.
    forged_headers: dict[str, str] | None = None
    forged_body: bytes | None = None
    method: str = "POST"
    #: Told the receiver's status (None: no answer) and a short reason, under the sandbox's lock:
    #: GitHub's ``last_response`` and Trello's ``consecutiveFailures`` come from it.
    on_result: Callable[[int | None, str], None] | None = None

    def forged(self) -> Delivery:
        return Delivery(self.service, self.event, self.url, self.forged_body or self.body,
                        self.forged_headers or self.headers, method=self.method,
                        on_result=self.on_result)


@dataclass
class DeliveryFault:
    service: str
    mode: str
    times: int = 1
    delay: float = 1.0
    hits: int = field(default=0)


def is_loopback(url: str) -> bool:
    """Does ``url`` name this machine (127.0.0.0/8, ::1, localhost)?"""
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Deliveries:
    """The sandbox's delivery queue, worker thread, faults and log."""

    def __init__(self, lock: threading.RLock) -> None:
        #: The sandbox's lock: result callbacks change stand-in state under it.
        self.lock = lock
        self.faults: list[DeliveryFault] = []
        self.log: list[dict[str, Any]] = []
        self._queue: queue.Queue[Delivery | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._held: Delivery | None = None
        self._in_flight = 0

    # -- what stand-ins call ---------------------------------------------------------------
    def send(self, delivery: Delivery) -> None:
        """Queue ``delivery``; it goes out from the worker thread."""
        with self.lock:
            self._in_flight += 1
            if self._thread is None:
                self._thread = threading.Thread(target=self._work, name="pmhub-sandbox-webhooks",
                                                daemon=True)
                self._thread.start()
        self._queue.put(delivery)

    def reset(self) -> None:
        with self.lock:
            self.faults.clear()
            self.log.clear()

    def stop(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout=SEND_TIMEOUT + 1)
            self._thread = None

    # -- control API -----------------------------------------------------------------------
    def control(self, path: str, request: Request, services: set[str]) -> Response | None:
        if path == "webhook-faults":
            with self.lock:
                if request.method == "GET":
                    return json_response({"faults": [asdict(f) for f in self.faults]})
                if request.method == "DELETE":
                    self.faults.clear()
                    return json_response({"status": "cleared"})
                if request.method == "POST":
                    return self._add_faults(request, services)
        if path == "webhook-deliveries":
            with self.lock:
                if request.method == "GET":
                    return json_response({"deliveries": list(self.log), "pending": self._in_flight})
                if request.method == "DELETE":
                    self.log.clear()
                    return json_response({"status": "cleared"})
        return None

    def _add_faults(self, request: Request, services: set[str]) -> Response:
        body = request.get_json(silent=True)
        specs = body if isinstance(body, list) else [body]
        added = []
        for spec in specs:
            if not isinstance(spec, dict) or spec.get("service") not in services:
                return json_response({"error": f"a webhook fault needs a known 'service' "
                                      f"({', '.join(sorted(services))})"}, 400)
            if spec.get("mode") not in FAULT_MODES:
                return json_response({"error": f"'mode' is one of {', '.join(FAULT_MODES)}"}, 400)
            try:
                fault = DeliveryFault(**{k: v for k, v in spec.items() if k != "hits"})
            except TypeError as error:
                return json_response({"error": f"bad webhook fault {spec}: {error}"}, 400)
            if not isinstance(fault.times, int) or fault.times < 1 or not isinstance(
                    fault.delay, (int, float)) or fault.delay < 0:
                return json_response({"error": "'times' is a positive integer, 'delay' seconds >= 0"}, 400)
            added.append(fault)
        self.faults.extend(added)
        return json_response({"faults": [asdict(f) for f in added]}, 201)

    # -- the worker ------------------------------------------------------------------------
    def _fault_for(self, delivery: Delivery) -> DeliveryFault | None:
        with self.lock:
            for fault in self.faults:
                if fault.service == delivery.service and fault.hits < fault.times:
                    fault.hits += 1
                    return fault
        return None

    def _work(self) -> None:
        while True:
            try:
                delivery = self._queue.get(timeout=REORDER_WAIT if self._held is not None else None)
            except queue.Empty:
                held, self._held = self._held, None
                if held is not None:
                    self._post(held, "reorder")
                continue
            if delivery is None:
                return
            self._dispatch(delivery)

    def _dispatch(self, delivery: Delivery) -> None:
        fault = self._fault_for(delivery)
        mode = fault.mode if fault is not None else None
        if mode == "drop":
            self._note(delivery, None, "dropped", fault="drop")
        elif mode == "duplicate":
            self._post(delivery, "duplicate", done=False)
            self._post(delivery, "duplicate")
        elif mode == "delay" and fault is not None:
            timer = threading.Timer(fault.delay, self._post, (delivery, "delay"))
            timer.daemon = True
            timer.start()
        elif mode == "reorder":
            if self._held is not None:  # two in a row: the first goes now, behind nothing
                self._post(self._held, "reorder")
            self._held = delivery
        elif mode == "bad_signature":
            self._post(delivery.forged(), "bad_signature")
        else:
            self._post(delivery, None)
        held = self._held
        if held is not None and held is not delivery:
            self._held = None
            self._post(held, "reorder")

    def _post(self, delivery: Delivery, fault: str | None, *, done: bool = True) -> None:
        if not is_loopback(delivery.url):
            self._note(delivery, None, "skipped: not a loopback URL", fault=fault, done=done)
            return
        try:
            status, reason = _request(delivery)
        except (OSError, http.client.HTTPException) as error:
            self._note(delivery, None, type(error).__name__, fault=fault, done=done)
            return
        self._note(delivery, status, reason, fault=fault, done=done)

    def _note(self, delivery: Delivery, status: int | None, reason: str, *, fault: str | None,
              done: bool = True) -> None:
        with self.lock:
            entry: dict[str, Any] = {
                "service": delivery.service, "event": delivery.event, "url": delivery.url,
                "status": status, "reason": reason,
                "at": dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")}
            if fault:
                entry["fault"] = fault
            self.log.append(entry)
            if done:
                self._in_flight -= 1
            if delivery.on_result is not None and fault != "drop":
                delivery.on_result(status, reason)


def _request(delivery: Delivery) -> tuple[int, str]:
    """Send one delivery with the standard library (the core imports no HTTP client library);
    no proxy ever sits between the sandbox and a loopback receiver."""
    parts = urlsplit(delivery.url)
    connection_class = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    connection = connection_class(parts.hostname or "127.0.0.1", parts.port, timeout=SEND_TIMEOUT)
    try:
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        connection.request(delivery.method, target, body=delivery.body, headers=delivery.headers)
        reply = connection.getresponse()
        reply.read()
        return reply.status, reply.reason
    finally:
        connection.close()
