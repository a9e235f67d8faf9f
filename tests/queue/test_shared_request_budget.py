"""Issue 14 item 3: a connection's request budget holds for the whole cluster. Four worker processes
against one GitHub connection in the sandbox (the real PyGithub client) keep its
``requests_per_minute`` ceiling together, and a quota one worker heard is spent pauses them all
until it resets, as the sandbox's request log shows."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from hub.testing.sandbox_client import SandboxClient
from tests.queue.cluster import Cluster, broker_url, pg_schema_url, wait_until
from tests.queue.github_flows import connections, github_jira_flows, issues_on_github
from tests.queue.test_queue_mode import run_history

__all__ = ["pg_schema_url"]

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

FLOWS = 4


def all_ran(state_url: str) -> bool:
    history = run_history(state_url)
    return len(history) >= FLOWS and all(run[2] is not None for run in history)


def github_times(sandbox: SandboxClient) -> list[float]:
    return sorted(r["at"] for r in sandbox.requests("github"))


def test_four_workers_keep_one_connection_s_requests_per_minute_together(
        tmp_path: Path, pg_schema_url: str, sandbox: SandboxClient) -> None:
    per_minute = 240  # one request every 0.25 s, whichever worker sends it
    spacing = 60 / per_minute
    flows = github_jira_flows(sandbox, FLOWS, 3)
    cluster = Cluster(tmp_path, pg_schema_url, broker_url("redis"), flows=flows, connections=connections(
        sandbox, seconds_between_writes=0, requests_per_minute=per_minute))
    try:
        cluster.start_workers(4)
        sandbox.clear_requests()
        assert cluster.cli("daemon", "--once").exit_code == 0
        wait_until(lambda: all_ran(pg_schema_url), 90, "every flow's run", cluster)
    finally:
        cluster.stop()
    times = github_times(sandbox)
    assert issues_on_github(sandbox, FLOWS) == [3] * FLOWS
    assert len(times) >= FLOWS * 4, "listings and creates of four flows"
    # Any five requests in a row span four turns (answer times: a little loopback jitter).
    spans = [times[i + 4] - times[i] for i in range(len(times) - 4)]
    assert min(spans) >= 4 * spacing - 0.1, f"{len(times)} requests, closest five in {min(spans):.2f} s"
    rate = (len(times) - 1) / (times[-1] - times[0]) * 60
    assert rate <= per_minute * 1.05, f"{rate:.0f} requests a minute"


def test_a_quota_one_worker_hears_is_spent_pauses_every_worker_until_it_resets(
        tmp_path: Path, pg_schema_url: str, sandbox: SandboxClient) -> None:
    flows = github_jira_flows(sandbox, FLOWS, 5)
    cluster = Cluster(tmp_path, pg_schema_url, broker_url("redis"), flows=flows,
                      connections=connections(sandbox, seconds_between_writes=0.3))
    try:
        cluster.start_workers(4)
        sandbox.clear_requests()
        assert cluster.cli("daemon", "--once").exit_code == 0
        wait_until(lambda: any(r["method"] == "POST" for r in sandbox.requests("github")), 60,
                   "the first create", cluster)
        # The next create is refused as GitHub refuses a spent quota; the reset is a few seconds on.
        reset = int(time.time()) + 7
        sandbox.fault("github", method="POST", path=r"^/repos/acme/r\d/issues$", status=403, times=1,
                      body={"message": "API rate limit exceeded for user ID 1.",
                            "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"},
                      headers={"X-RateLimit-Limit": "5000", "X-RateLimit-Remaining": "0",
                               "X-RateLimit-Used": "5000", "X-RateLimit-Reset": str(reset),
                               "X-RateLimit-Resource": "core"})
        wait_until(lambda: all_ran(pg_schema_url), 90, "every flow's run", cluster)
    finally:
        cluster.stop()
    log = sandbox.requests("github")
    [refused] = [r["at"] for r in log if r.get("fault")]
    assert refused < reset - 4, "refused early enough to leave a pause to watch"
    # A worker reads what the others heard at most once a second, and a request may be on its way.
    paused = [r for r in log if refused + 1.5 < r["at"] < reset - 0.1]
    assert paused == [], f"{len(paused)} GitHub requests while the quota was spent: {paused[:3]}"
    after = {r["path"].split("/")[3] for r in log if r["at"] >= reset - 0.1 and r["method"] == "POST"}
    assert len(after) >= 2, f"the other workers were paused, not done: {sorted(after)}"
    assert issues_on_github(sandbox, FLOWS) == [5] * FLOWS
