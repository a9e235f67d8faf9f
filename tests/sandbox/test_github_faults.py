"""Injected faults and token checks as PyGithub meets them."""

from __future__ import annotations

import pytest
import requests
from github import BadCredentialsException, GithubException
from pmhub_plugins.github.sandbox import GitHubSandbox

from hub.sandbox.server import SandboxApp, SandboxServer
from hub.testing.sandbox_client import SandboxClient
from tests.sandbox.github_support import github_client, new_repo


def test_lost_reply_after_commit_leaves_exactly_one_issue(sandbox: SandboxClient) -> None:
    repo = new_repo(sandbox)
    sandbox.fault("github", method="POST", path=r"/repos/[^/]+/[^/]+/issues$", status=502,
                  after_commit=True)

    with pytest.raises(GithubException) as lost:
        repo.create_issue("Created, but the reply was lost")

    assert lost.value.status == 502
    titles = [i.title for i in repo.get_issues(state="all")]
    assert titles == ["Created, but the reply was lost"]


def test_429_carries_retry_after_and_the_next_call_succeeds(sandbox: SandboxClient) -> None:
    repo = new_repo(sandbox)
    sandbox.fault("github", method="GET", path=r"/issues$", status=429, retry_after=7)

    with pytest.raises(GithubException) as limited:
        list(repo.get_issues())

    assert limited.value.status == 429
    assert limited.value.headers["retry-after"] == "7"
    assert "x-ratelimit-remaining" in limited.value.headers
    assert limited.value.data["documentation_url"].startswith("https://docs.github.com/")
    assert list(repo.get_issues()) == []


def test_a_dropped_connection_surfaces_as_a_connection_error(sandbox: SandboxClient) -> None:
    repo = new_repo(sandbox)
    issue = repo.create_issue("Flaky network")
    sandbox.fault("github", method="GET", path=rf"/issues/{issue.number}$", drop=True)

    with pytest.raises(requests.exceptions.ConnectionError):
        repo.get_issue(issue.number)

    assert repo.get_issue(issue.number).title == "Flaky network"
    assert [r.get("fault") for r in sandbox.requests("github")][-2:] == [True, None]


def test_a_wrong_token_gets_githubs_401() -> None:
    app = SandboxApp([GitHubSandbox()], token="right-token", seed="demo")
    with SandboxServer(app) as server:
        base = f"{server.url}/github"
        with pytest.raises(BadCredentialsException) as refused:
            github_client(base, token="wrong-token").get_repo("acme/portal")
        bearer = requests.get(f"{base}/user", headers={"Authorization": "Bearer right-token"}, timeout=10)
        anonymous = requests.get(f"{base}/user", timeout=10)

        assert github_client(base, token="right-token").get_repo("acme/portal").full_name == "acme/portal"

    assert refused.value.status == 401
    assert refused.value.data == {"message": "Bad credentials",
                                  "documentation_url": "https://docs.github.com/rest", "status": "401"}
    assert bearer.status_code == 200 and bearer.json()["login"] == "octocat"
    assert anonymous.status_code == 401 and "X-RateLimit-Limit" in anonymous.headers
