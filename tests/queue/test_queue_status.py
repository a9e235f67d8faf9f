"""Issue 14 items 2 and 5: a flow's queued runs collapse while one waits; ``pmhub status`` and the
``/metrics`` collector show the queue (waiting, running, depth) and how the workers' tasks ended."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from hub.queue.client import QueueClient
from hub.queue.observe import QueueGauges
from hub.testing.reference import ReferenceStore
from tests.queue.cluster import Cluster, broker_url, pg_schema_url, wait_until
from tests.queue.test_queue_mode import reference_flows, seed

__all__ = ["pg_schema_url"]

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


def status(cluster: Cluster) -> dict:
    result = cluster.cli("status", "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def scrape(cluster: Cluster) -> str:
    from hub.config import load_config
    from hub.plugins import build_plugin_manager
    from hub.state.store import StateStore

    config = load_config(cluster.config, build_plugin_manager())
    store = StateStore.open(config.state.url)
    client = QueueClient(config, store)
    registry = CollectorRegistry()
    registry.register(QueueGauges(store, [f.name for f in config.flows], client.app, client.queue_name))
    try:
        return generate_latest(registry).decode()
    finally:
        client.close()
        store.close()


@pytest.mark.parametrize("broker", ["redis", "amqp"])
def test_queued_runs_collapse_and_status_and_metrics_show_the_queue(
        tmp_path: Path, pg_schema_url: str, broker: str) -> None:
    connections, specs = reference_flows(tmp_path, 2)
    for index in range(2):
        seed(tmp_path / f"a{index}.sqlite", 5, f"f{index}")
    cluster = Cluster(tmp_path, pg_schema_url, broker_url(broker), connections=connections, flows=specs)
    try:
        assert "flow0: queued" in cluster.cli("daemon", "--once").output
        again = cluster.cli("daemon", "--once").output
        assert "flow0: a run is waiting already; not queued again" in again, again
        queue = status(cluster)["queue"]
        assert set(queue["waiting"]) == {"flow0", "flow1"}
        assert queue["depth"] == 2, "the second round was dropped, not sent"
        metrics = scrape(cluster)
        assert "pmhub_queue_depth 2.0" in metrics
        assert 'pmhub_queue_waiting{flow="flow0"} 1.0' in metrics

        cluster.start_workers(1)
        wait_until(lambda: all(ReferenceStore(str(tmp_path / f"b{i}.sqlite")).count("proj", "issue") == 5
                               for i in range(2)), 60, "both flows", cluster)
        wait_until(lambda: status(cluster)["queue"]["outcomes"].get("pmhub.run_flow ok") == 2, 30,
                   "the outcomes", cluster)
    finally:
        cluster.stop()
    queue = status(cluster)["queue"]
    assert queue["waiting"] == {} and queue["running"] == {} and queue["depth"] == 0
    assert 'pmhub_queue_tasks_total{outcome="ok",task="pmhub.run_flow"} 2.0' in scrape(cluster)
    text = cluster.cli("status").output
    assert "queue: 0 task(s) in the broker; 0 flow run(s) waiting, 0 running" in text


def test_a_targeted_sync_queued_as_serve_does_syncs_just_those_records_on_a_worker(
        tmp_path: Path, pg_schema_url: str) -> None:
    from hub.config import load_config
    from hub.model import Issue
    from hub.plugins import build_plugin_manager
    from hub.state.store import StateStore

    connections, specs = reference_flows(tmp_path, 1)
    source = ReferenceStore(str(tmp_path / "a0.sqlite"))
    ids = [source.put("proj", "issue", Issue(title=f"edited {n}")) for n in range(3)]
    source.close()
    cluster = Cluster(tmp_path, pg_schema_url, broker_url("redis"), connections=connections, flows=specs)
    config = load_config(cluster.config, build_plugin_manager())
    store = StateStore.open(config.state.url)
    client = QueueClient(config, store)
    try:
        client.enqueue_records("flow0", "issue", "a", ids[:2])  # what SyncWorker does in queue mode
        cluster.start_workers(1)
        target = ReferenceStore(str(tmp_path / "b0.sqlite"))
        wait_until(lambda: target.count("proj", "issue") == 2, 60, "the targeted sync", cluster)
        wait_until(lambda: status(cluster)["queue"]["outcomes"].get("pmhub.sync_records ok") == 1, 30,
                   "its outcome", cluster)
        assert sorted(item.title for _, item in target.all("proj", "issue")) == ["edited 0", "edited 1"]
        target.close()
    finally:
        client.close()
        store.close()
        cluster.stop()
