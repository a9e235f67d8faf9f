"""A small client for the sandbox's ``/_sandbox`` control API, used by tests, benchmarks and the demo."""

from __future__ import annotations

from typing import Any

import requests


class SandboxClient:
    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")
        self.http = requests.Session()

    def base(self, service: str) -> str:
        """Root URL of one stand-in, e.g. ``base("github")`` for PyGithub's ``base_url``."""
        return f"{self.url}/{service}"

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        reply = self.http.request(method, f"{self.url}/_sandbox/{path}", timeout=10, **kwargs)
        reply.raise_for_status()
        return reply.json()

    def health(self) -> dict[str, Any]:
        return self._call("GET", "health")

    def reset(self, seed: str = "empty") -> None:
        self._call("POST", "reset", json={"seed": seed})

    def fault(self, service: str, **spec: Any) -> None:
        """Inject a fault; see ``hub.sandbox.server.Fault`` for the keys."""
        self._call("POST", "faults", json={"service": service, **spec})

    def clear_faults(self) -> None:
        self._call("DELETE", "faults")

    def requests(self, service: str | None = None) -> list[dict[str, Any]]:
        log = self._call("GET", "requests")["requests"]
        return [r for r in log if service is None or r["service"] == service]

    def counts(self) -> dict[str, dict[str, int]]:
        return self._call("GET", "requests")["counts"]

    def clear_requests(self) -> None:
        self._call("DELETE", "requests")

    def webhook_fault(self, service: str, mode: str, **spec: Any) -> None:
        """Make the next deliveries of ``service`` fail: ``mode`` is drop, duplicate, delay,
        reorder or bad_signature (``times``, ``delay``; see ``hub.sandbox.deliveries``)."""
        self._call("POST", "webhook-faults", json={"service": service, "mode": mode, **spec})

    def webhook_deliveries(self, service: str | None = None) -> list[dict[str, Any]]:
        """The webhook deliveries attempted so far (service, event, url, status, fault)."""
        log = self._call("GET", "webhook-deliveries")["deliveries"]
        return [d for d in log if service is None or d["service"] == service]
