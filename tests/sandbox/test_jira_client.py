"""The real ``jira`` client works against the stand-in unchanged."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from hub.testing.sandbox_client import SandboxClient
from tests.sandbox.jira_support import http, jira_client, new_issue, new_project


@pytest.fixture
def jira(sandbox: SandboxClient):  # type: ignore[no-untyped-def]
    new_project(sandbox)
    return jira_client(sandbox.base("jira"))


def test_client_sees_a_cloud_site_and_a_non_utc_user(jira) -> None:  # type: ignore[no-untyped-def]
    assert jira._is_cloud
    me = jira.myself()
    assert me["timeZone"] == "Europe/Berlin" and me["accountId"]


def test_create_issue_reads_back_with_jira_timestamps(jira) -> None:  # type: ignore[no-untyped-def]
    issue = jira.create_issue(project="PORT", summary="Login times out", issuetype={"name": "Bug"},
                              description="Seen at *Acme*", labels=["customer"],
                              priority={"name": "High"})
    assert issue.key == "PORT-1"
    assert issue.fields.summary == "Login times out"
    assert issue.fields.description == "Seen at *Acme*"
    assert issue.fields.status.name == "To Do"
    assert issue.fields.status.statusCategory.key == "new"
    assert issue.fields.priority.name == "High"
    assert issue.fields.labels == ["customer"]
    # Jira's own spelling: milliseconds and a +HHMM offset.
    parsed = dt.datetime.strptime(issue.fields.updated, "%Y-%m-%dT%H:%M:%S.%f%z")
    assert abs(parsed - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=1)


def test_search_pages_with_next_page_token(sandbox: SandboxClient, jira) -> None:  # type: ignore[no-untyped-def]
    keys = [new_issue(sandbox, f"Issue {n}")["key"] for n in range(5)]
    seen: list[str] = []
    token = None
    pages = 0
    while True:
        page = jira.enhanced_search_issues("project = PORT ORDER BY updated ASC", nextPageToken=token,
                                           maxResults=2, fields=["summary", "updated"])
        pages += 1
        seen.extend(issue.key for issue in page)
        token = page.nextPageToken
        if not token:
            break
    assert seen == keys and pages == 3
    # maxResults=0 makes the client follow the tokens itself.
    assert [i.key for i in jira.search_issues("project = PORT ORDER BY key ASC", maxResults=0)] == keys
    searched = http(sandbox, "GET", "/search/jql", params={"jql": "project = PORT"}).json()
    assert set(searched["issues"][0]) >= {"id"}, "search/jql returns ids by default"


def test_updated_clause_reads_minutes_in_the_users_time_zone(sandbox: SandboxClient, jira) -> None:  # type: ignore[no-untyped-def]
    key = new_issue(sandbox, "Edited just now")["key"]
    updated = dt.datetime.strptime(jira.issue(key).fields.updated, "%Y-%m-%dT%H:%M:%S.%f%z")
    berlin = updated.astimezone(ZoneInfo("Europe/Berlin")).replace(second=0, microsecond=0)

    def hits(when: dt.datetime) -> list[str]:
        jql = f'project = PORT AND updated >= "{when:%Y/%m/%d %H:%M}"'
        return [issue.key for issue in jira.search_issues(jql, fields="summary")]

    assert hits(berlin) == [key], "the floored minute in the user's zone includes the edit"
    assert hits(berlin + dt.timedelta(minutes=1)) == [], "the next minute excludes it"
    utc_wall = updated.astimezone(dt.UTC).replace(second=0, microsecond=0, tzinfo=None)
    # The same wall-clock digits read as Berlin time lie one or two hours earlier: a connector that
    # sends UTC digits asks for more than it meant to (harmless), never for less.
    assert hits(utc_wall + dt.timedelta(minutes=1)) == [key]


def test_jql_subset_and_rejections(sandbox: SandboxClient, jira) -> None:  # type: ignore[no-untyped-def]
    one = new_issue(sandbox, "one", labels=["pmhub-abc"])["key"]
    two = new_issue(sandbox, "two")["key"]
    assert [i.key for i in jira.search_issues('labels = "pmhub-abc"')] == [one]
    found = jira.search_issues(f"key in ({one}, {two}) ORDER BY updated DESC")
    assert [i.key for i in found] == [two, one]
    for bad in ("project = PORT OR labels = x", "summary ~ one", "project = NOPE", "updated >= 'soon'"):
        reply = http(sandbox, "GET", "/search/jql", params={"jql": bad})
        assert reply.status_code == 400, bad
        assert reply.json()["errorMessages"] and reply.json()["errors"] == {}


def test_transition_to_done_by_name(jira) -> None:  # type: ignore[no-untyped-def]
    issue = jira.create_issue(project="PORT", summary="Ship it", issuetype={"name": "Task"})
    before = issue.fields.updated
    names = {t["name"]: t["to"]["statusCategory"]["key"] for t in jira.transitions(issue)}
    assert names == {"In Progress": "indeterminate", "Done": "done"}
    jira.transition_issue(issue, "Done")
    issue = jira.issue(issue.key)
    assert issue.fields.status.name == "Done" and issue.fields.resolution.name == "Done"
    assert issue.fields.updated > before
    from jira import JIRAError

    with pytest.raises(JIRAError) as raised:
        jira.transition_issue(issue, "999")
    assert raised.value.status_code == 400


def test_comments(jira) -> None:  # type: ignore[no-untyped-def]
    issue = jira.create_issue(project="PORT", summary="Talk", issuetype={"name": "Task"})
    comment = jira.add_comment(issue, "First!")
    assert comment.body == "First!" and comment.author.displayName == "pmhub-bot"
    comment.update(body="First, edited")
    listed = jira.comments(issue.key)
    assert [c.body for c in listed] == ["First, edited"]
    assert jira.issue(issue.key).fields.updated >= comment.updated


def test_bulk_create_reports_the_failing_element(jira) -> None:  # type: ignore[no-untyped-def]
    results = jira.create_issues([
        {"project": {"key": "PORT"}, "summary": "good one", "issuetype": {"name": "Task"}},
        {"project": {"key": "PORT"}, "summary": "", "issuetype": {"name": "Task"}},
        {"project": {"key": "PORT"}, "summary": "good two", "issuetype": {"name": "Story"}},
    ], prefetch=False)
    assert [r["status"] for r in results] == ["Success", "Error", "Success"]
    assert results[1]["error"] == {"summary": "You must specify a summary of the issue."}
    assert [r["issue"].key for r in results if r["issue"]] == ["PORT-1", "PORT-2"]


def test_edit_labels_and_delete(sandbox: SandboxClient, jira) -> None:  # type: ignore[no-untyped-def]
    issue = jira.create_issue(project="PORT", summary="Edit me", issuetype={"name": "Task"})
    issue.update(fields={"summary": "Edited", "labels": ["a", "b"]})
    issue.add_field_value("labels", "c")
    assert sorted(jira.issue(issue.key).fields.labels) == ["a", "b", "c"]
    bad = http(sandbox, "PUT", f"/issue/{issue.key}", json={"fields": {"labels": ["has space"]}})
    assert bad.status_code == 400 and "labels" in bad.json()["errors"]
    issue.delete()
    assert http(sandbox, "GET", f"/issue/{issue.key}").status_code == 404
