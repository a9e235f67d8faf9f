"""GitHub's secondary rate limits during ``pmhub sync`` (issue 10, item 6), through the CLI, the
sandbox and PyGithub: a 403 saying "secondary rate limit" is waited out, never an auth failure.

GitHub's guidance ("Rate limits for the REST API"): Retry-After when present; the reset time when
remaining is 0; otherwise at least a minute, then exponentially longer. The minute is the
connection's ``secondary_limit_wait``, a fraction of a second here.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from pmhub_plugins.github.connector import split_marker
from pmhub_plugins.github.sandbox.limits import SECONDARY_LIMIT_DOCS, SECONDARY_LIMIT_MESSAGE

from hub.cli import main
from hub.model import Issue
from hub.testing.reference import ReferenceStore
from hub.testing.sandbox_client import SandboxClient
from tests.conftest import write_config
from tests.sandbox.github_support import github_client

REPO = "acme/portal"
CREATE_ISSUE = r"^/repos/[^/]+/[^/]+/issues$"
#: GitHub's envelope past a secondary limit; quota remains, which is what made it look like auth.
ENVELOPE = {"message": SECONDARY_LIMIT_MESSAGE, "documentation_url": SECONDARY_LIMIT_DOCS}


class TrackerToGitHub:
    """A reference tracker (side a) whose issues a one-way flow copies to a GitHub repository."""

    def __init__(self, tmp_path: Path, sandbox: SandboxClient, *, secondary_limit_wait: float) -> None:
        self.sandbox = sandbox
        self.gh = github_client(sandbox.base("github"), per_page=100)
        self.repo = self.gh.get_organization("acme").create_repo("portal")
        self.store = ReferenceStore(f"memory:tracker-{uuid.uuid4().hex[:8]}")
        self.config = write_config(
            tmp_path / "pmhub.toml", state_url=f"sqlite:///{tmp_path / 'state.db'}",
            connections={
                "tracker": {"plugin": "reference", "path": self.store.path},
                "gh": {"plugin": "github", "base_url": sandbox.base("github"), "token": "sandbox-token",
                       "seconds_between_writes": 0, "timeout": 10,
                       "secondary_limit_wait": secondary_limit_wait},
            },
            flows=[{"name": "tracker", "a": {"connection": "tracker", "scope": "proj"},
                    "b": {"connection": "gh", "scope": REPO}, "direction": "a->b", "records": ["issue"]}])

    def add(self, *titles: str) -> None:
        for title in titles:
            self.store.put("proj", "issue", Issue(title=title, description=f"About {title}"))

    def sync(self) -> tuple[Result, float]:
        started = time.monotonic()
        result = CliRunner().invoke(main, ["sync", "--config", str(self.config)], catch_exceptions=False)
        return result, time.monotonic() - started

    def issues(self) -> list[Any]:
        return list(self.repo.get_issues(state="all"))

    def refused_creates(self) -> list[dict[str, Any]]:
        return [r for r in self.sandbox.requests("github")
                if r["method"] == "POST" and r["path"].endswith("/issues") and r["status"] == 403]


@pytest.fixture
def make(tmp_path: Path, sandbox: SandboxClient) -> Iterator[Any]:
    made: list[TrackerToGitHub] = []

    def build(**kwargs: Any) -> TrackerToGitHub:
        made.append(TrackerToGitHub(tmp_path, sandbox, **kwargs))
        return made[-1]

    yield build
    for flow in made:
        flow.store.close()


def assert_ran_clean(result: Result) -> None:
    assert result.exit_code == 0, result.output
    assert "authentication failed" not in result.output and "credentials" not in result.output


def assert_one_twin_each(flow: TrackerToGitHub, titles: list[str]) -> None:
    issues = flow.issues()
    assert sorted(i.title for i in issues) == sorted(titles), "every issue once, none twice"
    markers = [split_marker(i.body or "")[1] for i in issues]
    assert None not in markers and len(set(markers)) == len(markers)


def test_a_secondary_limit_without_retry_after_waits_at_least_the_floor_then_longer(make: Any) -> None:
    flow = make(secondary_limit_wait=0.3)
    flow.add("SSO login loops", "Export invoices", "Rate limits doc")
    # Refused twice in a row: the first wait is the floor, the second twice the floor.
    flow.sandbox.fault("github", method="POST", path=CREATE_ISSUE, status=403, times=2, body=ENVELOPE)

    result, took = flow.sync()

    assert_ran_clean(result)
    assert_one_twin_each(flow, ["SSO login loops", "Export invoices", "Rate limits doc"])
    assert len(flow.refused_creates()) == 2
    assert took >= 0.3 + 0.6, f"waited {took:.2f}s: less than GitHub's floor, doubled"


def test_a_secondary_limit_with_retry_after_waits_what_it_asks(make: Any) -> None:
    flow = make(secondary_limit_wait=20)
    flow.add("Only one")
    flow.sandbox.fault("github", method="POST", path=CREATE_ISSUE, status=403, body=ENVELOPE,
                       headers={"Retry-After": "1"})

    result, took = flow.sync()

    assert_ran_clean(result)
    assert_one_twin_each(flow, ["Only one"])
    assert len(flow.refused_creates()) == 1
    assert 1.0 <= took < 20, f"took {took:.2f}s: Retry-After (1 s) is the wait, not the 20 s floor"


def test_a_429_secondary_limit_is_waited_out_too(make: Any) -> None:
    flow = make(secondary_limit_wait=0.2)
    flow.add("Too many")
    flow.sandbox.fault("github", method="POST", path=CREATE_ISSUE, status=429, body=ENVELOPE)

    result, took = flow.sync()

    assert_ran_clean(result)
    assert_one_twin_each(flow, ["Too many"])
    assert took >= 0.2


@pytest.mark.parametrize("retry_after", [False, True], ids=["no-retry-after", "retry-after"])
def test_a_backfill_spaced_by_the_content_creation_limit_completes_without_duplicates(
        make: Any, retry_after: bool) -> None:
    flow = make(secondary_limit_wait=0.3)
    titles = [f"Backlog item {n}" for n in range(1, 9)]
    flow.add(*titles)
    reply = flow.sandbox.http.post(f"{flow.sandbox.url}/_sandbox/github/content-creation-limit",
                                   json={"limit": 3, "window_seconds": 1, "retry_after": retry_after},
                                   timeout=10)
    assert reply.status_code == 201, reply.text

    result, _ = flow.sync()

    assert_ran_clean(result)
    assert_one_twin_each(flow, titles)
    refused = flow.refused_creates()
    assert refused, "the limit bit: some creates were refused and retried"
    flow.sandbox.clear_requests()
    again, _ = flow.sync()
    assert_ran_clean(again)
    assert [r for r in flow.sandbox.requests("github") if r["method"] != "GET"] == [], "nothing left to write"
