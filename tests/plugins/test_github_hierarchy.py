"""The GitHub connector's parents (sub-issues) against the stand-in, through the real PyGithub.

``Issue.parent`` is the parent's issue number; a listing reads it from ``parent_issue_url`` at no
extra call; a create, a move and a removal each cost one sub-issue call on top of what the write
costs anyway, and a re-read sees the result.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
import requests
from pmhub_plugins.github.connector import GitHubConnector

from hub.errors import PermanentError, TransientError
from hub.model import Issue
from hub.testing.sandbox_client import SandboxClient
from tests.plugins.test_github_connector import SCOPE, open_connector


@pytest.fixture
def github(sandbox: SandboxClient) -> Iterator[GitHubConnector]:
    sandbox.reset("demo")
    connector = open_connector(sandbox.base("github"))
    yield connector
    connector.close()


def _http(sandbox: SandboxClient) -> requests.Session:
    session = requests.Session()
    session.headers["Authorization"] = "token sandbox-token"
    return session


def _issue_id(sandbox: SandboxClient, repo: str, number: int) -> int:
    reply = requests.get(f"{sandbox.base('github')}/repos/{repo}/issues/{number}", timeout=10)
    reply.raise_for_status()
    return int(reply.json()["id"])


def _add(sandbox: SandboxClient, repo: str, parent: int, child_id: int) -> None:
    reply = _http(sandbox).post(f"{sandbox.base('github')}/repos/{repo}/issues/{parent}/sub_issues",
                                json={"sub_issue_id": child_id}, timeout=10)
    assert reply.status_code == 201, reply.text


def _parents(connector: GitHubConnector, since: dt.datetime | None = None) -> dict[str, str | None]:
    out = {}
    for remote in connector.list_changed(SCOPE, "issue", since):
        assert isinstance(remote.item, Issue)
        out[remote.id] = remote.item.parent
    return out


def test_a_listing_reads_each_parent_without_an_extra_call(
        sandbox: SandboxClient, github: GitHubConnector) -> None:
    _add(sandbox, SCOPE, 1, _issue_id(sandbox, SCOPE, 2))
    _add(sandbox, SCOPE, 1, _issue_id(sandbox, SCOPE, 3))
    # A parent in another repository of the owner is outside the scope: no parent here.
    _http(sandbox).post(f"{sandbox.base('github')}/orgs/acme/repos", json={"name": "site"},
                        timeout=10).raise_for_status()
    _http(sandbox).post(f"{sandbox.base('github')}/repos/acme/site/issues", json={"title": "Elsewhere"},
                        timeout=10).raise_for_status()
    _add(sandbox, "acme/site", 1, _issue_id(sandbox, SCOPE, 4))
    sandbox.clear_requests()

    parents = _parents(github)

    assert parents == {"1": None, "2": "1", "3": "1", "4": None, "6": None}
    assert github.calls.counts == {"list": 1}
    assert len(sandbox.requests("github")) == 1


def test_create_under_a_parent_then_move_and_remove_it(sandbox: SandboxClient,
                                                       github: GitHubConnector) -> None:
    first = github.create(SCOPE, "issue", Issue(title="Epic one"), "m-one")
    second = github.create(SCOPE, "issue", Issue(title="Epic two"), "m-two")
    before = dict(github.calls.counts)
    child = github.create(SCOPE, "issue", Issue(title="Child", parent=first.id), "m-child")
    assert github.calls.counts["create"] - before["create"] == 2, "the issue and its sub-issue call"
    assert isinstance(child.item, Issue) and child.item.parent == first.id
    assert child.version is None, "the sub-issue call answered with the parent: version unknown"
    seen = github.get(SCOPE, "issue", child.id)
    assert seen is not None and isinstance(seen.item, Issue) and seen.item.parent == first.id

    # A connection that has not read the child needs its id first: one GET, then the move.
    fresh = open_connector(sandbox.base("github"))
    assert seen.updated is not None
    cursor = seen.updated + dt.timedelta(seconds=1)  # later than every issue so far
    moved = fresh.update(SCOPE, "issue", child.id, Issue(title="Child", parent=second.id),
                         frozenset({"parent"}))
    assert fresh.calls.counts == {"update": 2}
    assert isinstance(moved.item, Issue) and moved.item.parent == second.id
    # The move reaches an incremental listing (the stand-in stamps the child) and a re-read.
    assert _parents(github, cursor) == {child.id: second.id}
    children = _http(sandbox).get(f"{sandbox.base('github')}/repos/{SCOPE}/issues/{second.id}/sub_issues",
                                  timeout=10).json()
    assert [c["number"] for c in children] == [int(child.id)]
    assert _http(sandbox).get(f"{sandbox.base('github')}/repos/{SCOPE}/issues/{first.id}/sub_issues",
                              timeout=10).json() == []

    # The same connection has just read the child: taking it out is the DELETE alone.
    fresh.calls.counts.clear()
    out = fresh.update(SCOPE, "issue", child.id, Issue(title="Child"), frozenset({"parent"}))
    assert fresh.calls.counts == {"update": 1}
    assert out.item is None, "nothing read back: the engine keeps what it wrote"
    again = github.get(SCOPE, "issue", child.id)
    assert again is not None and isinstance(again.item, Issue) and again.item.parent is None
    fresh.close()


def test_a_parent_move_rides_with_other_changes(sandbox: SandboxClient, github: GitHubConnector) -> None:
    parent = github.create(SCOPE, "issue", Issue(title="Parent"), "m-p")
    child = github.create(SCOPE, "issue", Issue(title="Child"), "m-c")
    github.calls.counts.clear()

    updated = github.update(SCOPE, "issue", child.id, Issue(title="Renamed child", parent=parent.id),
                            frozenset({"title", "parent"}))

    assert github.calls.counts == {"update": 2}, "the PATCH (which brings the id) and the add"
    assert isinstance(updated.item, Issue) and (updated.item.title, updated.item.parent) == (
        "Renamed child", parent.id)
    github.calls.counts.clear()
    unchanged = github.update(SCOPE, "issue", child.id, Issue(title="Renamed child", parent=parent.id),
                              frozenset({"parent"}))
    assert github.calls.counts == {}, "already under that parent (as last read): no call"
    assert unchanged.item is None


def test_a_parent_that_is_not_an_issue_of_the_scope_is_a_clear_error(
        sandbox: SandboxClient, github: GitHubConnector) -> None:
    child = github.create(SCOPE, "issue", Issue(title="Orphan"), "m-o")

    with pytest.raises(PermanentError, match=r"parent issue #999 of #\d+ does not exist in acme/portal"):
        github.update(SCOPE, "issue", child.id, Issue(title="Orphan", parent="999"), frozenset({"parent"}))
    with pytest.raises(PermanentError, match="parent 'PORT-1' is not a GitHub issue number"):
        github.create(SCOPE, "issue", Issue(title="Misplaced", parent="PORT-1"), "m-x")
    with pytest.raises(PermanentError, match=r"refused to put #\d+ under #\d+: .*own sub-issue"):
        github.update(SCOPE, "issue", child.id, Issue(title="Orphan", parent=child.id), frozenset({"parent"}))


def test_a_sub_issue_call_refused_after_the_create_is_settled_by_marker_not_sent_again(
        sandbox: SandboxClient, github: GitHubConnector) -> None:
    from hub.engine.creating import refused

    parent = github.create(SCOPE, "issue", Issue(title="Parent"), "m-parent")
    limit = f"{sandbox.url}/_sandbox/github/content-creation-limit"
    # One more content-creating request: the issue's POST passes, its sub-issue POST is refused.
    sandbox.http.post(limit, json={"limit": 1, "window_seconds": 60}, timeout=10).raise_for_status()

    with pytest.raises(TransientError) as failed:
        github.create(SCOPE, "issue", Issue(title="Child", parent=parent.id), "m-late")
    sandbox.http.delete(limit, timeout=10).raise_for_status()

    assert "was created, but a follow-up write failed" in str(failed.value)
    assert not refused(failed.value), "a create that happened is never sent again blind"
    found = github.find_by_marker(SCOPE, "issue", "m-late")
    assert found is not None and isinstance(found.item, Issue) and found.item.parent is None
    titles = [r.item.title for r in github.list_changed(SCOPE, "issue", None)]  # type: ignore[union-attr]
    assert titles.count("Child") == 1


def test_an_add_sent_again_after_a_lost_reply_is_not_a_refusal(sandbox: SandboxClient,
                                                               github: GitHubConnector) -> None:
    parent = github.create(SCOPE, "issue", Issue(title="Parent"), "m-parent")
    child = github.create(SCOPE, "issue", Issue(title="Child"), "m-child")
    sandbox.fault("github", method="POST", path=r"/sub_issues$", status=502, after_commit=True)
    wanted = Issue(title="Child", parent=parent.id)

    with pytest.raises(TransientError):
        github.update(SCOPE, "issue", child.id, wanted, frozenset({"parent"}))
    # The engine's retry: GitHub answers "duplicate sub-issue", and a read shows it is in place.
    again = github.update(SCOPE, "issue", child.id, wanted, frozenset({"parent"}))

    assert again.item is None
    seen = github.get(SCOPE, "issue", child.id)
    assert seen is not None and isinstance(seen.item, Issue) and seen.item.parent == parent.id


def test_taking_out_a_child_moved_since_it_was_read_finds_its_parent_now(
        sandbox: SandboxClient, github: GitHubConnector) -> None:
    first = github.create(SCOPE, "issue", Issue(title="First"), "m-1")
    second = github.create(SCOPE, "issue", Issue(title="Second"), "m-2")
    child = github.create(SCOPE, "issue", Issue(title="Child", parent=first.id), "m-3")
    # Moved by someone else after this connection read it under the first parent.
    reply = _http(sandbox).post(f"{sandbox.base('github')}/repos/{SCOPE}/issues/{second.id}/sub_issues",
                                json={"sub_issue_id": _issue_id(sandbox, SCOPE, int(child.id)),
                                      "replace_parent": True}, timeout=10)
    assert reply.status_code == 201, reply.text
    github.calls.counts.clear()

    github.update(SCOPE, "issue", child.id, Issue(title="Child"), frozenset({"parent"}))

    assert github.calls.counts == {"update": 3}, "the stale DELETE, a read, the DELETE that counts"
    seen = github.get(SCOPE, "issue", child.id)
    assert seen is not None and isinstance(seen.item, Issue) and seen.item.parent is None
