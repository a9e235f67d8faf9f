"""Issue 14 item 3: four workers writing to one GitHub connection keep its write spacing together
(measured on the sandbox's request log), through the real PyGithub client in worker processes."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
import requests

from hub.testing.sandbox_client import SandboxClient
from tests.queue.cluster import Cluster, broker_url, pg_schema_url, wait_until
from tests.sandbox.github_support import github_client
from tests.sandbox.jira_support import EMAIL, jira_client

__all__ = ["pg_schema_url"]

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

TOKEN = "sandbox-token"
SPACING = 0.3
FLOWS, ISSUES = 4, 4


def test_four_workers_keep_one_github_connection_s_write_spacing_together(
        tmp_path: Path, pg_schema_url: str, sandbox: SandboxClient) -> None:
    gh = github_client(sandbox.base("github"), token=TOKEN, per_page=100)
    jira = jira_client(sandbox.base("jira"), token=TOKEN)
    flows = []
    for index in range(FLOWS):
        gh.get_organization("acme").create_repo(f"r{index}")
        key = f"P{index}"
        requests.post(f"{sandbox.base('jira')}/rest/api/2/project", auth=(EMAIL, TOKEN), timeout=10,
                      json={"key": key, "name": f"Project {index}", "projectTypeKey": "software"},
                      ).raise_for_status()
        for number in range(ISSUES):
            jira.create_issue(project=key, summary=f"{key} issue {number}", issuetype={"name": "Task"})
        flows.append({"name": f"flow{index}", "a": {"connection": "gh", "scope": f"acme/r{index}"},
                      "b": {"connection": "jira", "scope": key}, "mapping": "github-jira",
                      "records": ["issue"], "schedule": "0 0 1 1 *"})
    connections = {
        "gh": {"plugin": "github", "base_url": sandbox.base("github"), "token": TOKEN,
               "seconds_between_writes": SPACING, "timeout": 10},
        "jira": {"plugin": "jira", "base_url": sandbox.base("jira"), "email": EMAIL, "token": TOKEN,
                 "timeout": 10},
    }
    cluster = Cluster(tmp_path, pg_schema_url, broker_url("redis"), connections=connections, flows=flows)
    try:
        cluster.start_workers(4)
        sandbox.clear_requests()
        assert cluster.cli("daemon", "--once").exit_code == 0

        def writes() -> list[float]:
            return sorted(r["at"] for r in sandbox.requests("github") if r["method"] != "GET")

        wait_until(lambda: all(gh.get_repo(f"acme/r{i}").get_issues(state="all").totalCount == ISSUES
                               for i in range(FLOWS)), 90, "every issue on GitHub", cluster)
    finally:
        cluster.stop()
    times = writes()
    assert len(times) >= FLOWS * ISSUES
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    # Answer times, not send times: a little loopback jitter either way.
    assert min(gaps) >= SPACING - 0.05, f"writes closer than {SPACING} s: {sorted(gaps)[:5]}"
