"""GitHub <-> Jira end to end: ``pmhub sync`` through the CLI against the sandbox, with the real
PyGithub and ``jira`` clients on both the hub's side and the test's side (issue 4)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import requests
from click.testing import CliRunner, Result

from hub.cli import main
from hub.sandbox.server import SandboxServer, build_sandbox
from hub.testing.sandbox_client import SandboxClient
from tests.conftest import write_config
from tests.sandbox.github_support import github_client
from tests.sandbox.jira_support import EMAIL, jira_client

REPO = "acme/portal"
PROJECT = "PORT"
TOKEN = "sandbox-token"
#: The sandbox's only Jira account: comments written through the API are its.
JIRA_BOT = "pmhub-bot"
#: Requests that list records, per service: one per side and record kind is what a no-op run may cost.
LISTINGS = {
    "github": {"issue": re.compile(r"^/repos/[^/]+/[^/]+/issues$"),
               "comment": re.compile(r"^/repos/[^/]+/[^/]+/issues/comments$")},
    "jira": {"search": re.compile(r"/rest/api/\d/search/jql$")},
}
WRITES = ("POST", "PUT", "PATCH", "DELETE")


class GitHubJira:
    """A GitHub repository and a Jira project joined by one two-way flow, and clients for both."""

    def __init__(self, tmp_path: Path, sandbox: SandboxClient, *, token: str = TOKEN) -> None:
        self.sandbox = sandbox
        # The empty seed: the repository and the project are made through the real APIs.
        self.gh = github_client(sandbox.base("github"), token=token, per_page=100)
        self.repo = self.gh.get_organization("acme").create_repo("portal")
        reply = requests.post(f"{sandbox.base('jira')}/rest/api/2/project", auth=(EMAIL, token),
                              timeout=10, json={"key": PROJECT, "name": "Acme Portal",
                                                "projectTypeKey": "software"})
        reply.raise_for_status()
        self.jira = jira_client(sandbox.base("jira"), token=token)
        self.config = write_config(
            tmp_path / "pmhub.toml", state_url=f"sqlite:///{tmp_path / 'state.db'}",
            connections={
                "gh": {"plugin": "github", "base_url": sandbox.base("github"), "token": token,
                       "seconds_between_writes": 0, "timeout": 10},
                "jira": {"plugin": "jira", "base_url": sandbox.base("jira"), "email": EMAIL,
                         "token": token, "timeout": 10},
            },
            flows=[{"name": "portal", "a": {"connection": "gh", "scope": REPO},
                    "b": {"connection": "jira", "scope": PROJECT}, "mapping": "github-jira",
                    "records": ["issue", "comment"]}])

    def sync(self, *, expect: int | None = 0) -> Result:
        result = CliRunner().invoke(main, ["sync", "--quiet", "--config", str(self.config)],
                                    catch_exceptions=False)
        if expect is not None:
            assert result.exit_code == expect, result.output
        return result

    def jira_issues(self) -> list[Any]:
        return list(self.jira.search_issues(f"project = {PROJECT} ORDER BY key ASC", maxResults=False))

    def twin_of(self, number: int) -> Any:
        """The Jira issue linked to GitHub issue ``number`` (found by its title, unique in these tests)."""
        title = self.repo.get_issue(number).title
        [twin] = [i for i in self.jira_issues() if i.fields.summary == title]
        return twin

    def writes(self) -> list[dict[str, Any]]:
        return [r for r in self.sandbox.requests() if r["method"] in WRITES]


def listing_counts(log: list[dict[str, Any]]) -> Counter[tuple[str, str]]:
    counts: Counter[tuple[str, str]] = Counter()
    for entry in log:
        for kind, pattern in LISTINGS.get(entry["service"], {}).items():
            if entry["method"] == "GET" and pattern.search(entry["path"]):
                counts[(entry["service"], kind)] += 1
    return counts


@pytest.fixture
def hub(tmp_path: Path, sandbox: SandboxClient) -> GitHubJira:
    return GitHubJira(tmp_path, sandbox)


def test_github_issues_get_jira_twins_with_mapped_fields(hub: GitHubJira) -> None:
    hub.repo.create_issue("SSO login loops", body="Globex users **cannot** sign in.",
                          labels=["bug", "priority: high", "customer"])
    hub.repo.create_issue("Export invoices as CSV", body="Finance wants a monthly export.",
                          labels=["enhancement", "customer"])
    done = hub.repo.create_issue("Document the rate limits", body="Per-token limits.")
    done.edit(state="closed", state_reason="completed")

    hub.sync()

    twins = {i.fields.summary: i.fields for i in hub.jira_issues()}
    assert sorted(twins) == ["Document the rate limits", "Export invoices as CSV", "SSO login loops"]
    sso = twins["SSO login loops"]
    assert sso.description == "Globex users *cannot* sign in.", "Markdown became wiki markup"
    assert (sso.issuetype.name, sso.priority.name, sso.status.name) == ("Bug", "High", "To Do")
    assert [x for x in sso.labels if not x.startswith("pmhub-")] == ["customer"], \
        "the priority and kind labels became fields, the rest stayed labels"
    assert len([x for x in sso.labels if x.startswith("pmhub-")]) == 1, "one marker label"
    export = twins["Export invoices as CSV"]
    assert (export.issuetype.name, export.status.name) == ("Story", "To Do")
    assert [x for x in export.labels if not x.startswith("pmhub-")] == ["customer"]
    docs = twins["Document the rate limits"]
    assert (docs.issuetype.name, docs.status.name) == ("Task", "Done"), "closed as completed is Done"


def test_jira_edits_reach_github_and_a_github_reopen_reaches_jira(hub: GitHubJira) -> None:
    issue = hub.repo.create_issue("Search is slow", body="8 s for 50k tickets.", labels=["bug"])
    hub.sync()
    twin = hub.twin_of(issue.number)

    twin.update(fields={"summary": "Search is slow on large accounts"})
    done = next(t["id"] for t in hub.jira.transitions(twin) if t["to"]["name"] == "Done")
    hub.jira.transition_issue(twin, done)
    hub.jira.add_comment(twin, "Fixed by the *new* index.")  # wiki bold
    hub.sync()

    issue = hub.repo.get_issue(issue.number)
    assert issue.title == "Search is slow on large accounts"
    assert (issue.state, issue.state_reason) == ("closed", "completed")
    [comment] = list(issue.get_comments())
    assert comment.body.startswith(f"**{JIRA_BOT}** (via jira):\n\nFixed by the **new** index."), \
        "copied with its author attributed, wiki markup back to Markdown"

    issue.edit(state="open", state_reason="reopened")
    hub.sync()
    assert hub.jira.issue(twin.key).fields.status.name == "To Do"
    assert len(list(hub.repo.get_issue(issue.number).get_comments())) == 1, "no echo of the comment"
    assert len(hub.jira.comments(twin.key)) == 1


def test_a_run_with_nothing_changed_writes_nothing_and_lists_once_per_side_and_kind(
        hub: GitHubJira) -> None:
    for n in range(3):
        created = hub.repo.create_issue(f"Issue {n}", body=f"Body {n}", labels=["customer"])
    created.create_comment("A comment to carry over")
    hub.sync()
    # The run after a backfill reads our own creates back once (the new side had no cursor yet and
    # Jira's cursor overlaps by minutes); it writes nothing, but the claim is about the run after.
    hub.sync()
    hub.sandbox.clear_requests()

    hub.sync()

    log = hub.sandbox.requests()
    assert [r for r in log if r["method"] in WRITES] == [], "a no-op run writes nothing"
    listings = listing_counts(log)
    assert listings[("github", "issue")] <= 1 and listings[("github", "comment")] <= 1, listings
    # Jira lists issues and comments through the same search endpoint: one search per record kind.
    assert listings[("jira", "search")] <= 2, listings
    per_record = [r for r in log if re.search(r"/issues/\d+$|/issue/\d+$", r["path"])]
    assert per_record == [], "never one request per record"


@pytest.mark.parametrize("issues", [1, 3], ids=["single-create", "bulk-create"])
def test_a_lost_jira_create_reply_leaves_exactly_one_twin(hub: GitHubJira, issues: int) -> None:
    for n in range(issues):
        hub.repo.create_issue(f"Exactly once {n}")
    hub.sandbox.fault("jira", method="POST", path=r"/issue(/bulk)?$", status=502, after_commit=True)
    # The run may recover within its retries (finding the marker) or leave it to the next run.
    hub.sync(expect=None)
    assert [r for r in hub.sandbox.requests("jira") if r.get("fault")], "the reply was lost"
    hub.sync()
    hub.sync()
    summaries = sorted(i.fields.summary for i in hub.jira_issues())
    assert summaries == [f"Exactly once {n}" for n in range(issues)]


def test_a_lost_github_create_reply_leaves_exactly_one_twin(hub: GitHubJira) -> None:
    hub.jira.create_issue(project=PROJECT, summary="Born in Jira", issuetype={"name": "Task"})
    hub.sandbox.fault("github", method="POST", path=r"^/repos/.*/issues$", status=502, after_commit=True)
    hub.sync(expect=None)
    assert [r for r in hub.sandbox.requests("github") if r.get("fault")], "the reply was lost"
    hub.sync()
    hub.sync()
    titles = [i.title for i in hub.repo.get_issues(state="all")]
    assert titles == ["Born in Jira"]


@pytest.mark.parametrize(("service", "method", "path"), [
    ("github", "GET", r"^/repos/.*/issues$"),
    ("jira", "POST", r"/issue(/bulk)?$"),
], ids=["github-listing", "jira-create"])
def test_429_with_retry_after_is_waited_out_and_the_run_completes(
        hub: GitHubJira, service: str, method: str, path: str) -> None:
    for n in range(2):
        hub.repo.create_issue(f"Throttled {n}")
    hub.sandbox.fault(service, method=method, path=path, status=429, retry_after=1)
    started = time.monotonic()
    hub.sync()
    elapsed = time.monotonic() - started
    # The configured backoff is 0.01 s (tests/conftest.py): only Retry-After explains a 1 s wait.
    assert elapsed >= 1.0, f"Retry-After: 1 not honoured (run took {elapsed:.2f} s)"
    faulted = [r for r in hub.sandbox.requests(service) if r.get("fault")]
    assert [r["status"] for r in faulted] == [429]
    assert sorted(i.fields.summary for i in hub.jira_issues()) == ["Throttled 0", "Throttled 1"]


def test_kill_9_during_a_backfill_of_1000_issues_then_a_rerun_leaves_exactly_1000_twins(
        hub: GitHubJira) -> None:
    total = 1000
    seed_issues(hub.sandbox.base("github"), total)
    # Slow Jira's creates so the kill lands in the middle of the backfill, with bulk creates both
    # answered and in flight (a delayed request is still applied after its client is gone).
    hub.sandbox.fault("jira", method="POST", path=r"/issue/bulk$", delay=0.15, times=total)
    command = [sys.executable, "-m", "hub", "sync", "--quiet", "--config", str(hub.config)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               env=os.environ.copy())
    try:
        deadline = time.monotonic() + 60
        # 13 bulk creates of 50: the engine's first page of 500 is committed, the second is not.
        while bulk_creates(hub.sandbox) < 13:
            assert process.poll() is None, process.stdout.read().decode() if process.stdout else ""
            assert time.monotonic() < deadline, "the backfill never got going"
            time.sleep(0.05)
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
    hub.sandbox.clear_faults()
    partial = len(hub.jira_issues())
    assert 0 < partial < total, f"the kill should land midway ({partial} twins)"

    rerun = subprocess.run(command, capture_output=True, text=True, timeout=120, env=os.environ.copy())
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr

    twins = hub.jira_issues()
    assert len(twins) == total
    assert len({i.fields.summary for i in twins}) == total, "one twin per GitHub issue"
    hub.sandbox.clear_requests()
    hub.sync()
    assert not [r for r in hub.sandbox.requests("jira") if r["method"] == "POST"
                and r["path"].endswith(("/issue", "/issue/bulk"))], "nothing left to create"


@pytest.mark.parametrize("wrong", ["gh", "jira"])
def test_a_bad_token_stops_with_a_clear_error_naming_the_connection_and_writes_nothing(
        tmp_path: Path, wrong: str) -> None:
    with SandboxServer(build_sandbox(token="right")) as server:
        sandbox = SandboxClient(server.url)
        hub = GitHubJira(tmp_path, sandbox, token="right")
        hub.repo.create_issue("Needs a twin")
        # The same config, but one connection with a token the sandbox refuses.
        text = hub.config.read_text(encoding="utf-8")
        section = f"[connections.{wrong}]"
        head, _, tail = text.partition(section)
        hub.config.write_text(head + section + tail.replace('token = "right"', 'token = "wrong"', 1),
                              encoding="utf-8")
        sandbox.clear_requests()

        result = hub.sync(expect=None)

        assert result.exit_code != 0
        output = result.output
        assert re.search(rf"\b{wrong}\b", output) and re.search(r"auth|401|credentials", output, re.I), \
            output
        assert "Traceback" not in output
        assert [r for r in sandbox.requests() if r["method"] in WRITES] == [], "nothing written"
        assert [r for r in sandbox.requests() if r["status"] == 401], "the wrong token was refused"


# -- helpers -----------------------------------------------------------------------------------
def seed_issues(base: str, count: int) -> None:
    """``count`` GitHub issues through the REST API on one kept-alive connection (a few seconds)."""
    http = requests.Session()
    http.headers["Authorization"] = f"token {TOKEN}"
    for n in range(count):
        reply = http.post(f"{base}/repos/{REPO}/issues", json={"title": f"Backfill {n:04d}",
                                                               "body": f"Issue number {n}."}, timeout=10)
        reply.raise_for_status()


def bulk_creates(sandbox: SandboxClient) -> int:
    return sum(1 for r in sandbox.requests("jira") if r["method"] == "POST"
               and r["path"].endswith("/issue/bulk"))
