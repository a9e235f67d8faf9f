"""The Jira connector's parents against the stand-in, through the real ``jira`` client: an issue
created under an epic, moved to another and taken out (one edit each, seen by a re-read, a JQL
``parent`` search and an incremental listing), and Jira's hierarchy refusals as clear errors."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator

import pytest
from pmhub_plugins.jira.connector import JiraConnector

from hub.errors import PermanentError
from hub.model import Issue, Kind
from hub.testing.sandbox_client import SandboxClient
from tests.plugins.test_jira_connector import SCOPE, make_connector
from tests.sandbox.jira_support import http, new_issue, new_project


@pytest.fixture
def jira(sandbox: SandboxClient) -> Iterator[JiraConnector]:
    new_project(sandbox, SCOPE)
    connector = make_connector(sandbox.base("jira"))
    connector.open()
    yield connector
    connector.close()


def _create(jira: JiraConnector, title: str, kind: Kind = Kind.TASK, parent: str | None = None) -> str:
    return jira.create(SCOPE, "issue", Issue(title=title, kind=kind, parent=parent), uuid.uuid4().hex).id


def _parent(jira: JiraConnector, issue_id: str) -> str | None:
    remote = jira.get(SCOPE, "issue", issue_id)
    assert remote is not None and isinstance(remote.item, Issue)
    return remote.item.parent


def _children(sandbox: SandboxClient, parent: str) -> list[str]:
    reply = http(sandbox, "GET", "/search/jql", params={"jql": f"parent = {parent}", "fields": "id"})
    assert reply.status_code == 200, reply.text
    return [issue["id"] for issue in reply.json()["issues"]]


def test_the_connector_sets_moves_and_clears_a_parent(sandbox: SandboxClient, jira: JiraConnector) -> None:
    first, second = _create(jira, "Checkout", Kind.EPIC), _create(jira, "Search", Kind.EPIC)
    child = _create(jira, "Pay by card", Kind.STORY, parent=first)
    assert _parent(jira, child) == first and _children(sandbox, first) == [child]

    before = jira.get(SCOPE, "issue", child)
    assert before is not None and before.updated is not None
    cursor = before.updated + dt.timedelta(milliseconds=1)  # after everything created so far
    jira.calls.counts.clear()
    moved = jira.update(SCOPE, "issue", child, Issue(title="Pay by card", kind=Kind.STORY, parent=second),
                        frozenset({"parent"}))
    assert jira.calls.counts == {"update": 1}, "one edit, its reply read back with returnIssue"
    assert isinstance(moved.item, Issue) and moved.item.parent == second
    assert _parent(jira, child) == second
    assert _children(sandbox, first) == [] and _children(sandbox, second) == [child]
    changed = [r.id for r in jira.list_changed(SCOPE, "issue", cursor)]
    assert changed == [child], "the move changes the child's updated, so a listing sees it"

    jira.calls.counts.clear()
    cleared = jira.update(SCOPE, "issue", child, Issue(title="Pay by card", kind=Kind.STORY),
                          frozenset({"parent"}))
    assert jira.calls.counts == {"update": 1}
    assert isinstance(cleared.item, Issue) and cleared.item.parent is None
    assert _parent(jira, child) is None and _children(sandbox, second) == []


def test_jiras_hierarchy_refusals_are_clear_errors(sandbox: SandboxClient, jira: JiraConnector) -> None:
    task = _create(jira, "A task")
    epic = _create(jira, "An epic", Kind.EPIC)

    with pytest.raises(PermanentError, match="parent: Given parent work item does not belong to "
                                             "appropriate hierarchy"):
        _create(jira, "Task under a task", parent=task)
    with pytest.raises(PermanentError, match="parent: Could not find issue by id or key: 99999"):
        jira.update(SCOPE, "issue", task, Issue(title="A task", parent="99999"), frozenset({"parent"}))
    with pytest.raises(PermanentError, match="parent 'acme/portal#3' is not a Jira issue id"):
        jira.update(SCOPE, "issue", task, Issue(title="A task", parent="acme/portal#3"),
                    frozenset({"parent"}))
    with pytest.raises(PermanentError, match="parent: Given parent work item"):
        jira.update(SCOPE, "issue", epic, Issue(title="An epic", kind=Kind.EPIC, parent=task),
                    frozenset({"parent"}))
    # A sub-task keeps a parent: the documented removal is for standard issue types only.
    sub = new_issue(sandbox, "A sub-task", issuetype={"name": "Subtask"}, parent={"id": task})
    kept = http(sandbox, "PUT", f"/issue/{sub['key']}",
                json={"update": {"parent": [{"set": {"none": True}}]}})
    assert kept.status_code == 400 and "parent" in kept.json()["errors"]
    assert _parent(jira, sub["id"]) == task


def test_a_parent_in_another_project_reads_as_none(sandbox: SandboxClient, jira: JiraConnector) -> None:
    new_project(sandbox, "OPS", "Operations")
    elsewhere = new_issue(sandbox, "Ops epic", project="OPS", issuetype={"name": "Epic"})
    here = new_issue(sandbox, "Under an epic of OPS", parent={"key": elsewhere["key"]})
    raw = http(sandbox, "GET", f"/issue/{here['key']}", params={"fields": "parent"}).json()
    assert raw["fields"]["parent"]["key"] == elsewhere["key"]

    assert _parent(jira, here["id"]) is None, "OPS is outside the PORT connection's scope"


def test_a_bulk_create_with_one_unusable_parent_creates_the_others(sandbox: SandboxClient,
                                                                  jira: JiraConnector) -> None:
    epic = _create(jira, "Checkout", Kind.EPIC)
    items = [(Issue(title="Card", parent=epic), uuid.uuid4().hex),
             (Issue(title="Stray", parent="acme/portal#3"), uuid.uuid4().hex),
             (Issue(title="Wallet", parent=epic), uuid.uuid4().hex)]

    results = jira.create_many(SCOPE, "issue", items)

    assert isinstance(results[1], PermanentError) and "not a Jira issue id" in str(results[1])
    created = [r for r in results if not isinstance(r, Exception)]
    assert [(r.item.title, r.item.parent) for r in created] == [
        ("Card", epic), ("Wallet", epic)]
    assert sorted(_children(sandbox, epic)) == sorted(r.id for r in created)
