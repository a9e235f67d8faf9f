"""Issue 14 items 1 and 2: queue mode on Celery with real brokers, PostgreSQL and worker processes:
every flow converges once, no flow runs on two workers at once, a killed worker's task runs again
and its backfill ends with exactly one twin per issue; a SQLite state store is refused."""

from __future__ import annotations

import datetime as dt
import itertools
import socket
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from hub.model import Issue
from hub.state.schema import runs
from hub.state.store import StateStore
from hub.testing.reference import ReferenceStore
from tests.queue.cluster import Cluster, broker_url, pg_schema_url, wait_until

__all__ = ["pg_schema_url"]

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


def reference_flows(home: Path, flows: int, *, page_size: int = 1000) -> tuple[dict, list[dict]]:
    connections = {}
    specs = []
    for index in range(flows):
        for side in ("a", "b"):
            connections[f"{side}{index}"] = {"plugin": "reference", "page_size": page_size,
                                             "path": str(home / f"{side}{index}.sqlite")}
        specs.append({"name": f"flow{index}", "a": {"connection": f"a{index}", "scope": "proj"},
                      "b": {"connection": f"b{index}", "scope": "proj"}, "records": ["issue"],
                      "schedule": "0 0 1 1 *"})
    return connections, specs


def seed(path: Path, issues: int, tag: str) -> None:
    store = ReferenceStore(str(path))
    for number in range(issues):
        store.put("proj", "issue", Issue(title=f"{tag} issue {number}"))
    store.close()


def titles(path: Path) -> list[str]:
    store = ReferenceStore(str(path))
    try:
        return [item.title for _, item in store.all("proj", "issue")]  # type: ignore[attr-defined]
    finally:
        store.close()


def run_history(state_url: str) -> list[tuple[str, dt.datetime, dt.datetime | None, str]]:
    store = StateStore.open(state_url)
    try:
        with store.engine.connect() as c:
            return [tuple(row) for row in c.execute(  # type: ignore[misc]
                select(runs.c.flow, runs.c.started_at, runs.c.finished_at, runs.c.status))]
    finally:
        store.close()


@pytest.mark.parametrize("broker", ["redis", "amqp"])
def test_three_workers_converge_every_flow_once_and_never_run_a_flow_twice_at_once(
        tmp_path: Path, pg_schema_url: str, broker: str) -> None:
    flows, issues = 20, 10
    connections, specs = reference_flows(tmp_path, flows)
    for index in range(flows):
        seed(tmp_path / f"a{index}.sqlite", issues, f"f{index}")
    cluster = Cluster(tmp_path, pg_schema_url, broker_url(broker), connections=connections, flows=specs)
    try:
        # Queued twice: the second round is dropped for runs still waiting, sent for those started.
        for _ in range(2):
            result = cluster.cli("daemon", "--once")
            assert result.exit_code == 0, result.output
        assert result.output.count("queued") >= 1, result.output
        cluster.start_workers(3)
        wait_until(lambda: all(len(titles(tmp_path / f"b{i}.sqlite")) == issues for i in range(flows)),
                   90, "every flow to converge", cluster)
        wait_until(lambda: all(r[2] is not None for r in run_history(pg_schema_url))
                   and len(run_history(pg_schema_url)) >= flows, 30, "the runs to finish", cluster)
        # Once more with everything in: a quiet run per flow, still no duplicate.
        assert cluster.cli("daemon", "--once").exit_code == 0
        wait_until(lambda: Counter(r[0] for r in run_history(pg_schema_url) if r[3] == "ok").total()
                   >= len(run_history(pg_schema_url)) and len(run_history(pg_schema_url)) > flows
                   and all(r[2] is not None for r in run_history(pg_schema_url)), 60, "the quiet runs",
                   cluster)
    finally:
        cluster.stop()
    for index in range(flows):
        b = titles(tmp_path / f"b{index}.sqlite")
        assert sorted(b) == sorted(f"f{index} issue {n}" for n in range(issues)), "no duplicate, none lost"
        assert len(titles(tmp_path / f"a{index}.sqlite")) == issues
    history = run_history(pg_schema_url)
    for flow in {row[0] for row in history}:
        spans = sorted((start, end) for name, start, end, _ in history if name == flow)
        for (_, end), (start, _) in itertools.pairwise(spans):
            assert end is not None and end <= start, f"{flow}: two runs overlap"


@pytest.mark.parametrize("broker", ["redis", "amqp"])
def test_a_killed_worker_s_backfill_is_redelivered_and_ends_with_exactly_one_twin_each(
        tmp_path: Path, pg_schema_url: str, broker: str) -> None:
    issues = 1000
    connections, specs = reference_flows(tmp_path, 1, page_size=50)
    seed(tmp_path / "a0.sqlite", issues, "big")
    target = ReferenceStore(str(tmp_path / "b0.sqlite"))
    target.inject("create", "delay", times=None, delay=0.004)  # ~4 s of creates: time to kill one
    target.close()
    cluster = Cluster(tmp_path, pg_schema_url, broker_url(broker), connections=connections, flows=specs,
                      redelivery_seconds=8)
    try:
        cluster.start_workers(2)
        assert cluster.cli("daemon", "--once").exit_code == 0
        wait_until(lambda: len(titles(tmp_path / "b0.sqlite")) >= 150, 60, "the backfill to start", cluster)
        store = StateStore.open(pg_schema_url)
        holder = store.lease_holder("flow0")
        store.close()
        assert holder is not None
        host, _, pid = holder.rpartition(":")
        assert host == socket.gethostname()
        [running] = [w for w in cluster.workers if w.pid == int(pid)]
        cluster.kill(running.pid)
        running.wait()
        assert len(titles(tmp_path / "b0.sqlite")) < issues, "killed in the middle"
        wait_until(lambda: len(titles(tmp_path / "b0.sqlite")) >= issues
                   and any(r[3] == "ok" for r in run_history(pg_schema_url)), 90, "the redelivered run",
                   cluster)
    finally:
        cluster.stop()
    b = titles(tmp_path / "b0.sqlite")
    assert len(b) == issues and len(set(b)) == issues, "exactly 1,000 twins"


def test_queue_mode_with_sqlite_state_is_a_clear_error(tmp_path: Path) -> None:
    connections, specs = reference_flows(tmp_path, 1)
    cluster = Cluster(tmp_path, f"sqlite:///{tmp_path / 'state.db'}", "redis://127.0.0.1:6379/0",
                      connections=connections, flows=specs)
    for command in (["worker"], ["daemon", "--once"], ["sync"]):
        result = cluster.cli(*command)
        assert result.exit_code == 2, result.output
        assert "queue mode needs a PostgreSQL state store" in result.output
