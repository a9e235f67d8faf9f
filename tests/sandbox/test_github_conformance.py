"""The GitHub stand-in's replies against GitHub's OpenAPI description and recorded real replies.

Every path the stand-in serves is exercised over plain HTTP, and each reply is checked with
openapi-core (enums may be null, as in reality) and, where a real recording of the same kind
exists, for the same keys and JSON types. Skips where ../shared/oracles is absent.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from hub.testing.sandbox_client import SandboxClient
from tests.sandbox.conformance import assert_same_shape, check_response, openapi, recorded_bodies

SPEC = "github/github-issues.openapi.json"
RECORDED = "github/recorded-exchanges.json"
SERVER = "https://api.github.com"
# Paths the description does not cover (GitHub documents them elsewhere), or that are sandbox-only.
NOT_DESCRIBED = re.compile(r"^/(user/repos|orgs/[^/]+(/repos)?)$")


class Recorder:
    """Sends requests to the stand-in and keeps every exchange for checking."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.http = requests.Session()
        self.http.headers["Authorization"] = "token sandbox-token"
        self.exchanges: list[tuple[str, str, str, int, Any]] = []

    def __call__(self, method: str, path: str, expect: int, json: Any = None,
                 headers: dict[str, str] | None = None) -> Any:
        reply = self.http.request(method, self.base + path, json=json, headers=headers, timeout=10)
        assert reply.status_code == expect, f"{method} {path}: {reply.status_code} {reply.text[:300]}"
        body = reply.json() if reply.content else None
        split = urlsplit(path)
        self.exchanges.append((method, split.path, split.query, reply.status_code, body))
        return body


@pytest.fixture(scope="module")
def exchanges(sandbox_server: str) -> list[tuple[str, str, str, int, Any]]:
    """One pass over every route the stand-in serves, in a realistic order.

    Each seeded issue is changed at most once, so the stand-in's one-second wait between two
    changes of the same record (second-precision timestamps) does not slow the pass down.
    """
    sandbox = SandboxClient(sandbox_server)
    sandbox.reset("demo")
    base = sandbox.base("github")
    call = Recorder(base)
    call("GET", "/user", 200)
    call("GET", "/users/hubot", 200)
    call("GET", "/rate_limit", 200)
    call("POST", "/user/repos", 201, {"name": "notes"})
    call("POST", "/orgs/acme/repos", 201, {"name": "site"})
    call("GET", "/orgs/acme", 200)
    call("POST", "/user/repos", 422, {"name": "notes"})
    call("GET", "/repos/acme/portal", 200)
    call("GET", "/repos/octocat/notes", 200)
    call("GET", "/repos/acme/missing", 404)
    call("GET", "/repos/acme/portal/issues?state=all&sort=updated&direction=asc&per_page=3&page=2", 200)
    call("GET", "/repos/acme/portal/issues?since=2020-01-01T00:00:00Z&labels=customer", 200)
    issue = call("POST", "/repos/acme/portal/issues", 201,
                 {"title": "New", "body": "text", "labels": ["bug"], "assignees": ["hubot"], "milestone": 1})
    number = issue["number"]
    call("POST", "/repos/acme/portal/issues", 422, {"body": "no title"})
    call("POST", "/repos/acme/portal/issues", 400, None)
    call("GET", f"/repos/acme/portal/issues/{number}", 200)
    etag = requests.get(f"{base}/repos/acme/portal/issues/{number}", timeout=10).headers["ETag"]
    call("GET", f"/repos/acme/portal/issues/{number}", 304, headers={"If-None-Match": etag})
    call("PATCH", "/repos/acme/portal/issues/3", 200, {"state": "closed", "state_reason": "not_planned"})
    call("PATCH", "/repos/acme/portal/issues/3", 422, {"state": "gone"})
    call("GET", "/repos/acme/portal/issues/99", 404)
    comment = call("POST", "/repos/acme/portal/issues/1/comments", 201, {"body": "Hi"})
    call("GET", "/repos/acme/portal/issues/1/comments", 200)
    call("GET", "/repos/acme/portal/issues/comments?sort=updated&direction=asc&since=2020-01-01T00:00:00Z",
         200)
    call("GET", f"/repos/acme/portal/issues/comments/{comment['id']}", 200)
    call("PATCH", f"/repos/acme/portal/issues/comments/{comment['id']}", 200, {"body": "Hello"})
    call("DELETE", f"/repos/acme/portal/issues/comments/{comment['id']}", 204)
    call("GET", "/repos/acme/portal/labels", 200)
    call("POST", "/repos/acme/portal/labels", 201, {"name": "triage", "color": "fbca04"})
    call("POST", "/repos/acme/portal/labels", 422, {"name": "triage"})
    call("GET", "/repos/acme/portal/labels/priority%3A%20high", 200)
    call("PATCH", "/repos/acme/portal/labels/triage", 200, {"new_name": "needs-triage"})
    call("GET", "/repos/acme/portal/issues/1/labels", 200)
    call("POST", "/repos/acme/portal/issues/2/labels", 200, {"labels": ["needs-triage"]})
    call("PUT", "/repos/acme/portal/issues/4/labels", 200, {"labels": ["bug", "customer"]})
    call("DELETE", "/repos/acme/portal/issues/6/labels/bug", 200)
    call("DELETE", "/repos/acme/portal/issues/5/labels", 204)
    call("DELETE", "/repos/acme/portal/labels/needs-triage", 204)
    call("GET", "/repos/acme/portal/milestones?state=all", 200)
    call("POST", "/repos/acme/portal/milestones", 201, {"title": "v2.0", "due_on": "2030-01-01T00:00:00Z"})
    call("GET", "/repos/acme/portal/milestones/2", 200)
    call("PATCH", "/repos/acme/portal/milestones/2", 200, {"state": "closed"})
    call("DELETE", "/repos/acme/portal/milestones/2", 204)
    call("GET", "/repos/acme/portal/assignees", 200)
    call("GET", "/repos/acme/portal/assignees/monalisa", 204)
    call("GET", "/repos/acme/portal/assignees/stranger", 404)
    call("POST", f"/repos/acme/portal/issues/{number}/assignees", 201, {"assignees": ["monalisa"]})
    call("DELETE", "/repos/acme/portal/issues/2/assignees", 200, {"assignees": ["monalisa"]})
    requests.delete(f"{base}/repos/acme/portal/issues/{number}", timeout=10)
    call("GET", f"/repos/acme/portal/issues/{number}", 410)
    call("GET", f"/repos/acme/portal/issues/{number}/comments", 410)
    sandbox.reset("empty")
    return call.exchanges


def test_every_reply_matches_the_openapi_description(exchanges: list[Any]) -> None:
    api = openapi(SPEC, nullable_enums=True)
    checked = 0
    for method, path, query, status, body in exchanges:
        if NOT_DESCRIBED.match(path):
            continue
        check_response(api, SERVER, method, path, status, body, query=query)
        checked += 1
    assert checked >= 45


def _recorded_sample(path: str, keep: Any = None) -> list[Any]:
    bodies = []
    for body in recorded_bodies(RECORDED, "GET", path):
        for item in body if isinstance(body, list) else [body]:
            if isinstance(item, dict) and (keep is None or keep(item)):
                bodies.append(item)
    assert bodies, f"no recorded reply for {path}"
    return bodies


def _served(exchanges: list[Any], method: str, pattern: str, status: int = 200) -> list[Any]:
    out = []
    for m, path, _query, code, body in exchanges:
        if m == method and code == status and re.fullmatch(pattern, path):
            out.extend(body if isinstance(body, list) else [body])
    assert out, f"the sandbox served nothing for {method} {pattern}"
    return out


def test_issues_have_the_keys_and_types_of_real_ones(exchanges: list[Any]) -> None:
    ours = _served(exchanges, "GET", r"/repos/acme/portal/issues(/\d+)?")
    plain = next(i for i in ours if "pull_request" not in i and i["milestone"] and i["assignee"])
    pull = next(i for i in ours if "pull_request" in i)
    for real in _recorded_sample(r"^/repos/[^/]+/[^/]+/issues(/\d+)?$", lambda i: "pull_request" not in i):
        assert_same_shape(real, plain)
    for real in _recorded_sample(r"^/repos/[^/]+/[^/]+/issues$", lambda i: "pull_request" in i):
        assert_same_shape(real, pull)


def test_comments_labels_milestones_repos_have_real_shapes(exchanges: list[Any]) -> None:
    pairs = [
        (r"/comments(/\d+)?$", _served(exchanges, "GET", r"/repos/acme/portal/issues/comments/\d+")[0]),
        (r"/labels(/[^/]+)?$", _served(exchanges, "GET", r"/repos/acme/portal/labels")[0]),
        (r"/milestones/\d+$", _served(exchanges, "GET", r"/repos/acme/portal/milestones/\d+")[0]),
    ]
    for pattern, ours in pairs:
        for real in _recorded_sample(pattern):
            assert_same_shape(real, ours)
    org_repo = _served(exchanges, "GET", r"/repos/acme/portal")[0]
    user_repo = _served(exchanges, "GET", r"/repos/octocat/notes")[0]
    repos = _recorded_sample(r"^/repos/[^/]+/[^/]+$", lambda r: not r.get("fork"))
    for real in repos:
        assert_same_shape(real, org_repo if "organization" in real else user_repo)


def test_error_bodies_are_githubs(exchanges: list[Any]) -> None:
    for _method, path, _query, status, body in exchanges:
        if status < 400:
            continue
        assert set(body) >= {"message", "documentation_url", "status"}, path
        assert body["status"] == str(status)
        if status == 422:
            assert body["message"] == "Validation Failed" and body["errors"][0]["code"], path
