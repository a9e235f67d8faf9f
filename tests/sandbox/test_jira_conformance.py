"""The Jira stand-in's replies match Atlassian's REST v3 description (and v2, which has the same shapes
except for bodies: v2 sends wiki-markup strings where v3 sends ADF documents)."""

from __future__ import annotations

from typing import Any

import pytest

from hub.testing.sandbox_client import SandboxClient
from tests.sandbox.conformance import check_response, openapi
from tests.sandbox.jira_support import http, new_issue, new_project

SPEC = "jira/jira-cloud-v3.openapi.json"
#: The description's server; paths are matched below it.
SERVER = "https://your-domain.atlassian.net"


@pytest.fixture(scope="module")
def api() -> Any:
    # Real timestamps ("2025-01-02T03:04:05.678+0000") are not RFC 3339 date-times.
    return openapi(SPEC, drop_formats=frozenset({"date-time"}))


def _exchange(sandbox: SandboxClient, api: Any, version: str, method: str, path: str,
              expected: int, **kwargs: Any) -> Any:
    reply = http(sandbox, method, path, version=version, **kwargs)
    assert reply.status_code == expected, f"{method} {path}: {reply.status_code} {reply.text}"
    if not reply.content:
        # Jira sends 204 with no body; the description declares an (empty) JSON schema for it.
        return None
    body = reply.json()
    query = reply.request.url.partition("?")[2]
    # v2 is described by the v3 document: same operations and shapes.
    check_response(api, SERVER, method, f"/rest/api/3{path}", reply.status_code, body, query=query)
    return body


@pytest.mark.parametrize("version", ["2", "3"])
def test_every_served_shape_matches_the_description(sandbox: SandboxClient, api: Any,
                                                   version: str) -> None:
    sandbox.reset("demo")
    ex = lambda *args, **kwargs: _exchange(sandbox, api, version, *args, **kwargs)  # noqa: E731

    ex("GET", "/serverInfo", 200)
    ex("GET", "/myself", 200)
    ex("GET", "/field", 200)
    ex("GET", "/issuetype", 200)
    ex("GET", "/priority", 200)
    ex("GET", "/status", 200)
    ex("GET", "/project", 200)
    ex("GET", "/project/PORT", 200)
    ex("GET", "/project/PORT/statuses", 200)
    created = ex("POST", "/project", 201, json={"key": "OPS", "name": "Operations",
                                                "projectTypeKey": "software"})
    assert created["key"] == "OPS"

    ex("GET", "/issue/PORT-1", 200, params={"expand": "names,schema,transitions,renderedFields"})
    ex("GET", "/issue/PORT-1", 200, params={"fields": "summary,status,comment"})
    body = {"summary": "Conformance", "labels": ["customer"], "priority": {"name": "High"}}
    issue = ex("POST", "/issue", 201, json={"fields": {
        "project": {"key": "PORT"}, "issuetype": {"name": "Bug"}, **body}})
    key = issue["key"]
    bulk = ex("POST", "/issue/bulk", 201, json={"issueUpdates": [
        {"fields": {"project": {"key": "PORT"}, "issuetype": {"name": "Task"}, "summary": "one"}},
        {"fields": {"project": {"key": "PORT"}, "issuetype": {"name": "Task"}}},
    ]})
    assert [e["failedElementNumber"] for e in bulk["errors"]] == [1]
    ex("POST", "/issue/bulk", 400, json={"issueUpdates": [
        {"fields": {"project": {"key": "NOPE"}, "issuetype": {"name": "Task"}, "summary": "x"}}]})
    fetched = ex("POST", "/issue/bulkfetch", 200, json={"issueIdsOrKeys": [key, "PORT-1", "NOPE-1"],
                                                        "fields": ["summary", "updated"]})
    assert [i["key"] for i in fetched["issues"]] == [key, "PORT-1"]
    ex("PUT", f"/issue/{key}", 204, json={"fields": {"summary": "Renamed"}})
    ex("GET", f"/issue/{key}/transitions", 200)
    ex("POST", f"/issue/{key}/transitions", 204, json={"transition": {"id": "31"}})

    comment_body: Any = "Hello" if version == "2" else {
        "type": "doc", "version": 1,
        "content": [{"type": "paragraph", "content": [{"type": "text", "text": "Hello"}]}]}
    comment = ex("POST", f"/issue/{key}/comment", 201, json={
        "body": comment_body, "properties": [{"key": "pmhub", "value": {"marker": "m1"}}]})
    listed = ex("GET", f"/issue/{key}/comment", 200,
                params={"startAt": 0, "maxResults": 10, "expand": "properties"})
    assert listed["comments"][0]["properties"] == [{"key": "pmhub", "value": {"marker": "m1"}}]
    ex("GET", f"/issue/{key}/comment/{comment['id']}", 200)
    ex("PUT", f"/issue/{key}/comment/{comment['id']}", 200, json={"body": comment_body})
    ex("DELETE", f"/issue/{key}/comment/{comment['id']}", 204)

    ex("PUT", f"/issue/{key}/properties/pmhub", 201, json={"marker": "abc"})
    ex("GET", f"/issue/{key}/properties", 200)
    ex("GET", f"/issue/{key}/properties/pmhub", 200)
    ex("DELETE", f"/issue/{key}/properties/pmhub", 204)

    page = ex("GET", "/search/jql", 200, params=[
        ("jql", "project = PORT ORDER BY updated ASC"), ("maxResults", "2"),
        ("fields", "summary"), ("fields", "updated"), ("expand", "names")])
    assert page["nextPageToken"] and page["isLast"] is False
    ex("POST", "/search/jql", 200, json={"jql": "project = PORT", "maxResults": 50,
                                         "fields": ["summary", "status"]})
    ex("DELETE", f"/issue/{key}", 204)


def test_errors_use_the_jira_envelope(sandbox: SandboxClient, api: Any) -> None:
    new_project(sandbox)
    missing = _exchange(sandbox, api, "2", "POST", "/issue", 400,
                        json={"fields": {"project": {"key": "PORT"}, "issuetype": {"name": "Task"}}})
    assert missing == {"errorMessages": [],
                       "errors": {"summary": "You must specify a summary of the issue."}}
    bad_json = http(sandbox, "POST", "/issue", data="{not json",
                    headers={"Content-Type": "application/json"})
    assert bad_json.status_code == 400 and bad_json.json()["errorMessages"]
    unknown = http(sandbox, "GET", "/issue/PORT-99")
    assert unknown.status_code == 404 and set(unknown.json()) == {"errorMessages", "errors"}
    jql = http(sandbox, "GET", "/search/jql", params={"jql": "summary ~ hello"})
    assert jql.status_code == 400
    assert jql.json()["errors"] == {} and jql.json()["errorMessages"]


def test_v3_bodies_are_adf_and_v2_bodies_are_wiki_strings(sandbox: SandboxClient) -> None:
    new_project(sandbox)
    key = new_issue(sandbox, "Bodies", description="First *line*\nsecond\n\n* a\n* b")["key"]
    v2 = http(sandbox, "GET", f"/issue/{key}", version="2").json()["fields"]["description"]
    v3 = http(sandbox, "GET", f"/issue/{key}", version="3").json()["fields"]["description"]
    assert v2 == "First *line*\nsecond\n\n* a\n* b"
    assert v3["type"] == "doc" and v3["version"] == 1
    assert [node["type"] for node in v3["content"]] == ["paragraph", "bulletList"]

    # Written through v3 as ADF, read through v2 as wiki markup.
    adf = {"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": [
        {"type": "text", "text": "bold", "marks": [{"type": "strong"}]},
        {"type": "text", "text": " and plain"}]}]}
    reply = http(sandbox, "POST", f"/issue/{key}/comment", version="3", json={"body": adf})
    assert reply.status_code == 201 and reply.json()["body"]["type"] == "doc"
    comments = http(sandbox, "GET", f"/issue/{key}/comment", version="2").json()["comments"]
    assert comments[-1]["body"] == "*bold* and plain"

    # Each version rejects the other's body type, as Jira does.
    assert http(sandbox, "POST", f"/issue/{key}/comment", version="3",
                json={"body": "plain"}).status_code == 400
    assert http(sandbox, "PUT", f"/issue/{key}", version="2",
                json={"fields": {"description": adf}}).status_code == 400
