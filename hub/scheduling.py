"""The daemon's scheduler: each flow with a ``schedule`` (cron syntax) runs when due.

Overlapping runs are prevented by the per-flow lease in the state store, so several daemons (or a
daemon and a cron job) can share one PostgreSQL state store safely.
"""

from __future__ import annotations

import datetime as dt
import signal
import threading
from collections.abc import Callable
from typing import Any

from hub.engine.runner import Hub, sync


class Scheduler:
    def __init__(self, hub: Hub, echo: Callable[[str], Any] = print) -> None:
        self.hub = hub
        self.echo = echo
        self.stopping = threading.Event()

    def next_runs(self, now: dt.datetime) -> dict[str, dt.datetime]:
        from croniter import croniter

        return {flow.name: croniter(flow.schedule, now).get_next(dt.datetime)
                for flow in self.hub.config.flows if flow.schedule}

    def run(self, *, once: bool = False) -> None:
        scheduled = [f for f in self.hub.config.flows if f.schedule]
        if not scheduled:
            self.echo("no flow has a schedule; nothing to do")
            return
        if once:
            self._run([f.name for f in scheduled])
            return
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: self.stopping.set())
        due = self.next_runs(dt.datetime.now(dt.UTC))
        self.echo("daemon started; next runs: " + ", ".join(f"{n} at {t:%H:%M:%S}" for n, t in due.items()))
        while not self.stopping.is_set():
            now = dt.datetime.now(dt.UTC)
            ready = [name for name, when in due.items() if when <= now]
            if ready:
                self._run(ready)
                due.update({n: t for n, t in self.next_runs(dt.datetime.now(dt.UTC)).items() if n in ready})
                continue
            wait = min((when - now).total_seconds() for when in due.values())
            self.stopping.wait(min(max(wait, 0.1), self.hub.config.daemon.tick))
        self.echo("daemon stopped")

    def _run(self, names: list[str]) -> None:
        for result in sync(self.hub, names):
            self.echo(f"{dt.datetime.now(dt.UTC):%Y-%m-%dT%H:%M:%SZ} flow {result.flow}: {result.status}"
                      + (f" ({result.error})" if result.error else ""))
