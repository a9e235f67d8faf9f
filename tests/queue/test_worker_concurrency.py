"""Issue 14: one ``pmhub worker --concurrency 2`` process runs two different flows at once (two pool
processes, each holding its flow's lease) and never one flow twice at once: a run of a flow queued
while the flow runs is taken by the idle pool process, finds the lease held and is skipped."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.config import load_config
from hub.plugins import build_plugin_manager
from hub.queue.client import QueueClient
from hub.queue.ledger import outcomes
from hub.state.store import StateStore
from hub.testing.reference import ReferenceStore
from tests.queue.cluster import Cluster, broker_url, pg_schema_url, wait_until
from tests.queue.test_queue_mode import reference_flows, run_history, seed, titles

__all__ = ["pg_schema_url"]

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

ISSUES = 150


def test_one_worker_with_concurrency_two_runs_two_flows_at_once_and_one_flow_once_at_a_time(
        tmp_path: Path, pg_schema_url: str) -> None:
    connections, specs = reference_flows(tmp_path, 2, page_size=50)
    for index in range(2):
        seed(tmp_path / f"a{index}.sqlite", ISSUES, f"f{index}")
        target = ReferenceStore(str(tmp_path / f"b{index}.sqlite"))
        target.inject("create", "delay", times=None, delay=0.02)  # ~3 s of creates per flow
        target.close()
    cluster = Cluster(tmp_path, pg_schema_url, broker_url("redis"), connections=connections, flows=specs)
    config = load_config(cluster.config, build_plugin_manager())
    store = StateStore.open(config.state.url)
    client = QueueClient(config, store)
    holders: dict[str, set[str]] = {"flow0": set(), "flow1": set()}

    def holding(flow: str) -> bool:
        holder = store.lease_holder(flow)
        if holder is not None:
            holders[flow].add(holder)
        return holder is not None

    try:
        cluster.start_workers(1, "--concurrency", "2")
        assert client.enqueue_flow("flow0")
        wait_until(lambda: holding("flow0"), 60, "flow0 to start", cluster)
        # flow0 runs: its waiting marker is gone, so this run is sent, and the idle process takes it.
        assert client.enqueue_flow("flow0")
        wait_until(lambda: outcomes(store).get(("pmhub.run_flow", "skipped")) == 1, 30,
                   "the second run of flow0 to be skipped", cluster)
        assert client.enqueue_flow("flow1")
        wait_until(lambda: holding("flow1") and holding("flow0"), 30, "both flows at once", cluster)
        wait_until(lambda: all(len(titles(tmp_path / f"b{i}.sqlite")) == ISSUES for i in range(2)), 60,
                   "both backfills", cluster)
        wait_until(lambda: outcomes(store).get(("pmhub.run_flow", "ok")) == 2, 30, "both runs", cluster)
    finally:
        client.close()
        store.close()
        cluster.stop()
    assert len(cluster.workers) == 1
    # Two processes of the one worker held the two leases.
    [first], [second] = holders["flow0"], holders["flow1"]
    assert first != second and first.rpartition(":")[0] == second.rpartition(":")[0]
    history = {flow: (start, end) for flow, start, end, status in run_history(pg_schema_url)}
    assert len(run_history(pg_schema_url)) == 2, "the skipped run left no run record"
    (start0, end0), (start1, end1) = history["flow0"], history["flow1"]
    assert end0 is not None and end1 is not None
    assert start1 < end0 and start0 < end1, "the two flows ran at the same time"
    for index in range(2):
        assert sorted(titles(tmp_path / f"b{index}.sqlite")) == sorted(
            f"f{index} issue {n}" for n in range(ISSUES)), "no duplicate, none lost"
