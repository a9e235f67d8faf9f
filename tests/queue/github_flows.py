"""Flows that share one GitHub connection in the sandbox: a repository and a Jira project with
issues each, joined by ``github-jira``, for the tests of what every worker keeps together."""

from __future__ import annotations

from typing import Any

import requests

from hub.testing.sandbox_client import SandboxClient
from tests.sandbox.github_support import github_client
from tests.sandbox.jira_support import EMAIL, jira_client

TOKEN = "sandbox-token"


def github_jira_flows(sandbox: SandboxClient, flows: int, issues: int) -> list[dict[str, Any]]:
    """``flows`` flows ``flow0``..., each an empty repository ``acme/rN`` and a Jira project ``PN``
    holding ``issues`` issues (so each flow's writes go to GitHub)."""
    gh = github_client(sandbox.base("github"), token=TOKEN, per_page=100)
    jira = jira_client(sandbox.base("jira"), token=TOKEN)
    specs = []
    for index in range(flows):
        gh.get_organization("acme").create_repo(f"r{index}")
        key = f"P{index}"
        requests.post(f"{sandbox.base('jira')}/rest/api/2/project", auth=(EMAIL, TOKEN), timeout=10,
                      json={"key": key, "name": f"Project {index}", "projectTypeKey": "software"},
                      ).raise_for_status()
        for number in range(issues):
            jira.create_issue(project=key, summary=f"{key} issue {number}", issuetype={"name": "Task"})
        specs.append({"name": f"flow{index}", "a": {"connection": "gh", "scope": f"acme/r{index}"},
                      "b": {"connection": "jira", "scope": key}, "mapping": "github-jira",
                      "records": ["issue"], "schedule": "0 0 1 1 *"})
    return specs


def connections(sandbox: SandboxClient, **github: Any) -> dict[str, dict[str, Any]]:
    """``gh`` (with ``github``'s extra settings) and ``jira``."""
    return {
        "gh": {"plugin": "github", "base_url": sandbox.base("github"), "token": TOKEN, "timeout": 10,
               **github},
        "jira": {"plugin": "jira", "base_url": sandbox.base("jira"), "email": EMAIL, "token": TOKEN,
                 "timeout": 10},
    }


def issues_on_github(sandbox: SandboxClient, flows: int) -> list[int]:
    """How many issues each flow's repository holds now."""
    gh = github_client(sandbox.base("github"), token=TOKEN, per_page=100)
    return [gh.get_repo(f"acme/r{i}").get_issues(state="all").totalCount for i in range(flows)]
