"""Issue 10 items 1 and 2 through ``pmhub sync``, the sandbox and the real PyGithub and ``jira``
clients: a create slower than the client's timeout is not sent twice, a record carrying this flow's
marker is adopted as its twin (never copied back), and a lost state store is rebuilt by marker."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest
import tomli_w

from hub.testing.sandbox_client import SandboxClient
from tests.integration.test_github_jira import PROJECT, GitHubJira

COMMENTS = r"^/repos/[^/]+/[^/]+/issues/\d+/comments$"


@pytest.fixture
def hub(tmp_path: Path, sandbox: SandboxClient) -> GitHubJira:
    return GitHubJira(tmp_path, sandbox)


def with_timeout(hub: GitHubJira, seconds: int) -> None:
    """The GitHub connection's client timeout, in the flow's config file."""
    data = tomllib.loads(hub.config.read_text())
    data["connections"]["gh"]["timeout"] = seconds
    hub.config.write_text(tomli_w.dumps(data))


def github_comments(hub: GitHubJira) -> list[Any]:
    return [c for issue in hub.repo.get_issues(state="all") for c in issue.get_comments()]


def jira_comments(hub: GitHubJira) -> list[Any]:
    return [c for issue in hub.jira_issues() for c in hub.jira.comments(issue.key)]


def test_a_comment_create_slower_than_the_timeout_lands_once_and_never_comes_back(
        hub: GitHubJira, sandbox: SandboxClient) -> None:
    with_timeout(hub, 1)
    born = hub.jira.create_issue(project=PROJECT, summary="Slow writes", issuetype={"name": "Task"})
    hub.sync()
    hub.jira.add_comment(born, "Seen on the staging server too.")
    # As reported: the create is delayed beyond the client's timeout, twice; the server completes it.
    sandbox.fault("github", method="POST", path=COMMENTS, delay=1.6, times=2)
    hub.sync(expect=None)
    sandbox.clear_faults()
    hub.sync(expect=None)
    hub.sync()

    on_github = github_comments(hub)
    assert len(on_github) == 1, [c.body for c in on_github]
    assert [c.body for c in jira_comments(hub)] == ["Seen on the staging server too."], \
        "no copy travelled back to Jira"
    posts = [r for r in sandbox.requests("github") if r["method"] == "POST" and "/comments" in r["path"]]
    assert len(posts) == 1, "the create was never re-sent blind"


def test_a_github_issue_carrying_the_flows_marker_unknown_to_the_ledger_is_adopted_not_copied(
        hub: GitHubJira, sandbox: SandboxClient, tmp_path: Path) -> None:
    hub.jira.create_issue(project=PROJECT, summary="Born in Jira", issuetype={"name": "Task"})
    hub.sync()
    [twin] = list(hub.repo.get_issues(state="all"))
    # A second copy carrying the same marker (as a create that was sent twice would leave).
    copy = hub.repo.create_issue(twin.title, body=twin.body)
    hub.sync(expect=1)
    hub.sync(expect=None)

    assert [i.fields.summary for i in hub.jira_issues()] == ["Born in Jira"], "the copy was not copied"
    status = hub.sync(expect=None)
    assert "Born in Jira" not in status.output
    from click.testing import CliRunner

    from hub.cli import main

    parked = CliRunner().invoke(main, ["parked", "--config", str(hub.config)], catch_exceptions=False)
    assert f"a:{copy.number}" in parked.output and "duplicate" in parked.output
    shown = CliRunner().invoke(main, ["status", "--json", "--config", str(hub.config)],
                               catch_exceptions=False)
    assert '"duplicates": 1' in shown.output


def test_a_marked_github_issue_whose_state_was_lost_is_adopted(hub: GitHubJira) -> None:
    hub.jira.create_issue(project=PROJECT, summary="Jira first", issuetype={"name": "Task"})
    hub.sync()
    (hub.config.parent / "state.db").unlink()
    hub.sync()
    assert [i.title for i in hub.repo.get_issues(state="all")] == ["Jira first"]
    assert [i.fields.summary for i in hub.jira_issues()] == ["Jira first"]


def test_after_the_state_store_is_lost_a_sync_rebuilds_every_link_and_creates_nothing(
        hub: GitHubJira, sandbox: SandboxClient) -> None:
    gh_born = hub.repo.create_issue("Born on GitHub", body="From the repo.")
    gh_born.create_comment("A GitHub comment on a GitHub issue.")
    jira_born = hub.jira.create_issue(project=PROJECT, summary="Born in Jira", issuetype={"name": "Task"})
    hub.jira.add_comment(jira_born, "A Jira comment on a Jira issue.")
    hub.sync()
    # Comments born on the other side of each pair too: every direction and record type.
    hub.jira.add_comment(hub.twin_of(gh_born.number), "A Jira comment on a GitHub issue.")
    [gh_twin] = [i for i in hub.repo.get_issues(state="all") if i.title == "Born in Jira"]
    gh_twin.create_comment("A GitHub comment on a Jira issue.")
    hub.sync()
    hub.sync()
    before = (sorted(i.title for i in hub.repo.get_issues(state="all")),
              sorted(i.fields.summary for i in hub.jira_issues()),
              len(github_comments(hub)), len(jira_comments(hub)))
    assert before[2:] == (4, 4)

    (hub.config.parent / "state.db").unlink()
    sandbox.clear_requests()
    hub.sync()

    creates = [r for r in sandbox.requests() if r["method"] == "POST"
               and r["path"].endswith(("/issues", "/comments", "/issue", "/issue/bulk", "/comment"))]
    assert creates == [], [(r["service"], r["path"]) for r in creates]
    after = (sorted(i.title for i in hub.repo.get_issues(state="all")),
             sorted(i.fields.summary for i in hub.jira_issues()),
             len(github_comments(hub)), len(jira_comments(hub)))
    assert after == before
    from hub.state.store import StateStore

    store = StateStore.open(f"sqlite:///{hub.config.parent / 'state.db'}")
    try:
        assert store.count_links("portal") == 2 + 4, "both issue pairs and all four comment pairs linked"
    finally:
        store.close()
    sandbox.clear_requests()
    hub.sync()
    assert hub.writes() == [], "a quiet run afterwards writes nothing"


def test_a_create_that_stopped_half_way_is_completed_when_found_by_marker(
        hub: GitHubJira, sandbox: SandboxClient) -> None:
    born = hub.jira.create_issue(project=PROJECT, summary="Finished in Jira", issuetype={"name": "Task"})
    done = next(t["id"] for t in hub.jira.transitions(born) if t["to"]["name"] == "Done")
    hub.jira.transition_issue(born, done)
    # GitHub creates an issue open; closing it is a second request, and that one fails.
    sandbox.fault("github", method="PATCH", path=r"^/repos/[^/]+/[^/]+/issues/\d+$", status=502, times=1)
    hub.sync(expect=None)
    hub.sync()
    [issue] = list(hub.repo.get_issues(state="all"))
    assert (issue.title, issue.state) == ("Finished in Jira", "closed")
    assert [i.fields.status.name for i in hub.jira_issues()] == ["Done"]
