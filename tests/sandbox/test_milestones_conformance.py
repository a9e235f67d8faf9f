"""Milestones in the stand-ins against the oracles: GitHub's milestone listing (state, sort,
direction), edits and due days; Jira's project versions, version create/edit and an issue's
``fixVersions``, each reply checked against the tool's OpenAPI description, and the real clients
(PyGithub, ``jira``) reading what the stand-ins serve."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import requests

from hub.testing.sandbox_client import SandboxClient
from tests.sandbox.conformance import check_response, openapi
from tests.sandbox.github_support import github_client
from tests.sandbox.jira_support import http, jira_client, new_project


@pytest.fixture(scope="module")
def jira_api() -> Any:
    return openapi("jira/jira-cloud-v3.openapi.json", drop_formats=frozenset({"date-time"}))


@pytest.fixture(scope="module")
def github_api() -> Any:
    return openapi("github/github-issues.openapi.json")


def _jira(sandbox: SandboxClient, api: Any, method: str, path: str, expected: int, *,
          described: bool = True, **kwargs: Any) -> Any:
    reply = http(sandbox, method, path, **kwargs)
    assert reply.status_code == expected, f"{method} {path}: {reply.status_code} {reply.text}"
    if not reply.content:
        return None  # Jira's 204 has no body (the description declares an empty schema for it)
    body = reply.json()
    if described:
        check_response(api, "https://your-domain.atlassian.net", method, f"/rest/api/3{path}",
                       reply.status_code, body, query=reply.request.url.partition("?")[2])
    return body


def test_jira_versions_and_fix_versions_have_the_described_shapes(sandbox: SandboxClient,
                                                                   jira_api: Any) -> None:
    new_project(sandbox)
    created = _jira(sandbox, jira_api, "POST", "/version", 201, json={
        "name": "v1.0", "project": "PORT", "description": "First release", "releaseDate": "2026-03-31",
        "startDate": "2026-01-05", "released": False, "archived": False})
    assert (created["name"], created["releaseDate"], created["startDate"]) == ("v1.0", "2026-03-31",
                                                                              "2026-01-05")
    assert isinstance(created["id"], str) and created["projectId"] > 0
    # The stored description lists /version/{id} without operations: its reply is checked as the
    # listing's element below (the same Version schema).
    edited = _jira(sandbox, jira_api, "PUT", f"/version/{created['id']}", 200, described=False,
                   json={"releaseDate": "2026-04-15", "released": True})
    assert (edited["releaseDate"], edited["released"], edited["name"]) == ("2026-04-15", True, "v1.0")
    [listed] = _jira(sandbox, jira_api, "GET", "/project/PORT/versions", 200)
    assert listed == edited
    issue = _jira(sandbox, jira_api, "POST", "/issue", 201, json={"fields": {
        "project": {"key": "PORT"}, "issuetype": {"name": "Task"}, "summary": "In a release",
        "fixVersions": [{"name": "v1.0"}]}})
    read = _jira(sandbox, jira_api, "GET", f"/issue/{issue['key']}", 200, params={"fields": "fixVersions"})
    assert [v["name"] for v in read["fields"]["fixVersions"]] == ["v1.0"]
    _jira(sandbox, jira_api, "PUT", f"/issue/{issue['key']}", 204, json={"fields": {"fixVersions": []}})
    read = _jira(sandbox, jira_api, "GET", f"/issue/{issue['key']}", 200, params={"fields": "fixVersions"})
    assert read["fields"]["fixVersions"] == []


def test_jira_refuses_what_jira_refuses(sandbox: SandboxClient) -> None:
    new_project(sandbox)
    http(sandbox, "POST", "/version", json={"name": "v1.0", "project": "PORT"}).raise_for_status()
    twice = http(sandbox, "POST", "/version", json={"name": "v1.0", "project": "PORT"})
    assert twice.status_code == 400 and "name" in twice.json()["errors"]
    nameless = http(sandbox, "POST", "/version", json={"project": "PORT"})
    assert nameless.status_code == 400 and "name" in nameless.json()["errors"]
    bad_date = http(sandbox, "POST", "/version",
                    json={"name": "v2", "project": "PORT", "releaseDate": "soon"})
    assert bad_date.status_code == 400 and "releaseDate" in bad_date.json()["errors"]
    unknown = http(sandbox, "POST", "/issue", json={"fields": {
        "project": {"key": "PORT"}, "issuetype": {"name": "Task"}, "summary": "x",
        "fixVersions": [{"name": "nope"}]}})
    assert unknown.status_code == 400 and "fixVersions" in unknown.json()["errors"]
    assert http(sandbox, "GET", "/version/99999").status_code == 404


def test_the_jira_client_reads_and_edits_versions(sandbox: SandboxClient) -> None:
    new_project(sandbox)
    jira = jira_client(sandbox.base("jira"))
    http(sandbox, "POST", "/version", json={"name": "v1.0", "project": "PORT",
                                            "releaseDate": "2026-03-31"}).raise_for_status()
    [version] = jira.project_versions("PORT")
    version.update(name="v1.0.1", released=True)
    [again] = jira.project_versions("PORT")
    assert (again.name, again.released, again.releaseDate) == ("v1.0.1", True, "2026-03-31")
    issue = jira.create_issue(project="PORT", summary="Fix it", issuetype={"name": "Task"},
                              fixVersions=[{"id": again.id}])
    assert [v.name for v in jira.issue(issue.key).fields.fixVersions] == ["v1.0.1"]


def test_github_milestones_list_as_github_sorts_them(sandbox: SandboxClient, github_api: Any) -> None:
    gh = github_client(sandbox.base("github"), token="sandbox-token", per_page=100)
    repo = gh.get_organization("acme").create_repo("portal")
    late = repo.create_milestone("late", due_on=dt.date(2026, 9, 1))
    early = repo.create_milestone("early", due_on=dt.date(2026, 2, 1))
    undated = repo.create_milestone("undated")
    undated.edit("undated", state="closed")
    assert [m.title for m in repo.get_milestones()] == ["early", "late"], "open, by due date, ascending"
    assert [m.title for m in repo.get_milestones(state="all", sort="due_on", direction="desc")] == [
        "undated", "late", "early"]
    repo.create_issue("done", milestone=late).edit(state="closed")
    repo.create_issue("open", milestone=early)
    assert [m.title for m in repo.get_milestones(sort="completeness")] == ["early", "late"]
    # GitHub keeps the day, served at Pacific midnight in UTC (a recorded reply shows T07:00:00Z).
    assert late.due_on.date() == dt.date(2026, 9, 1) and late.due_on.hour in (7, 8)

    base = sandbox.base("github")
    session = requests.Session()
    session.headers["Authorization"] = "token sandbox-token"
    reply = session.get(f"{base}/repos/acme/portal/milestones",
                        params={"state": "all", "sort": "due_on", "direction": "asc", "per_page": 100},
                        timeout=10)
    check_response(github_api, "https://api.github.com", "GET", "/repos/acme/portal/milestones",
                   reply.status_code, reply.json(), query=reply.request.url.partition("?")[2])
    bad = session.get(f"{base}/repos/acme/portal/milestones", params={"sort": "updated"}, timeout=10)
    assert bad.status_code == 422, "GitHub cannot sort milestones by update time"
    taken = session.patch(f"{base}/repos/acme/portal/milestones/{early.number}", json={"title": "late"},
                          timeout=10)
    assert taken.status_code == 422
