"""Issue 14 item 3: four workers writing to one GitHub connection keep its write spacing together
(measured on the sandbox's request log), through the real PyGithub client in worker processes."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from hub.testing.sandbox_client import SandboxClient
from tests.queue.cluster import Cluster, broker_url, pg_schema_url, wait_until
from tests.queue.github_flows import connections, github_jira_flows, issues_on_github

__all__ = ["pg_schema_url"]

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

SPACING = 0.3
FLOWS, ISSUES = 4, 4


def test_four_workers_keep_one_github_connection_s_write_spacing_together(
        tmp_path: Path, pg_schema_url: str, sandbox: SandboxClient) -> None:
    flows = github_jira_flows(sandbox, FLOWS, ISSUES)
    cluster = Cluster(tmp_path, pg_schema_url, broker_url("redis"), flows=flows,
                      connections=connections(sandbox, seconds_between_writes=SPACING))
    try:
        cluster.start_workers(4)
        sandbox.clear_requests()
        assert cluster.cli("daemon", "--once").exit_code == 0
        wait_until(lambda: issues_on_github(sandbox, FLOWS) == [ISSUES] * FLOWS, 90,
                   "every issue on GitHub", cluster)
    finally:
        cluster.stop()
    times = sorted(r["at"] for r in sandbox.requests("github") if r["method"] != "GET")
    assert len(times) >= FLOWS * ISSUES
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    # Answer times, not send times: a little loopback jitter either way.
    assert min(gaps) >= SPACING - 0.05, f"writes closer than {SPACING} s: {sorted(gaps)[:5]}"
