"""The sync worker: one thread that runs the targeted syncs webhooks ask for and the flows'
schedules, one thing at a time.

One thread, because the hub's connectors, retriers and call counts are not made for two threads
at once, and because a flow must not run twice at once (the lease guards that across processes).
Request threads only queue records; nothing they do waits for a sync.

Stopping (SIGTERM) lets the sync in progress finish and leaves what is queued: events are hints,
and the next poll after a restart reads every change anyway.
"""

from __future__ import annotations

import datetime as dt
import importlib
import logging
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager

from hub.engine.flow import FlowResult
from hub.engine.runner import Hub, sync_records
from hub.scheduling import Scheduler
from hub.service.activity import Activity, Redactor
from hub.service.metrics import CallTally, ServiceMetrics
from hub.service.queue import CoalescingQueue, Target, Waiting

log = logging.getLogger("pmhub.service")

#: A record whose flow is being synced by another process waits this long, this many times.
RETRY_DELAY = 2.0
RETRY_ATTEMPTS = 5
#: The worker looks at the schedule and the queue at least this often (seconds).
LONGEST_SLEEP = 5.0
#: Expired delivery ids are deleted this often (seconds).
FORGET_EVERY = 3600.0
#: Hooks that expire (Zoho's channels) are looked at this often (seconds); renewing costs no API
#: call until one is close to its expiry (``hub.webhook_admin.renew_expiring``).
RENEW_EVERY = 600.0


class SyncWorker:
    def __init__(self, hub: Hub, queue: CoalescingQueue, metrics: ServiceMetrics, activity: Activity,
                 redact: Redactor) -> None:
        self.hub, self.queue, self.metrics, self.activity, self.redact = hub, queue, metrics, activity, redact
        self.scheduler = Scheduler(hub, echo=lambda line: log.info(redact(line)),
                                   on_result=lambda result: self._finished(result, "poll"))
        self.calls = CallTally(lambda: hub.connectors)
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._loop, name="pmhub-sync", daemon=True)
        self._forgot_at = 0.0
        self._renewed_at: float | None = None

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        """Ask the worker to stop once the sync in progress is done."""
        self.stopping.set()
        self.scheduler.stopping.set()
        self.queue.wake()

    def join(self, timeout: float | None = None) -> None:
        self.thread.join(timeout)

    @property
    def alive(self) -> bool:
        return self.thread.is_alive()

    def next_polls(self) -> dict[str, dt.datetime]:
        return {name: entry.due for name, entry in self.scheduler.flows.items()}

    # -- the loop --------------------------------------------------------------------------
    def _loop(self) -> None:
        while not self.stopping.is_set():
            try:
                self._run_targets(self.queue.take_due())
                now = self.scheduler.clock()
                if not self.stopping.is_set() and any(e.due <= now for e in self.scheduler.flows.values()):
                    with self._doing("scheduled poll"):
                        self.scheduler.tick()
                self._forget_expired_deliveries()
                self._renew_expiring_hooks()
            except Exception as error:  # the worker outlives anything one round raises
                log.error("sync worker: %s", self.redact(f"{type(error).__name__}: {error}"))
                self.stopping.wait(1.0)
            self.queue.wait(self._sleep())

    def _sleep(self) -> float:
        sleeps = [LONGEST_SLEEP, self.hub.config.daemon.tick]
        to_queue = self.queue.seconds_to_next()
        if to_queue is not None:
            sleeps.append(to_queue)
        if self.scheduler.flows:
            due = min(entry.due for entry in self.scheduler.flows.values())
            sleeps.append((due - self.scheduler.clock()).total_seconds())
        return max(0.01, min(sleeps))

    def _run_targets(self, due: dict[Target, Waiting]) -> None:
        groups: dict[tuple[str, str, str], list[Target]] = defaultdict(list)
        for target in due:
            groups[(target.flow, target.record_type, target.side)].append(target)
        # Parents first (the flow's record order): a new issue's twin exists before its comments sync.
        order = {flow.name: flow.records for flow in self.hub.config.flows}

        def parents_first(key: tuple[str, str, str]) -> tuple[str, int, str]:
            flow, record_type, side = key
            return flow, order[flow].index(record_type), side

        for (flow, record_type, side), targets in sorted(groups.items(), key=lambda g: parents_first(g[0])):
            if self.stopping.is_set():
                return  # what is left waits for the next poll
            ids = [t.external_id for t in targets]
            what = f"flow {flow}: {len(ids)} {record_type}(s) from {side} (webhook)"
            if self.scheduler.queue is not None:  # queue mode: a worker syncs them
                try:
                    self.scheduler.queue.enqueue_records(flow, record_type, side, ids)
                except Exception as error:  # the broker is down: the next poll reads them anyway
                    log.error("%s: not queued: %s", what, self.redact(f"{type(error).__name__}: {error}"))
                continue
            with self._doing(what):
                try:
                    result = sync_records(self.hub, flow, record_type, side, ids)
                except Exception as error:
                    log.error("%s: %s", what, self.redact(f"{type(error).__name__}: {error}"))
                    continue
            self._finished(result, "webhook")
            if result.status == "skipped":
                self._retry(targets, due)
            elif _wrote(result):
                written = dt.datetime.now(dt.UTC)
                for target in targets:
                    edited = due[target].edited
                    if edited is not None:
                        seconds = max(0.0, (written - edited).total_seconds())
                        self.metrics.latency.labels(flow).observe(seconds)

    def _retry(self, targets: list[Target], due: dict[Target, Waiting]) -> None:
        for target in targets:
            entry = due[target]
            if entry.attempts + 1 < RETRY_ATTEMPTS:
                self.queue.retry_later(target, entry, RETRY_DELAY)
            else:
                log.info("flow %s: %s %s left to the next poll (the flow stayed busy elsewhere)",
                         target.flow, target.record_type, target.external_id)

    def _finished(self, result: FlowResult, trigger: str) -> None:
        self.metrics.run_finished(result, trigger, self.calls.since_last())
        if trigger == "webhook":
            counts = ", ".join(f"{s.connection}: {s.created} created, {s.updated} updated, "
                               f"{s.deleted} deleted" for s in result.stats.values())
            error = f" {self.redact(result.error)}" if result.error else ""
            log.info("flow %s (webhook): %s%s%s", result.flow, result.status,
                     f" ({counts})" if counts else "", error)

    def _forget_expired_deliveries(self) -> None:
        now = time.monotonic()
        if now - self._forgot_at >= FORGET_EVERY:
            self._forgot_at = now
            self.hub.store.forget_expired_deliveries()

    def _renew_expiring_hooks(self) -> None:
        now = time.monotonic()
        if self._renewed_at is None or now - self._renewed_at >= RENEW_EVERY:
            self._renewed_at = now
            if not any(_hooks_expire(self.hub, name) for name in self.hub.config.connections):
                return  # opening connections only to learn that nothing expires is not worth it
            from hub.webhook_admin import renew_expiring

            with self._doing("renewing expiring webhooks"):
                renew_expiring(self.hub)  # logs what it renewed and what failed, never raises

    @contextmanager
    def _doing(self, what: str) -> Iterator[None]:
        self.activity.running = what
        try:
            yield
        finally:
            self.activity.running = None


def _hooks_expire(hub: Hub, connection: str) -> bool:
    """Can this connection's hooks expire (its plugin's webhook_admin module renews them)?"""
    settings = hub.config.connections[connection]
    cls = hub.host.connector(settings.plugin)
    if cls.webhook_admin is None or settings.webhook_secret is None:
        return False
    admin = importlib.import_module(cls.webhook_admin, package=cls.__module__.rpartition(".")[0] or None)
    return hasattr(admin, "renew")


def _wrote(result: FlowResult) -> bool:
    return any(s.created or s.updated or s.deleted for s in result.stats.values())
