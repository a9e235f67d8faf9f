"""The GitHub connector against the GitHub stand-in, through the real PyGithub client."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs

import pytest
import requests
from pmhub_plugins.github.connector import GitHubConnector, GitHubSettings, split_marker

from hub.connector import Remote
from hub.engine.runner import open_hub
from hub.errors import AuthError, PermanentError, TransientError
from hub.model import Comment, Issue, Person, StatusCategory
from hub.sandbox.server import SandboxApp, SandboxServer
from hub.testing.contract import ConnectorContract
from hub.testing.sandbox_client import SandboxClient
from tests.conftest import write_config

SCOPE = "acme/portal"
PATHS = {
    "list": ("GET", r"/issues$"),
    "get": ("GET", r"/issues/\d+$"),
    "create": ("POST", r"/issues$"),
    "update": ("PATCH", r"/issues/\d+$"),
}


def open_connector(base: str, *, token: str = "sandbox-token", per_page: int = 100) -> GitHubConnector:
    settings = GitHubSettings(plugin="github", base_url=base, token=token, per_page=per_page,
                              seconds_between_writes=0, timeout=10)
    connector = GitHubConnector("gh", settings)
    connector.open()
    return connector


@pytest.fixture
def demo(sandbox: SandboxClient) -> Iterator[GitHubConnector]:
    sandbox.reset("demo")
    connector = open_connector(sandbox.base("github"))
    yield connector
    connector.close()


def raw_issue(sandbox: SandboxClient, number: str) -> dict:
    reply = requests.get(f"{sandbox.base('github')}/repos/{SCOPE}/issues/{number}", timeout=10)
    reply.raise_for_status()
    return reply.json()


def test_listing_leaves_out_pull_requests_and_reads_since_whole_seconds(
        sandbox: SandboxClient, demo: GitHubConnector) -> None:
    everything = list(demo.list_changed(SCOPE, "issue", None))
    start = dt.datetime.now(dt.UTC)
    new = [demo.create(SCOPE, "issue", Issue(title=f"New {n}"), f"m{n}") for n in range(2)]

    recent = list(demo.list_changed(SCOPE, "issue", start))

    assert sorted(int(r.id) for r in everything) == [1, 2, 3, 4, 6]  # 5 is a pull request
    assert [r.id for r in recent] == [r.id for r in new]
    stamps = [r.updated for r in everything]
    assert stamps == sorted(stamps)  # sorted_by_updated holds
    first = next(r for r in everything if r.id == "1")
    assert isinstance(first.item, Issue)
    assert first.item.labels == ["bug", "customer", "priority: high"]
    assert first.item.milestone == "v1.0"
    assert first.item.assignees == [Person(handles={"gh": "octocat"})]
    assert first.item.raw == {"status": "open"} and first.item.status is StatusCategory.TODO
    statuses = {r.id: (r.item.status, r.item.raw["status"]) for r in everything}  # type: ignore[union-attr]
    assert statuses["3"] == (StatusCategory.DONE, "closed:completed")
    assert statuses["4"] == (StatusCategory.CANCELLED, "closed:not_planned")
    sent = [parse_qs(r["query"]).get("since", [""])[0] for r in sandbox.requests("github")]
    assert start.strftime("%Y-%m-%dT%H:%M:%SZ") in sent  # whole seconds, UTC


def test_create_carries_a_hidden_marker_that_find_by_marker_recovers(
        sandbox: SandboxClient, demo: GitHubConnector) -> None:
    item = Issue(title="Export fails", description="Steps:\n\n1. export", labels=["bug"],
                 assignees=[Person(handles={"gh": "hubot"})], milestone="v1.0")

    created = demo.create(SCOPE, "issue", item, "pmhub-0123abcd")
    found = demo.find_by_marker(SCOPE, "issue", "pmhub-0123abcd")

    body = raw_issue(sandbox, created.id)["body"]
    assert body == "Steps:\n\n1. export\n\n<!-- pmhub:pmhub-0123abcd -->"
    assert created.marker == "pmhub-0123abcd"
    assert created.item.description == "Steps:\n\n1. export"  # type: ignore[union-attr]
    assert created.item.milestone == "v1.0" and created.item.labels == ["bug"]  # type: ignore[union-attr]
    assert found is not None and found.id == created.id and found.marker == "pmhub-0123abcd"
    assert demo.find_by_marker(SCOPE, "issue", "pmhub-ffffffff") is None


def test_a_create_whose_reply_was_lost_is_found_by_its_marker(
        sandbox: SandboxClient, demo: GitHubConnector) -> None:
    sandbox.fault("github", method="POST", path=r"/issues$", status=502, after_commit=True)

    with pytest.raises(TransientError) as lost:
        demo.create(SCOPE, "issue", Issue(title="Lost reply"), "pmhub-lost")
    found = demo.find_by_marker(SCOPE, "issue", "pmhub-lost")

    assert lost.value.status == 502
    assert found is not None and found.item.title == "Lost reply"  # type: ignore[union-attr]
    titles = [r.item.title for r in demo.list_changed(SCOPE, "issue", None)]  # type: ignore[union-attr]
    assert titles.count("Lost reply") == 1


def test_update_writes_only_changed_fields_and_keeps_the_marker(
        sandbox: SandboxClient, demo: GitHubConnector) -> None:
    created = demo.create(SCOPE, "issue", Issue(title="Draft", labels=["customer"]), "pmhub-keep")
    fresh = open_connector(sandbox.base("github"))  # knows no marker yet: must read it first
    changed = Issue(title="Final", description="Now with details", labels=[],
                    milestone="v2.0")

    updated = fresh.update(SCOPE, "issue", created.id, changed, frozenset({"title", "description",
                                                                           "milestone"}))

    raw = raw_issue(sandbox, created.id)
    assert raw["title"] == "Final"
    assert raw["body"] == "Now with details\n\n<!-- pmhub:pmhub-keep -->"
    assert [lb["name"] for lb in raw["labels"]] == ["customer"]  # labels were not in `changed`
    assert raw["milestone"]["title"] == "v2.0"  # created, as the repository lacked it
    assert updated.item.description == "Now with details" and updated.marker == "pmhub-keep"  # type: ignore[union-attr]
    again = demo.get(SCOPE, "issue", created.id)
    assert again is not None and again.item == updated.item and again.version == updated.version


def test_status_changes_close_with_a_state_reason(sandbox: SandboxClient, demo: GitHubConnector) -> None:
    created = demo.create(SCOPE, "issue", Issue(title="Maybe later"), "pmhub-close")
    assert isinstance(created.item, Issue)

    cancelled = demo.update(SCOPE, "issue", created.id,
                            created.item.model_copy(update={"status": StatusCategory.CANCELLED, "raw": {}}),
                            frozenset({"status"}))
    by_raw = demo.update(SCOPE, "issue", created.id,
                         created.item.model_copy(update={"status": StatusCategory.CANCELLED,
                                                         "raw": {"status": "closed:completed"}}),
                         frozenset({"status"}))
    reopened = demo.update(SCOPE, "issue", created.id,
                           created.item.model_copy(update={"status": StatusCategory.IN_PROGRESS, "raw": {}}),
                           frozenset({"status"}))

    assert cancelled.item.raw == {"status": "closed:not_planned"}  # type: ignore[union-attr]
    assert cancelled.item.status is StatusCategory.CANCELLED  # type: ignore[union-attr]
    assert by_raw.item.raw == {"status": "closed:completed"}  # raw wins over status  # type: ignore[union-attr]
    assert reopened.item.raw == {"status": "open"}  # type: ignore[union-attr]
    assert raw_issue(sandbox, created.id)["state_reason"] == "reopened"
    assert cancelled.updated < by_raw.updated < reopened.updated  # type: ignore[operator]
    done = Issue(title="Already done", status=StatusCategory.DONE)
    closed_at_birth = demo.create(SCOPE, "issue", done, "m")
    assert raw_issue(sandbox, closed_at_birth.id)["state"] == "closed"


def test_comments_round_trip_with_marker_and_skip_pull_request_comments(
        sandbox: SandboxClient, demo: GitHubConnector) -> None:
    start = dt.datetime.now(dt.UTC)
    requests.post(f"{sandbox.base('github')}/repos/{SCOPE}/issues/5/comments", json={"body": "LGTM"},
                  timeout=10).raise_for_status()

    created = demo.create(SCOPE, "comment", Comment(body="Customer confirmed", issue="2"), "pmhub-c1")
    edited = demo.update(SCOPE, "comment", created.id, Comment(body="Customer confirmed twice", issue="2"),
                         frozenset({"body"}))
    listed = list(demo.list_changed(SCOPE, "comment", start))
    everything = list(demo.list_changed(SCOPE, "comment", None))

    assert [r.id for r in listed] == [created.id]  # the pull request's comment is left out
    assert isinstance(edited.item, Comment)
    assert edited.item.body == "Customer confirmed twice" and edited.item.issue == "2"
    assert edited.item.author == Person(handles={"gh": "octocat"}) and edited.marker == "pmhub-c1"
    assert len(everything) == 4  # three seeded comments on issues, plus ours
    assert demo.find_by_marker(SCOPE, "comment", "pmhub-c1").id == created.id  # type: ignore[union-attr]
    assert split_marker("a\n\n<!-- pmhub:x -->\n") == ("a", "x")


def test_an_edit_during_paging_does_not_make_the_listing_skip_a_record(sandbox: SandboxClient) -> None:
    sandbox.reset("demo")
    connector = open_connector(sandbox.base("github"), per_page=2)
    listing = connector.list_changed(SCOPE, "issue", None)
    first = next(listing)
    # The first issue read is edited: it moves to the end, and every issue behind it moves up one
    # place, so plain page-number paging would never show the one that crosses the page boundary.
    requests.patch(f"{sandbox.base('github')}/repos/{SCOPE}/issues/{first.id}", json={"title": "Moved"},
                   timeout=10).raise_for_status()

    rest = list(listing)

    assert {r.id for r in [first, *rest]} == {"1", "2", "3", "4", "6"}
    moved = [r for r in rest if r.id == first.id]
    assert len(moved) == 1 and moved[0].item.title == "Moved"  # type: ignore[union-attr]


def test_identical_listing_costs_a_free_304(sandbox: SandboxClient, demo: GitHubConnector) -> None:
    since = dt.datetime.now(dt.UTC) - dt.timedelta(days=30)
    first = list(demo.list_changed(SCOPE, "issue", since))
    remaining = demo.rate_limit.remaining
    sandbox.clear_requests()

    second = list(demo.list_changed(SCOPE, "issue", since))

    assert [(r.id, r.version) for r in second] == [(r.id, r.version) for r in first]
    assert [r["status"] for r in sandbox.requests("github")] == [304]
    assert demo.rate_limit.remaining == remaining and remaining is not None
    demo.create(SCOPE, "issue", Issue(title="Changes the listing"), "m")
    third = list(demo.list_changed(SCOPE, "issue", since))
    assert len(third) == len(first) + 1


def test_every_http_request_is_counted_and_rate_limit_recorded(
        sandbox: SandboxClient, demo: GitHubConnector) -> None:
    sandbox.clear_requests()
    list(demo.list_changed(SCOPE, "issue", None))
    created = demo.create(SCOPE, "issue", Issue(title="Counted"), "m")
    demo.get(SCOPE, "issue", created.id)
    demo.find_by_marker(SCOPE, "issue", "m")

    assert demo.calls.total == len(sandbox.requests("github"))
    assert demo.calls.counts == {"list": 1, "create": 1, "get": 1, "find": 1}
    assert demo.rate_limit.limit == 5000 and demo.rate_limit.remaining == 5000 - 4
    assert demo.rate_limit.reset_at is not None and demo.rate_limit.reset_at > dt.datetime.now(dt.UTC)


def test_failures_map_to_pmhubs_error_taxonomy(sandbox: SandboxClient, demo: GitHubConnector) -> None:
    assert demo.get(SCOPE, "issue", "999") is None
    with pytest.raises(PermanentError) as missing:
        demo.update(SCOPE, "issue", "999", Issue(title="x"), frozenset({"title"}))
    assert missing.value.status == 404
    with pytest.raises(PermanentError) as invalid:
        demo.create(SCOPE, "issue", Issue(title="x", assignees=[Person(handles={"gh": "nobody"})]), "m")
    assert invalid.value.status == 422
    sandbox.fault("github", method="GET", path=r"/issues$", status=429, retry_after=7)
    with pytest.raises(TransientError) as limited:
        list(demo.list_changed(SCOPE, "issue", None))
    assert limited.value.status == 429 and limited.value.retry_after == 7
    sandbox.fault("github", method="GET", path=r"/issues$", status=429)
    with pytest.raises(TransientError) as secondary:
        list(demo.list_changed(SCOPE, "issue", None))
    # Quota left and no Retry-After: the hourly reset time is no reason to wait (engine backs off).
    assert secondary.value.retry_after is None
    sandbox.fault("github", method="GET", path=r"/issues/1$", drop=True)
    with pytest.raises(TransientError):
        demo.get(SCOPE, "issue", "1")
    requests.delete(f"{sandbox.base('github')}/repos/{SCOPE}/issues/2", timeout=10)
    assert demo.get(SCOPE, "issue", "2") is None  # 410 Gone


def test_a_refused_token_is_an_auth_error() -> None:
    from pmhub_plugins.github.sandbox import GitHubSandbox

    with SandboxServer(SandboxApp([GitHubSandbox()], token="right", seed="demo")) as server:
        connector = open_connector(f"{server.url}/github", token="wrong")
        with pytest.raises(AuthError) as refused:
            list(connector.list_changed(SCOPE, "issue", None))
        good = open_connector(f"{server.url}/github", token="right")
        assert good.whoami() == "octocat"
    assert refused.value.status == 401 and "Bad credentials" in str(refused.value)
    assert "right" not in repr(good.settings) and "wrong" not in str(refused.value)


def test_describing_the_connector_does_not_import_pygithub() -> None:
    import subprocess
    import sys

    code = ("import sys; from pmhub_plugins.github.connector import GitHubConnector; "
            "GitHubConnector.describe(); print('github' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


class TestGitHubContract(ConnectorContract):
    """The contract kit every pmhub connector passes, against the stand-in."""

    page_size = 5
    connector_class = GitHubConnector

    @pytest.fixture
    def connector(self, sandbox: SandboxClient) -> Iterator[GitHubConnector]:
        self.sandbox = sandbox
        requests.post(f"{sandbox.base('github')}/user/repos", json={"name": "contract"},
                      timeout=10).raise_for_status()
        connector = open_connector(sandbox.base("github"), per_page=self.page_size)
        yield connector
        connector.close()

    @pytest.fixture
    def scope(self) -> str:
        return "octocat/contract"

    def inject_error(self, status: int, operation: str) -> float | None:
        method, path = PATHS[operation]
        retry_after = 3 if status == 429 else None
        self.sandbox.fault("github", method=method, path=path, status=status, retry_after=retry_after)
        return None if retry_after is None else float(retry_after)


# -- conditional requests across runs -----------------------------------------------------------
def hub_config(tmp_path: Path, sandbox: SandboxClient, *, per_page: int = 100) -> Path:
    """A config with one GitHub connection and pmhub's own state store, as a cron run would have."""
    return write_config(tmp_path / "pmhub.toml", state_url=f"sqlite:///{tmp_path / 'state.db'}",
                        connections={"gh": {"plugin": "github", "base_url": sandbox.base("github"),
                                            "token": "sandbox-token", "per_page": per_page,
                                            "seconds_between_writes": 0, "timeout": 10}},
                        flows=[])


def list_in_a_new_hub(config: Path, since: dt.datetime | None) -> tuple[list[Remote], int | None]:
    """List issues as a fresh process would: a new hub, a new connector, the same state store."""
    with open_hub(config) as hub:
        connector = hub.connector("gh")
        return list(connector.list_changed(SCOPE, "issue", since)), connector.rate_limit.remaining


def test_an_unchanged_listing_costs_a_304_in_the_next_run_even_with_a_later_since(
        sandbox: SandboxClient, tmp_path: Path) -> None:
    sandbox.reset("demo")
    config = hub_config(tmp_path, sandbox)
    since = dt.datetime.now(dt.UTC) - dt.timedelta(days=30)
    first, _ = list_in_a_new_hub(config, since)
    sandbox.clear_requests()

    # The cursor moved on, but not past any record: the page, and so its ETag, is the same.
    second, remaining = list_in_a_new_hub(config, since + dt.timedelta(minutes=1))

    assert [(r.id, r.version, r.item) for r in second] == [(r.id, r.version, r.item) for r in first]
    assert [r["status"] for r in sandbox.requests("github")] == [304]
    assert remaining == 5000 - 1, "a 304 spends no rate limit (only the first run's 200 did)"
    requests.patch(f"{sandbox.base('github')}/repos/{SCOPE}/issues/2", json={"title": "Edited"},
                   timeout=10).raise_for_status()
    sandbox.clear_requests()
    third, _ = list_in_a_new_hub(config, since)
    assert [r["status"] for r in sandbox.requests("github")] == [200]
    assert {r.id: r.item.title for r in third}["2"] == "Edited"  # type: ignore[union-attr]


def test_a_record_behind_a_full_page_is_not_hidden_by_a_304(sandbox: SandboxClient, tmp_path: Path) -> None:
    sandbox.reset("demo")  # five issues and a pull request: six items fill a page of six
    config = hub_config(tmp_path, sandbox, per_page=6)
    first, _ = list_in_a_new_hub(config, None)
    requests.post(f"{sandbox.base('github')}/repos/{SCOPE}/issues", json={"title": "Late"},
                  timeout=10).raise_for_status()
    sandbox.clear_requests()

    # The first page is unchanged (the new issue sorts last), but the listing is not.
    second, _ = list_in_a_new_hub(config, None)

    assert [r.item.title for r in second] == [r.item.title for r in first] + ["Late"]  # type: ignore[union-attr]
    assert [r["status"] for r in sandbox.requests("github")] == [200, 200]


def test_github_etags_digest_the_body_not_the_query_and_the_stand_in_agrees(
        sandbox: SandboxClient) -> None:
    """What lets a listing's ETag match after ``since`` moved: recorded GitHub replies carry one ETag
    for one body under two queries, in the form ``W/"<hex>"``; the stand-in answers the same way."""
    import ast
    import json

    from tests.sandbox.conformance import oracles_dir

    by_body: dict[str, set[tuple[str, str]]] = {}
    for exchange in json.loads((oracles_dir() / "github" / "recorded-exchanges.json").read_text()):
        headers = {k.lower(): v for k, v in ast.literal_eval(exchange["resp_headers"])}
        if exchange["method"] == "GET" and str(exchange["status"]) == "200" and "etag" in headers:
            by_body.setdefault(exchange["body"], set()).add((exchange["path"], headers["etag"]))
    shared = [seen for seen in by_body.values() if len({path for path, _ in seen}) > 1]
    assert shared and all(len({etag for _, etag in seen}) == 1 for seen in shared)
    real_etag = re.compile(r'^(W/)?"[0-9a-f]{32,64}"$')
    assert all(real_etag.match(etag) for seen in by_body.values() for _, etag in seen)

    sandbox.reset("demo")
    url = f"{sandbox.base('github')}/repos/{SCOPE}/issues"
    month, week = (_whole(dt.datetime.now(dt.UTC) - dt.timedelta(days=d)) for d in (30, 7))
    a = requests.get(url, params={"state": "all", "since": month}, timeout=10)
    b = requests.get(url, params={"state": "all", "since": week}, timeout=10)
    assert a.json() == b.json() and a.headers["ETag"] == b.headers["ETag"]
    assert real_etag.match(a.headers["ETag"])
    again = requests.get(url, params={"state": "all"}, headers={"If-None-Match": a.headers["ETag"]},
                         timeout=10)
    assert again.status_code == 304 and again.content == b""


def _whole(value: dt.datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")
