"""Helpers shared by the Jira sandbox tests: the real ``jira`` client and raw HTTP on the stand-in."""

from __future__ import annotations

from typing import Any

import requests

from hub.testing.sandbox_client import SandboxClient

EMAIL = "bot@acme.example"


def jira_client(base: str, *, token: str = "t", **options: Any) -> Any:
    """The ``jira`` client as pmhub configures it: no hidden retries, so tests see every reply."""
    from jira import JIRA

    return JIRA(server=base, basic_auth=(EMAIL, token), max_retries=0, timeout=10, **options)


def http(sandbox: SandboxClient, method: str, path: str, *, version: str = "2",
         **kwargs: Any) -> requests.Response:
    """One raw request to ``/rest/api/{version}{path}`` with the sandbox's basic auth."""
    url = f"{sandbox.base('jira')}/rest/api/{version}{path}"
    return requests.request(method, url, auth=(EMAIL, "t"), timeout=10, **kwargs)


def new_project(sandbox: SandboxClient, key: str = "PORT", name: str = "Acme Portal") -> dict[str, Any]:
    """A project through the real ``POST /rest/api/2/project``."""
    reply = http(sandbox, "POST", "/project", json={
        "key": key, "name": name, "projectTypeKey": "software",
        "projectTemplateKey": "com.pyxis.greenhopper.jira:gh-simplified-kanban-classic",
    })
    assert reply.status_code == 201, reply.text
    return reply.json()


def new_issue(sandbox: SandboxClient, summary: str, *, project: str = "PORT", version: str = "2",
              **fields: Any) -> dict[str, Any]:
    reply = http(sandbox, "POST", "/issue", version=version, json={"fields": {
        "project": {"key": project}, "summary": summary, "issuetype": {"name": "Task"}, **fields}})
    assert reply.status_code == 201, reply.text
    return reply.json()
