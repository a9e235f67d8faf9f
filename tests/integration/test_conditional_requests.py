"""A cron no-op run of GitHub <-> Jira through the CLI: GitHub's listings cost only 304s, because
the ETags of the previous run (another process, another connector) are kept in the state store."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from hub.state.store import StateStore
from hub.testing.sandbox_client import SandboxClient
from tests.integration.test_github_jira import WRITES, GitHubJira


def github_statuses(sandbox: SandboxClient) -> Counter[int]:
    return Counter(int(r["status"]) for r in sandbox.requests("github"))


def test_the_second_of_two_no_op_syncs_costs_github_only_304s(tmp_path: Path, sandbox: SandboxClient) -> None:
    hub = GitHubJira(tmp_path, sandbox)
    for n in range(3):
        issue = hub.repo.create_issue(f"Issue {n}", body=f"Body {n}", labels=["customer"])
    issue.create_comment("A comment to carry over")
    hub.sync()  # the backfill: Jira twins for the issues and the comment
    # The first no-op run lists the cursor's overlap; its page matches the backfill's only when all
    # the records fall inside the overlap, so it may pay a 200. The next one cannot differ.
    hub.sync()
    sandbox.clear_requests()

    hub.sync()

    log = sandbox.requests()
    assert [r for r in log if r["method"] in WRITES] == []
    assert github_statuses(sandbox) == Counter({304: 2}), "one 304 per listing: issues, comments"
    store = StateStore.open(f"sqlite:///{tmp_path / 'state.db'}")
    try:
        [run] = store.last_runs()
        assert run["status"] == "ok"
    finally:
        store.close()
    # A change on GitHub is still seen on the next run: a 200, and the twin follows.
    hub.repo.get_issue(issue.number).edit(title="Renamed on GitHub")
    sandbox.clear_requests()
    hub.sync()
    assert github_statuses(sandbox)[200] >= 1
    assert hub.twin_of(issue.number).fields.summary == "Renamed on GitHub"
