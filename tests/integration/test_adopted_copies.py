"""A copy adopted by marker in a run is linked once and never created from as well (issue 10,
the chaos test's echo after a kill): through ``pmhub sync``, the sandbox and the real PyGithub and
``jira`` clients."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest
import tomli_w

from hub.testing.sandbox_client import SandboxClient
from tests.integration.test_github_jira import GitHubJira

JIRA_COMMENTS = r"/issue/[^/]+/comment$"


@pytest.fixture
def hub(tmp_path: Path, sandbox: SandboxClient) -> GitHubJira:
    hub = GitHubJira(tmp_path, sandbox)
    # A short client timeout keeps the run that cannot settle its create brief.
    data = tomllib.loads(hub.config.read_text())
    data["connections"]["jira"]["timeout"] = 2
    hub.config.write_text(tomli_w.dumps(data))
    return hub


def comments(hub: GitHubJira) -> tuple[list[Any], list[Any]]:
    github = [c.body for issue in hub.repo.get_issues(state="all") for c in issue.get_comments()]
    jira = [c.body for issue in hub.jira_issues() for c in hub.jira.comments(issue.key)]
    return github, jira


def test_a_jira_comment_copy_adopted_by_marker_is_not_copied_back_to_github(
        hub: GitHubJira, sandbox: SandboxClient) -> None:
    issue = hub.repo.create_issue("Discuss")
    hub.sync()
    issue.create_comment("Only once, please")
    # The Jira copy is written and its reply lost, and Jira's comment listing fails for the rest of
    # the run, so the create cannot be settled: its intent stays, as after a kill -9 between the
    # write and the commit.
    sandbox.fault("jira", method="POST", path=JIRA_COMMENTS, status=502, after_commit=True)
    sandbox.fault("jira", method="GET", path=JIRA_COMMENTS, status=503, times=50)
    hub.sync(expect=None)
    sandbox.clear_faults()
    # The next run lists the copy as a new Jira comment (the listing does not show its marker)
    # and also adopts it for the GitHub comment by marker: it must be linked, not copied back.
    hub.sync()
    hub.sync()

    github, jira = comments(hub)
    assert github == ["Only once, please"], "the Jira copy came back to GitHub"
    assert len(jira) == 1, jira
