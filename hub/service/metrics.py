"""Prometheus metrics of one service, in a registry of its own (two apps in one process, as in
tests, never share counters). Counters are fed by the worker and the receiver; the gauges (parked
records, open conflicts, records waiting, next polls) are read from the state store at each scrape.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from hub.engine.flow import FlowResult
from hub.state.store import StateStore

#: Edit-to-twin latency buckets (seconds): sub-second is the webhook path, minutes the poll.
LATENCY_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 900.0)
#: SideStats counters reported per action.
ACTIONS = ("created", "updated", "deleted", "unchanged", "conflicts", "parked", "failed", "skipped")


class ServiceMetrics:
    CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.runs = Counter("pmhub_runs", "Flow runs, by flow, trigger (poll, webhook) and outcome",
                            ["flow", "trigger", "outcome"], registry=self.registry)
        self.records = Counter("pmhub_records", "Records handled by runs, by flow and action",
                               ["flow", "action"], registry=self.registry)
        self.api_calls = Counter("pmhub_api_calls", "API calls, by connection, kind of call and the "
                                 "status of the run that made them", ["connection", "kind", "status"],
                                 registry=self.registry)
        self.deliveries = Counter("pmhub_webhook_deliveries", "Webhook deliveries, by connection and "
                                  "outcome (accepted, ignored, replayed, rejected, too_large)",
                                  ["connection", "outcome"], registry=self.registry)
        self.latency = Histogram("pmhub_edit_to_twin_seconds", "From a record's edit (its time in the "
                                 "webhook payload) to its twin written, by flow", ["flow"],
                                 buckets=LATENCY_BUCKETS, registry=self.registry)

    def watch(self, store: StateStore, flows: list[str], waiting: Callable[[], int],
              next_polls: Callable[[], Mapping[str, dt.datetime]]) -> None:
        """Also report the store's parked records and conflicts (0 for a flow without any), and
        the queue, at each scrape."""
        self.registry.register(_StateGauges(store, flows, waiting, next_polls))

    def watch_queue(self, gauges: Collector) -> None:
        """Queue mode: also report the queue (``hub.queue.observe.QueueGauges``) at each scrape."""
        self.registry.register(gauges)

    def run_finished(self, result: FlowResult, trigger: str, calls: Mapping[tuple[str, str], int]) -> None:
        self.runs.labels(result.flow, trigger, result.status).inc()
        for stats in result.stats.values():
            for action in ACTIONS:
                count = getattr(stats, action)
                if count:
                    self.records.labels(result.flow, action).inc(count)
        for (connection, kind), count in calls.items():
            if count > 0:
                self.api_calls.labels(connection, kind, result.status).inc(count)

    def render(self) -> bytes:
        return generate_latest(self.registry)


class _StateGauges(Collector):
    def __init__(self, store: StateStore, flows: list[str], waiting: Callable[[], int],
                 next_polls: Callable[[], Mapping[str, dt.datetime]]) -> None:
        self.store, self.flows, self.waiting, self.next_polls = store, flows, waiting, next_polls

    def describe(self) -> list[Metric]:
        return []  # read at scrape time only (the store is not asked at registration)

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("pmhub_state_store_up", "1 when the state store answered this scrape")
        try:
            parked = self.store.parked_records()
            conflicts = self.store.open_conflicts()
        except Exception:  # a scrape reports the store down, it does not fail
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield _per_flow("pmhub_parked_records", "Records parked (waiting for a fix), by flow",
                        self.flows, parked)
        yield _per_flow("pmhub_open_conflicts", "Open conflicts (waiting for a person), by flow",
                        self.flows, conflicts)
        queued = GaugeMetricFamily("pmhub_targeted_syncs_waiting",
                                   "Records named by webhooks, not synced yet")
        queued.add_metric([], self.waiting())
        yield queued
        polls = GaugeMetricFamily("pmhub_next_poll_timestamp_seconds", "When each flow's schedule polls next",
                                  labels=["flow"])
        for flow, due in self.next_polls().items():
            polls.add_metric([flow], due.timestamp())
        yield polls


def _per_flow(name: str, documentation: str, flows: list[str],
              rows: list[dict[str, object]]) -> GaugeMetricFamily:
    gauge = GaugeMetricFamily(name, documentation, labels=["flow"])
    counts = dict.fromkeys(flows, 0)
    for row in rows:
        counts[str(row["flow"])] = counts.get(str(row["flow"]), 0) + 1
    for flow, count in sorted(counts.items()):
        gauge.add_metric([flow], count)
    return gauge


class CallTally:
    """API calls per (connection, kind) made between two looks at the hub's connectors."""

    def __init__(self, connectors: Callable[[], Mapping[str, object]]) -> None:
        self.connectors = connectors
        self.seen: dict[tuple[str, str], int] = {}

    def since_last(self) -> dict[tuple[str, str], int]:
        now: dict[tuple[str, str], int] = {}
        for name, connector in self.connectors().items():
            counts = getattr(getattr(connector, "calls", None), "counts", {})
            for kind, count in counts.items():
                now[(name, kind)] = count
        delta = {key: count - self.seen.get(key, 0) for key, count in now.items()}
        self.seen = now
        return {key: n for key, n in delta.items() if n > 0}
