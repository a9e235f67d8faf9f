"""What the running service has seen since it started, for the status page: deliveries per
connection and outcome, and what the sync worker is doing. Thread-safe (request threads write it).

Also ``Redactor``: every configured secret, so text from a tool's error can be shown or logged
without one of them in it.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections import Counter
from dataclasses import dataclass, field

from pydantic import BaseModel, SecretStr

from hub.config import Config

#: What became of a webhook delivery (a metrics label and a column of the status page).
OUTCOMES = ("accepted", "ignored", "replayed", "rejected", "too_large")


@dataclass
class Activity:
    started: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    _deliveries: Counter[tuple[str, str]] = field(default_factory=Counter)
    _last: dict[str, dt.datetime] = field(default_factory=dict)
    _running: str | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def delivery(self, connection: str, outcome: str) -> None:
        with self._lock:
            self._deliveries[(connection, outcome)] += 1
            self._last[connection] = dt.datetime.now(dt.UTC)

    def deliveries(self, connection: str) -> dict[str, int]:
        with self._lock:
            return {outcome: self._deliveries[(connection, outcome)] for outcome in OUTCOMES}

    def last_delivery(self, connection: str) -> dt.datetime | None:
        with self._lock:
            return self._last.get(connection)

    @property
    def running(self) -> str | None:
        """What the sync worker is doing now ("flow portal: 2 issues from a (webhook)"), or None."""
        with self._lock:
            return self._running

    @running.setter
    def running(self, what: str | None) -> None:
        with self._lock:
            self._running = what


class Redactor:
    """Replaces every configured secret (and credentials in URL queries) in text by "***"."""

    _QUERY_SECRET = re.compile(r"(?i)([?&](?:key|token|secret|access_token|refresh_token|password)=)[^&\s]+")

    def __init__(self, config: Config) -> None:
        values: set[str] = set()
        for settings in config.connections.values():
            values.update(_secrets_of(settings))
        values.update(_secrets_of(config.server))
        # Longest first, so a secret containing another is replaced whole.
        self.values = sorted((v for v in values if len(v) >= 4), key=len, reverse=True)

    def __call__(self, text: str | None) -> str:
        if not text:
            return ""
        for value in self.values:
            text = text.replace(value, "***")
        return self._QUERY_SECRET.sub(r"\1***", text)


def _secrets_of(model: BaseModel) -> list[str]:
    return [value.get_secret_value() for value in (getattr(model, name) for name in type(model).model_fields)
            if isinstance(value, SecretStr)]
