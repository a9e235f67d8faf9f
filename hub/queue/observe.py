"""What the queue looks like now, for ``pmhub status`` and ``/metrics``: the flow runs waiting (the
markers), the flows running (their leases), the broker's queue depth and how tasks ended."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field

from celery import Celery
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from hub.queue.ledger import outcomes, waiting
from hub.state.store import StateStore


@dataclass
class QueueSnapshot:
    #: Flow -> since when a run of it waits.
    waiting: dict[str, dt.datetime]
    #: Flow -> the worker process holding its lease.
    running: dict[str, str]
    #: Tasks in the broker's queue (flow runs and targeted syncs); None when the broker did not answer.
    depth: int | None
    outcomes: dict[tuple[str, str], int] = field(default_factory=dict)


def broker_depth(app: Celery, queue: str) -> int | None:
    from amqp.exceptions import ChannelError as AmqpChannelError
    from kombu.exceptions import ChannelError

    try:
        with app.connection_for_read() as connection:
            declared = connection.default_channel.queue_declare(queue=queue, passive=True)
            return int(declared.message_count)
    except (ChannelError, AmqpChannelError):
        return 0  # no such queue (Redis drops an empty one): nothing waits in it
    except Exception:  # a broker that is down: depth unknown
        return None


def snapshot(store: StateStore, flows: list[str], app: Celery | None = None,
             queue: str = "pmhub") -> QueueSnapshot:
    running = {}
    for flow in flows:
        holder = store.lease_holder(flow)
        if holder is not None:
            running[flow] = holder
    return QueueSnapshot(waiting=waiting(store), running=running,
                         depth=broker_depth(app, queue) if app is not None else None,
                         outcomes=outcomes(store))


class QueueGauges(Collector):
    """``pmhub_queue_*`` at each scrape of ``pmhub serve``'s ``/metrics``."""

    def __init__(self, store: StateStore, flows: list[str], app: Celery, queue: str) -> None:
        self.store, self.flows, self.app, self.queue = store, flows, app, queue

    def describe(self) -> list[Metric]:
        return []  # read at scrape time only

    def collect(self) -> Iterator[Metric]:
        try:
            now = snapshot(self.store, self.flows, self.app, self.queue)
        except Exception:  # the store is down: pmhub_state_store_up says so
            return
        depth = GaugeMetricFamily("pmhub_queue_depth", "Tasks in the broker's queue, not taken by a worker")
        if now.depth is not None:
            depth.add_metric([], now.depth)
        yield depth
        waiting_runs = GaugeMetricFamily("pmhub_queue_waiting", "1 when a run of the flow is queued",
                                         labels=["flow"])
        running = GaugeMetricFamily("pmhub_queue_running", "1 when a worker is syncing the flow",
                                    labels=["flow"])
        for flow in self.flows:
            waiting_runs.add_metric([flow], 1 if flow in now.waiting else 0)
            running.add_metric([flow], 1 if flow in now.running else 0)
        yield waiting_runs
        yield running
        tasks = CounterMetricFamily("pmhub_queue_tasks", "Queued tasks finished by the workers, by task "
                                    "and outcome", labels=["task", "outcome"])
        for (task, outcome), count in sorted(now.outcomes.items()):
            tasks.add_metric([task, outcome], count)
        yield tasks
