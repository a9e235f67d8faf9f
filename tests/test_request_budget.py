"""A connection's request budget (``hub.engine.request_budget``): the ``requests_per_minute`` ceiling
in one process (in memory, no round trip), what a worker reads of the cluster's spent quota (at
most once a second) and tells it, and two workers sharing one connection's row in PostgreSQL."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import pytest

from hub.connector import ConnectionSettings
from hub.engine.request_budget import RequestBudget
from hub.engine.runner import open_hub, sync
from hub.model import Issue
from hub.queue.pacing import SharedRequestBudget
from hub.state.store import StateStore
from hub.testing.reference import ReferenceStore
from tests.conftest import write_config
from tests.engine.test_retry import Tool
from tests.queue.cluster import pg_schema_url

__all__ = ["pg_schema_url"]


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0
        self.slept: list[float] = []

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


class CountingShared:
    """A cluster's budget in memory, counting how often a worker asks it."""

    def __init__(self) -> None:
        self.until, self.reads, self.told, self.next_at = 0.0, 0, [], 0.0

    def spent_until(self) -> float:
        self.reads += 1
        return self.until

    def note_spent(self, until: float) -> None:
        self.told.append(until)
        self.until = max(self.until, until)

    def take_turn(self, spacing: float) -> float:
        raise AssertionError("no ceiling configured")


def tool(**settings: float) -> Tool:
    connector = Tool()
    connector.settings = ConnectionSettings(plugin="retry-test", **settings)
    return connector


def test_a_sync_in_one_process_spaces_a_connection_s_requests_by_its_ceiling(tmp_path: Path) -> None:
    source = ReferenceStore(str(tmp_path / "a.sqlite"))
    for number in range(6):
        source.put("proj", "issue", Issue(title=f"issue {number}"))
    source.close()
    per_minute = 600
    config = write_config(
        tmp_path / "pmhub.toml", state_url=f"sqlite:///{tmp_path / 'state.db'}",
        connections={"left": {"plugin": "reference", "path": str(tmp_path / "a.sqlite"), "page_size": 2},
                     "right": {"plugin": "reference", "path": str(tmp_path / "b.sqlite"), "page_size": 2,
                               "requests_per_minute": per_minute}},
        flows=[{"name": "main", "a": {"connection": "left", "scope": "proj"},
                "b": {"connection": "right", "scope": "proj"}, "records": ["issue"]}])
    with open_hub(config) as hub:
        started = time.monotonic()
        [result] = sync(hub)
        took = time.monotonic() - started
        requests = hub.connectors["right"].calls.total
        assert hub.connectors["left"].calls.before_each is None, "no ceiling, no queue: nothing hooked"
    assert result.status == "ok" and ReferenceStore(str(tmp_path / "b.sqlite")).count("proj", "issue") == 6
    assert requests >= 4
    assert took >= (requests - 1) * 60 / per_minute, f"{requests} requests in {took:.2f} s"


def test_the_ceiling_in_one_process_is_kept_in_memory() -> None:
    clock = Clock()
    connector = tool(requests_per_minute=120)
    RequestBudget(connector, clock=clock.time, sleep=clock.sleep)
    for _ in range(4):
        connector.calls.add("get")
    assert clock.slept == [0.5, 0.5, 0.5] and connector.calls.counts == {"get": 4}


def test_a_worker_reads_the_cluster_s_quota_at_most_once_a_second_and_tells_it_once_per_reset() -> None:
    clock, shared = Clock(), CountingShared()
    seconds = [0.0]
    connector = tool()
    budget = RequestBudget(connector, shared, clock=clock.time, monotonic=lambda: seconds[0],
                           sleep=clock.sleep)
    for step in range(10):  # ten calls within 0.9 s
        seconds[0] = step * 0.1
        assert budget.wait_before_call() == 0
    assert shared.reads == 1
    shared.until = clock.now + 30  # another worker heard the quota is spent
    assert budget.wait_before_call() == 0, "not read again yet"
    seconds[0] = 1.0
    assert budget.wait_before_call() == 30 and shared.reads == 2

    limit = connector.rate_limit
    limit.remaining, limit.reset_at = 0, dt.datetime.fromtimestamp(clock.now + 60, dt.UTC)
    budget.noticed()
    budget.noticed()
    assert shared.told == [clock.now + 60]
    connector.calls.add("get")  # a request waits out the spent quota before it goes
    assert clock.slept == [60] and limit.remaining is None


def test_a_quota_longer_than_a_run_waits_is_not_slept_for_inside_a_request() -> None:
    clock, shared = Clock(), CountingShared()
    connector = tool()
    RequestBudget(connector, shared, longest_wait=120, clock=clock.time, sleep=clock.sleep)
    shared.until = clock.now + 3600
    connector.calls.add("get")
    assert clock.slept == [], "the tool refuses it and the retry policy ends the run instead"


@pytest.mark.postgres
def test_two_workers_share_one_connection_s_budget_in_postgresql(pg_schema_url: str) -> None:
    store = StateStore.open(pg_schema_url)
    try:
        first, second = tool(requests_per_minute=60), tool(requests_per_minute=60)
        now = time.time()
        one = RequestBudget(first, SharedRequestBudget(store, "gh"), sleep=lambda s: None)
        other = RequestBudget(second, SharedRequestBudget(store, "gh"), sleep=lambda s: None)
        assert other.wait_before_call() == 0
        first.rate_limit.remaining = 0
        first.rate_limit.reset_at = dt.datetime.fromtimestamp(now + 40, dt.UTC)
        one.noticed()
        other._consulted_at = None  # as a second later
        assert 38 < other.wait_before_call() <= 40
        # The ceiling's turns come from one row: each worker's next slot is a second after the last.
        slots = [SharedRequestBudget(store, "gh").take_turn(1.0) for _ in range(3)]
        assert slots[1] - slots[0] == pytest.approx(1.0) and slots[2] - slots[1] == pytest.approx(1.0)
        assert SharedRequestBudget(store, "jira").take_turn(1.0) < slots[1], "another connection's row"
    finally:
        store.close()
