"""The daemon's scheduler: each flow with a ``schedule`` (cron syntax) runs when due.

Overlapping runs are prevented by the per-flow lease in the state store, so several daemons (or a
daemon and a cron job) can share one PostgreSQL state store safely.

The daemon outlives its flows' failures: a flow that fails, or whose run raises anything at all (a
database error, a bug in a plugin), is reported in one line and tried again on a later tick, each
failure in a row doubling the wait (from ``RETRY_FIRST`` up to ``RETRY_CAP``), while every other
flow keeps its schedule. SIGTERM or Ctrl-C lets the flow in progress finish, then the daemon exits.
"""

from __future__ import annotations

import datetime as dt
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hub.engine.flow import FlowResult
from hub.engine.runner import Hub, sync

if TYPE_CHECKING:
    from hub.queue.client import QueueClient

#: Wait after a flow's first failure in a row; doubled per further failure, up to the cap.
RETRY_FIRST = dt.timedelta(seconds=30)
RETRY_CAP = dt.timedelta(hours=1)

Clock = Callable[[], dt.datetime]


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class FlowSchedule:
    """When one flow runs next, and how many of its runs in a row have failed."""

    name: str
    cron: str
    due: dt.datetime
    failures: int = 0

    def after_success(self, now: dt.datetime) -> None:
        self.failures = 0
        self.due = next_cron_time(self.cron, now)

    def after_failure(self, now: dt.datetime) -> dt.timedelta:
        """Push the next run out by the backoff (never earlier than the schedule); return the wait."""
        self.failures += 1
        backoff = min(RETRY_FIRST * 2 ** (self.failures - 1), RETRY_CAP)
        self.due = max(next_cron_time(self.cron, now), now + backoff)
        return self.due - now


def next_cron_time(cron: str, now: dt.datetime) -> dt.datetime:
    from croniter import croniter

    return croniter(cron, now).get_next(dt.datetime)


class Scheduler:
    def __init__(self, hub: Hub, echo: Callable[[str], Any] = print, *, clock: Clock = _utc_now,
                 on_result: Callable[[FlowResult], Any] | None = None) -> None:
        self.hub = hub
        self.echo = echo
        self.clock = clock
        #: Told every flow result as it comes (``pmhub serve`` counts them in its metrics).
        self.on_result = on_result
        self.stopping = threading.Event()
        now = clock()
        self.flows = {flow.name: FlowSchedule(flow.name, flow.schedule, next_cron_time(flow.schedule, now))
                      for flow in hub.config.flows if flow.schedule}
        #: Queue mode: due flows are sent to the workers instead of run here.
        self.queue: QueueClient | None = None
        if hub.config.queue is not None:
            from hub.queue.client import QueueClient

            self.queue = QueueClient(hub.config, hub.store)

    def next_runs(self, now: dt.datetime) -> dict[str, dt.datetime]:
        return {name: next_cron_time(entry.cron, now) for name, entry in self.flows.items()}

    def run(self, *, once: bool = False) -> bool:
        """Run until stopped (or each scheduled flow once, with ``once``).

        Returns True when the last run of every flow succeeded (``--once`` exits on it).
        """
        if not self.flows:
            self.echo("no flow has a schedule; nothing to do")
            return True
        if once:
            return self.run_flows(list(self.flows))
        with self._stop_on_signals():
            self.echo("daemon started; next runs: " + ", ".join(
                f"{name} at {entry.due:%H:%M:%S}" for name, entry in self.flows.items()))
            while not self.stopping.is_set():
                self.tick()
                wait = min(entry.due for entry in self.flows.values()) - self.clock()
                self.stopping.wait(min(max(wait.total_seconds(), 0.1), self.hub.config.daemon.tick))
        self.echo("daemon stopped")
        return True

    def tick(self) -> list[str]:
        """Run every flow that is due now; return their names."""
        now = self.clock()
        ready = [name for name, entry in self.flows.items() if entry.due <= now]
        if ready:
            self.run_flows(ready)
        return ready

    def run_flows(self, names: list[str]) -> bool:
        """Run the flows one by one, stopping between flows when asked to; True if all succeeded."""
        all_ok = True
        for name in names:
            if self.stopping.is_set():
                break
            ok = self._run_one(name)
            all_ok = all_ok and ok
            entry, now = self.flows[name], self.clock()
            if ok:
                entry.after_success(now)
            else:
                wait = entry.after_failure(now)
                self.echo(f"  flow {name}: failure {entry.failures} in a row; next try in "
                          f"{int(wait.total_seconds())} s")
        return all_ok

    def _run_one(self, name: str) -> bool:
        stamp = f"{self.clock():%Y-%m-%dT%H:%M:%SZ}"
        if self.queue is not None:
            return self._enqueue(self.queue, name, stamp)
        try:
            results = sync(self.hub, [name])
        except Exception as error:  # the daemon outlives any one flow's failure, a plugin bug included
            self.echo(f"{stamp} flow {name}: error ({type(error).__name__}: {error})")
            return False
        ok = True
        for result in results:
            if self.on_result is not None:
                self.on_result(result)
            self.echo(f"{stamp} flow {result.flow}: {result.status}"
                      + (f" ({result.error})" if result.error else ""))
            ok = ok and result.status != "failed"
        return ok

    def _enqueue(self, queue: QueueClient, name: str, stamp: str) -> bool:
        try:
            sent = queue.enqueue_flow(name)
        except Exception as error:  # a broker that is down: the next tick tries again
            self.echo(f"{stamp} flow {name}: not queued ({type(error).__name__}: {error})")
            return False
        self.echo(f"{stamp} flow {name}: "
                  + ("queued" if sent else "a run is waiting already; not queued again"))
        return True

    @contextmanager
    def _stop_on_signals(self) -> Iterator[None]:
        """SIGTERM and SIGINT ask the loop to stop once the flow in progress is done."""
        signals = (signal.SIGTERM, signal.SIGINT)
        previous = {sig: signal.getsignal(sig) for sig in signals}
        for sig in signals:
            signal.signal(sig, lambda *_: self.stopping.set())
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
