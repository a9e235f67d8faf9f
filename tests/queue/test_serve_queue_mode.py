"""Issue 14 item 1, end to end: ``pmhub serve`` in queue mode (a real process) receives a signed
delivery the sandbox's GitHub sends after an edit, queues a targeted sync of that issue, a
``pmhub worker`` process runs it, and the Jira twin appears; nothing polls (the schedule is a year
away) and serve syncs nothing itself."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from hub.testing.sandbox_client import SandboxClient
from tests.queue.cluster import Cluster, broker_url, pg_schema_url, wait_until
from tests.queue.github_flows import TOKEN, connections, github_jira_flows
from tests.sandbox.github_support import github_client
from tests.sandbox.jira_support import jira_client
from tests.service.support import free_port

__all__ = ["pg_schema_url"]

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

SECRET = "queue-hook-secret-5e21"


def test_a_webhook_delivery_to_serve_becomes_a_targeted_sync_a_worker_runs(
        tmp_path: Path, pg_schema_url: str, sandbox: SandboxClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PMHUB_TEST_QUEUE_HOOK", SECRET)
    flows = github_jira_flows(sandbox, 1, 0)
    cluster = Cluster(tmp_path, pg_schema_url, broker_url("redis"), flows=flows, connections=connections(
        sandbox, seconds_between_writes=0, webhook_secret={"env": "PMHUB_TEST_QUEUE_HOOK"}))
    port = free_port()
    with cluster.config.open("a", encoding="utf-8") as file:
        file.write(f"\n[server]\nport = {port}\ndebounce_seconds = 0.2\n")
    url = f"http://127.0.0.1:{port}"
    log = (tmp_path / "serve.log").open("wb")
    serve = subprocess.Popen([sys.executable, "-m", "hub", "serve", "--config", str(cluster.config)],
                             env=cluster.env, stdout=log, stderr=subprocess.STDOUT)

    def answering() -> bool:
        assert serve.poll() is None, (tmp_path / "serve.log").read_text()
        try:
            return requests.get(f"{url}/healthz", timeout=1).status_code == 200
        except requests.ConnectionError:
            return False

    def outcomes() -> dict[str, int]:
        result = cluster.cli("status", "--json")
        assert result.exit_code == 0, result.output
        return dict(json.loads(result.output)["queue"]["outcomes"])

    try:
        cluster.start_workers(1)
        wait_until(answering, 30, "pmhub serve")
        repo = github_client(sandbox.base("github"), token=TOKEN).get_repo("acme/r0")
        repo.create_hook("web", {"url": f"{url}/hooks/gh", "content_type": "json", "secret": SECRET},
                         ["issues"], True)
        repo.create_issue("Queued by a webhook")  # the stand-in delivers "issues opened", signed
        jira = jira_client(sandbox.base("jira"), token=TOKEN)
        wait_until(lambda: len(jira.search_issues("project = P0")) == 1, 60, "the Jira twin", cluster)
        wait_until(lambda: outcomes().get("pmhub.sync_records ok") == 1, 30, "the task's outcome", cluster)
        time.sleep(0.5)  # nothing else arrives: one delivery, one task
    finally:
        serve.terminate()
        serve.wait(30)
        cluster.stop()
    [twin] = jira.search_issues("project = P0")
    assert twin.fields.summary == "Queued by a webhook"
    deliveries = sandbox.webhook_deliveries("github")
    assert [d["status"] for d in deliveries if d["event"] != "ping"] == [202], deliveries
    assert outcomes() == {"pmhub.sync_records ok": 1}, "a targeted sync on a worker, no flow run"
