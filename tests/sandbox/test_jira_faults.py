"""Fault injection and auth on the Jira stand-in, seen through the real ``jira`` client."""

from __future__ import annotations

import time

import pytest
import requests
from pmhub_plugins.jira.sandbox import JiraSandbox

from hub.sandbox.server import SandboxApp, SandboxServer
from hub.testing.sandbox_client import SandboxClient
from tests.sandbox.jira_support import EMAIL, jira_client, new_project


def test_lost_create_reply_leaves_exactly_one_issue(sandbox: SandboxClient) -> None:
    from jira import JIRAError

    new_project(sandbox)
    jira = jira_client(sandbox.base("jira"))
    sandbox.fault("jira", method="POST", path=r"/issue$", status=502, after_commit=True)
    with pytest.raises(JIRAError) as raised:
        jira.create_issue(project={"key": "PORT"}, summary="Once", issuetype={"name": "Task"})
    assert raised.value.status_code == 502
    found = jira.search_issues("project = PORT", fields="summary")
    assert [issue.fields.summary for issue in found] == ["Once"]
    log = [r for r in sandbox.requests("jira") if r["method"] == "POST"]
    assert [r["path"] for r in log if r.get("fault")] == ["/rest/api/2/issue"]


def test_429_with_retry_after_is_honoured_by_a_retry(sandbox: SandboxClient) -> None:
    from jira import JIRAError

    new_project(sandbox)
    jira = jira_client(sandbox.base("jira"))
    sandbox.fault("jira", method="GET", path=r"/myself$", status=429, retry_after=1)
    with pytest.raises(JIRAError) as raised:
        jira.myself()
    assert raised.value.status_code == 429
    wait = int(raised.value.response.headers["Retry-After"])
    assert wait == 1
    assert raised.value.response.json()["errorMessages"]
    assert raised.value.response.headers["RateLimit-Reason"]
    # What pmhub's engine does (the client's own retries are off): wait as told, then retry.
    started = time.monotonic()
    time.sleep(wait)
    assert jira.myself()["displayName"] == "pmhub-bot"
    assert time.monotonic() - started >= wait


def test_wrong_token_gets_jiras_401() -> None:
    from jira import JIRAError

    with SandboxServer(SandboxApp([JiraSandbox()], token="t")) as server:
        base = server.url + "/jira"
        reply = requests.get(f"{base}/rest/api/2/myself", auth=(EMAIL, "wrong"), timeout=10)
        assert reply.status_code == 401
        assert reply.json()["errorMessages"] and reply.json()["errors"] == {}
        assert requests.get(f"{base}/rest/api/2/myself", auth=(EMAIL, "t"),
                            timeout=10).status_code == 200
        with pytest.raises(JIRAError) as raised:
            jira_client(base, token="wrong")
        assert raised.value.status_code == 401
