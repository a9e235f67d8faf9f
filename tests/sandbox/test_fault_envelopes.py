"""Faults that carry a reply of their own (``body``, ``headers``) and the GitHub stand-in's
content-creation limit, as the real clients meet them."""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests
from github import GithubException
from pmhub_plugins.github.sandbox.limits import SECONDARY_LIMIT_DOCS, SECONDARY_LIMIT_MESSAGE

from hub.testing.sandbox_client import SandboxClient
from tests.sandbox.github_support import new_repo
from tests.sandbox.trello_http import TrelloHttp

LIMIT = "content-creation-limit"


def control(sandbox: SandboxClient, method: str, name: str, body: Any = None) -> requests.Response:
    return sandbox.http.request(method, f"{sandbox.url}/_sandbox/github/{name}", json=body, timeout=10)


def test_a_json_envelope_and_headers_reach_pygithub_as_sent(sandbox: SandboxClient) -> None:
    repo = new_repo(sandbox)
    envelope = {"message": SECONDARY_LIMIT_MESSAGE, "documentation_url": SECONDARY_LIMIT_DOCS}
    sandbox.fault("github", method="POST", path=r"/issues$", status=403, body=envelope,
                  headers={"x-github-request-id": "ABCD:1234"})

    with pytest.raises(GithubException) as refused:
        repo.create_issue("Refused")

    assert refused.value.status == 403 and refused.value.data == envelope
    headers = refused.value.headers
    assert headers["x-github-request-id"] == "ABCD:1234", "the fault's header wins"
    assert int(headers["x-ratelimit-remaining"]) > 0, "GitHub's own headers are still there"
    assert "retry-after" not in headers
    assert [i.title for i in repo.get_issues()] == [], "a refused create writes nothing"


def test_a_text_body_keeps_its_content_type_and_status_200(sandbox: SandboxClient) -> None:
    trello = TrelloHttp(sandbox.base("trello"))
    sandbox.fault("trello", method="GET", path=r"^/1/members/me$", status=200,
                  body="<!DOCTYPE html><html><body>Log in</body></html>",
                  headers={"Content-Type": "text/html; charset=utf-8"})

    page = trello.raw("GET", "/members/me")

    assert page.status_code == 200 and page.headers["Content-Type"] == "text/html; charset=utf-8"
    assert page.text.startswith("<!DOCTYPE html>")
    assert trello.get("/members/me")["username"], "once: the next call is the stand-in's own"


@pytest.mark.parametrize(("spec", "problem"), [
    ({"status": 403, "body": 5}, "'body' must be"),
    ({"body": "x", "delay": 0.1}, "'body' needs a 'status'"),
    ({"status": 403, "headers": {"Retry-After": 3}}, "'headers' must map"),
])
def test_a_malformed_envelope_is_refused_naming_the_key(sandbox: SandboxClient, spec: dict[str, Any],
                                                        problem: str) -> None:
    reply = sandbox.http.post(f"{sandbox.url}/_sandbox/faults", json={"service": "github", **spec},
                              timeout=10)

    assert reply.status_code == 400 and problem in reply.json()["error"]


def test_the_content_creation_limit_refuses_with_githubs_envelope(sandbox: SandboxClient) -> None:
    repo = new_repo(sandbox)
    assert control(sandbox, "GET", LIMIT).json() == {"content_creation_limit": None}, "off by default"
    assert control(sandbox, "POST", LIMIT, {"limit": 2, "window_seconds": 1}).status_code == 201

    first, second = repo.create_issue("One"), repo.create_issue("Two")
    with pytest.raises(GithubException) as refused:
        repo.create_issue("Three")
    first.edit(title="One, edited")  # not a create: PATCH is not limited
    listed = [i.title for i in repo.get_issues()]
    time.sleep(1.05)
    third = repo.create_issue("Three")

    assert refused.value.status == 403
    assert refused.value.data == {"message": SECONDARY_LIMIT_MESSAGE,
                                  "documentation_url": SECONDARY_LIMIT_DOCS}
    assert int(refused.value.headers["x-ratelimit-remaining"]) > 0
    assert "retry-after" not in refused.value.headers
    assert sorted(listed) == ["One, edited", "Two"]
    assert (second.number, third.number) == (2, 3)


def test_the_content_creation_limit_can_send_retry_after_and_is_off_after_a_reset(
        sandbox: SandboxClient) -> None:
    repo = new_repo(sandbox)
    control(sandbox, "POST", LIMIT, {"limit": 1, "window_seconds": 30, "retry_after": True})
    repo.create_issue("One")
    with pytest.raises(GithubException) as refused:
        repo.create_issue("Two")
    assert 1 <= int(refused.value.headers["retry-after"]) <= 30

    assert control(sandbox, "DELETE", LIMIT).json() == {"content_creation_limit": None}
    repo.create_issue("Two")
    control(sandbox, "POST", LIMIT, {"limit": 1})
    sandbox.reset()
    assert control(sandbox, "GET", LIMIT).json() == {"content_creation_limit": None}


@pytest.mark.parametrize("body", [{"limit": 0}, {"limit": 2, "window_seconds": 0}, {"limit": 2, "per": 1},
                                  {"limit": "80"}, [1]])
def test_a_bad_limit_is_refused(sandbox: SandboxClient, body: Any) -> None:
    assert control(sandbox, "POST", LIMIT, body).status_code == 400
