"""The GitHub stand-in's sub-issues: PyGithub's and githubkit's own sub-issue methods over HTTP,
GitHub's refusals, and every reply checked against the OpenAPI description and real recordings."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests

from hub.testing.sandbox_client import SandboxClient
from tests.sandbox.conformance import assert_same_shape, check_response, openapi, recorded_bodies
from tests.sandbox.github_support import github_client

REPO = "acme/portal"
SERVER = "https://api.github.com"


@pytest.fixture(scope="module")
def api() -> Any:
    return openapi("github/github-issues.openapi.json", nullable_enums=True)


@pytest.fixture
def call(sandbox: SandboxClient, api: Any) -> Any:
    """Raw HTTP to the stand-in; every reply is checked against the description."""
    session = requests.Session()
    session.headers["Authorization"] = "token sandbox-token"
    base = sandbox.base("github")

    def send(method: str, path: str, expect: int, body: Any = None) -> Any:
        reply = session.request(method, base + path, json=body, timeout=10)
        assert reply.status_code == expect, f"{method} {path}: {reply.status_code} {reply.text[:300]}"
        data = reply.json() if reply.content else None
        path_only, _, query = path.partition("?")
        check_response(api, SERVER, method, path_only, reply.status_code, data, query=query)
        return data

    return send


def _issues(call: Any, count: int) -> list[dict[str, Any]]:
    return [call("POST", f"/repos/{REPO}/issues", 201, {"title": f"Issue {n}"}) for n in range(count)]


def test_pygithub_adds_lists_orders_and_removes_sub_issues(sandbox: SandboxClient) -> None:
    sandbox.reset("demo")
    repo = github_client(sandbox.base("github"), per_page=2).get_repo(REPO)
    parent = repo.get_issue(1)
    children = [repo.create_issue(f"Part {n}") for n in range(3)]

    added = [parent.add_sub_issue(child) for child in children]
    repo.get_issue(children[1].number).edit(state="closed")

    assert [a.number for a in added] == [1, 1, 1], "each add answers with the parent"
    listed = list(parent.get_sub_issues())  # three on two pages of two
    assert [s.number for s in listed] == [c.number for c in children]
    summary = repo.get_issue(1).sub_issues_summary
    assert (summary.total, summary.completed, summary.percent_completed) == (3, 1, 33)
    child = repo.get_issue(children[0].number)
    assert child.parent_issue_url == f"{sandbox.base('github')}/repos/{REPO}/issues/1"
    parent.prioritize_sub_issue(children[0], children[2])
    assert [s.number for s in parent.get_sub_issues()] == [children[1].number, children[2].number,
                                                           children[0].number]
    parent.remove_sub_issue(children[1].id)
    assert [s.number for s in parent.get_sub_issues()] == [children[2].number, children[0].number]
    assert repo.get_issue(children[1].number).parent_issue_url is None


def test_githubkit_parses_what_the_sub_issue_endpoints_serve(sandbox: SandboxClient) -> None:
    from githubkit import GitHub

    sandbox.reset("demo")
    owner, name = REPO.split("/")
    with GitHub("sandbox-token", base_url=sandbox.base("github") + "/", auto_retry=False,
                http_cache=False) as gh:
        issues = gh.rest.issues
        child = issues.create(owner, name, data={"title": "Sub"}).parsed_data
        other = issues.create(owner, name, data={"title": "Other parent"}).parsed_data

        added = issues.add_sub_issue(owner, name, 1, data={"sub_issue_id": child.id})
        moved = issues.add_sub_issue(owner, name, other.number,
                                     data={"sub_issue_id": child.id, "replace_parent": True})
        parent = issues.get_parent(owner, name, child.number).parsed_data
        listed = issues.list_sub_issues(owner, name, other.number).parsed_data
        removed = issues.remove_sub_issue(owner, name, other.number, data={"sub_issue_id": child.id})

    assert added.status_code == 201 and added.parsed_data.number == 1
    assert added.headers["location"] == f"{sandbox.base('github')}/repos/{REPO}/issues/1"
    assert moved.parsed_data.number == other.number and parent.number == other.number
    assert [i.number for i in listed] == [child.number]
    assert removed.status_code == 200 and removed.parsed_data.sub_issues_summary.total == 0


def test_github_refuses_what_github_refuses(sandbox: SandboxClient, call: Any) -> None:
    sandbox.reset("demo")
    a, b, c = _issues(call, 3)
    base = f"/repos/{REPO}/issues"
    call("POST", f"{base}/{a['number']}/sub_issues", 201, {"sub_issue_id": b["id"]})

    taken = call("POST", f"{base}/{c['number']}/sub_issues", 422, {"sub_issue_id": b["id"]})
    assert [e["message"] for e in taken["errors"]] == ["Sub issue may only have one parent"]
    twice = call("POST", f"{base}/{a['number']}/sub_issues", 422,
                 {"sub_issue_id": b["id"], "replace_parent": True})
    assert [e["message"] for e in twice["errors"]] == ["Issue may not contain duplicate sub-issues"]
    loop = call("POST", f"{base}/{b['number']}/sub_issues", 422, {"sub_issue_id": a["id"]})
    assert loop["errors"][0]["field"] == "sub_issue_id"
    pull = _pull_request_id(sandbox)
    call("POST", f"{base}/{a['number']}/sub_issues", 422, {"sub_issue_id": pull})
    call("POST", f"{base}/{a['number']}/sub_issues", 404, {"sub_issue_id": 1})  # no such id
    call("POST", f"{base}/999/sub_issues", 404, {"sub_issue_id": c["id"]})
    call("POST", f"{base}/{a['number']}/sub_issues", 422, {"sub_issue_id": str(c["id"])})
    call("POST", f"{base}/{a['number']}/sub_issues", 422, {})
    call("DELETE", f"{base}/{c['number']}/sub_issue", 404, {"sub_issue_id": b["id"]})  # not its child
    call("GET", f"{base}/{a['number']}/parent", 404)  # a root has none
    assert call("GET", f"{base}/{b['number']}/parent", 200)["number"] == a["number"]
    # The sandbox-only deletion of a parent leaves its sub-issues without one.
    requests.delete(f"{sandbox.base('github')}{base}/{a['number']}", timeout=10).raise_for_status()
    call("GET", f"{base}/{b['number']}/parent", 404)
    assert call("GET", f"{base}/{b['number']}", 200)["parent_issue_url"] is None


def _pull_request_id(sandbox: SandboxClient) -> int:
    reply = requests.get(f"{sandbox.base('github')}/repos/{REPO}/issues/5", timeout=10).json()
    assert "pull_request" in reply
    return int(reply["id"])


def test_the_childs_updated_at_moves_with_its_parent_and_the_parents_does_not(
        sandbox: SandboxClient, call: Any) -> None:
    sandbox.reset("demo")
    base = f"/repos/{REPO}/issues"
    child = call("GET", f"{base}/2", 200)

    call("POST", f"{base}/1/sub_issues", 201, {"sub_issue_id": child["id"]})
    added = call("GET", f"{base}/2", 200)
    call("POST", f"{base}/3/sub_issues", 201, {"sub_issue_id": child["id"], "replace_parent": True})
    moved = call("GET", f"{base}/2", 200)
    call("DELETE", f"{base}/3/sub_issue", 200, {"sub_issue_id": child["id"]})
    removed = call("GET", f"{base}/2", 200)
    since = call("GET", f"{base}?state=all&since={moved['updated_at']}", 200)

    assert child["updated_at"] < added["updated_at"] < moved["updated_at"] < removed["updated_at"]
    assert added["parent_issue_url"].endswith(f"{base}/1") and moved["parent_issue_url"].endswith(f"{base}/3")
    assert removed["parent_issue_url"] is None
    assert call("GET", f"{base}/1", 200)["updated_at"] == call("GET", f"{base}/1", 200)["updated_at"]
    assert [i["number"] for i in since] == [2]


def test_sub_issue_replies_have_the_shapes_of_recorded_ones(sandbox: SandboxClient, call: Any) -> None:
    sandbox.reset("demo")
    child = call("GET", f"/repos/{REPO}/issues/2", 200)
    added = call("POST", f"/repos/{REPO}/issues/1/sub_issues", 201, {"sub_issue_id": child["id"]})
    listed = call("GET", f"/repos/{REPO}/issues/1/sub_issues", 200)
    removed = call("DELETE", f"/repos/{REPO}/issues/1/sub_issue", 200, {"sub_issue_id": child["id"]})

    pattern = r"^/repos/[^/]+/[^/]+/issues/\d+/sub_issues?$"
    for real in recorded_bodies("github/recorded-exchanges.json", "POST", pattern, 201):
        assert_same_shape(real, added)
    for real in recorded_bodies("github/recorded-exchanges.json", "GET", pattern):
        assert_same_shape(real, listed)  # each element carries its repository, as GitHub's do
    for real in recorded_bodies("github/recorded-exchanges.json", "DELETE", pattern):
        assert_same_shape(real, removed)
    assert listed[0]["repository"]["full_name"] == REPO


def test_links_are_delivered_as_sub_issues_events_that_name_the_child(sandbox: SandboxClient) -> None:
    from pmhub_plugins.github import webhooks

    from tests.webhooks.receiver import Receiver

    sandbox.reset("demo")
    repo = github_client(sandbox.base("github")).get_repo(REPO)
    with Receiver() as receiver:
        repo.create_hook("web", {"url": f"{receiver.url}/hooks/gh", "content_type": "json"},
                         ["sub_issues"], True)
        receiver.wait(1)
        receiver.clear()
        child = repo.create_issue("Part")  # an ``issues`` event: not subscribed, not delivered
        repo.get_issue(1).add_sub_issue(child)
        repo.get_issue(1).remove_sub_issue(child)
        got = receiver.wait(4)

    actions = [(r.headers["X-GitHub-Event"], json.loads(r.body)["action"]) for r in got]
    assert actions == [("sub_issues", "sub_issue_added"), ("sub_issues", "parent_issue_added"),
                       ("sub_issues", "sub_issue_removed"), ("sub_issues", "parent_issue_removed")]
    first = json.loads(got[0].body)
    assert (first["parent_issue"]["number"], first["sub_issue_id"]) == (1, child.id)
    assert first["sub_issue_repo"]["full_name"] == REPO and "parent_issue_repo" not in first
    named = [webhooks.events({"x-github-event": r.headers["X-GitHub-Event"]}, r.body) for r in got]
    assert {(e.record_type, e.external_id, e.scopes) for events in named for e in events} == {
        ("issue", str(child.number), frozenset({REPO}))}
