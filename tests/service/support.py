"""A GitHub repository and a Jira project in the sandbox, joined by a flow, with ``pmhub serve``
running in a real process on a free port, and signed deliveries built the way the tools build them."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import requests
from prometheus_client.parser import text_string_to_metric_families

from hub.testing.sandbox_client import SandboxClient
from tests.conftest import write_config
from tests.sandbox.github_support import github_client
from tests.sandbox.jira_support import EMAIL, jira_client, new_project

REPO = "acme/portal"
PROJECT = "PORT"
GITHUB_SECRET = "gh-hook-secret-8c1f"
JIRA_SECRET = "jira-hook-secret-51aa"
SERVER_TOKEN = "status-token-0b7e"
#: Once a year: the schedule never polls during a test, so only webhooks can move a change.
FAR_AWAY = "0 0 1 1 *"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def github_signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def trello_signature(secret: str, body: bytes, url: str) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body + url.encode(), hashlib.sha1).digest()).decode()


class ServedHub:
    """The sandbox's GitHub and Jira joined by flow ``portal``, and ``pmhub serve`` over them."""

    def __init__(self, tmp_path: Path, sandbox: SandboxClient, *, server: dict[str, Any] | None = None,
                 schedule: str = FAR_AWAY, flow: dict[str, Any] | None = None) -> None:
        self.tmp_path, self.sandbox = tmp_path, sandbox
        self.gh = github_client(sandbox.base("github"), per_page=100)
        self.repo = self.gh.get_organization("acme").create_repo("portal")
        new_project(sandbox, PROJECT, "Acme Portal")
        self.jira = jira_client(sandbox.base("jira"))
        (tmp_path / "gh-hook.secret").write_text(GITHUB_SECRET)
        os.environ["PMHUB_TEST_JIRA_HOOK"] = JIRA_SECRET
        os.environ["PMHUB_TEST_SERVER_TOKEN"] = SERVER_TOKEN
        self.port = free_port()
        self.config = write_config(
            tmp_path / "pmhub.toml", state_url=f"sqlite:///{tmp_path / 'state.db'}",
            connections={
                "gh": {"plugin": "github", "base_url": sandbox.base("github"), "token": "t",
                       "seconds_between_writes": 0, "timeout": 10,
                       "webhook_secret": {"file": "gh-hook.secret"}},
                "jira": {"plugin": "jira", "base_url": sandbox.base("jira"), "email": EMAIL, "token": "t",
                         "timeout": 10, "webhook_secret": {"env": "PMHUB_TEST_JIRA_HOOK"}},
            },
            flows=[{"name": "portal", "a": {"connection": "gh", "scope": REPO},
                    "b": {"connection": "jira", "scope": PROJECT}, "mapping": "github-jira",
                    "records": ["issue", "comment"], "schedule": schedule, **(flow or {})}])
        tables = {"port": self.port, "debounce_seconds": 0.3, **(server or {})}
        with self.config.open("a", encoding="utf-8") as out:
            import tomli_w

            out.write("\n" + tomli_w.dumps({"server": tables}))
        self.process: subprocess.Popen[str] | None = None
        self.url = f"http://127.0.0.1:{self.port}"

    # -- the server process ----------------------------------------------------------------
    def start(self, *args: str) -> ServedHub:
        self.log = (self.tmp_path / f"serve-{uuid.uuid4().hex[:6]}.log").open("w+", encoding="utf-8")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "hub", "serve", "--config", str(self.config), *args],
            stdout=self.log, stderr=subprocess.STDOUT, text=True, env=os.environ.copy())
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"pmhub serve exited {self.process.returncode}:\n{self.output()}")
            try:
                if requests.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return self
            except requests.ConnectionError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"pmhub serve did not answer:\n{self.output()}")

    def stop(self, timeout: float = 60) -> int:
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout)

    def output(self) -> str:
        self.log.flush()
        return Path(self.log.name).read_text(encoding="utf-8")

    def close(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)

    # -- hooks registered through the tools' own APIs (the stand-ins then deliver every write) --
    def register_github_hook(self, secret: str = GITHUB_SECRET) -> None:
        config = {"url": f"{self.url}/hooks/gh", "content_type": "json", "secret": secret}
        self.repo.create_hook("web", config, ["issues", "issue_comment"], True)

    def register_jira_hook(self, secret: str = JIRA_SECRET) -> None:
        reply = requests.post(f"{self.sandbox.base('jira')}/rest/webhooks/1.0/webhook", auth=(EMAIL, "t"),
                              timeout=10, json={
                                  "name": "pmhub", "url": f"{self.url}/hooks/jira", "secret": secret,
                                  "events": ["jira:issue_created", "jira:issue_updated", "jira:issue_deleted",
                                             "comment_created", "comment_updated", "comment_deleted"],
                                  "filters": {"issue-related-events-section": f"project = {PROJECT}"}})
        assert reply.status_code in (200, 201), reply.text

    def sandbox_deliveries(self) -> list[dict[str, Any]]:
        reply = requests.get(f"{self.sandbox.url}/_sandbox/webhook-deliveries", timeout=10)
        reply.raise_for_status()
        return list(reply.json().get("deliveries", []))

    # -- talking to it ---------------------------------------------------------------------
    def deliver_github(self, event: str, payload: dict[str, Any], *, delivery: str | None = None,
                       signature: str | None = "sign") -> requests.Response:
        body = json.dumps(payload).encode()
        headers = {"Content-Type": "application/json", "X-GitHub-Event": event,
                   "X-GitHub-Delivery": delivery or str(uuid.uuid4()), "User-Agent": "GitHub-Hookshot/test"}
        if signature == "sign":
            headers["X-Hub-Signature-256"] = github_signature(GITHUB_SECRET, body)
        elif signature is not None:
            headers["X-Hub-Signature-256"] = signature
        return requests.post(f"{self.url}/hooks/gh", data=body, headers=headers, timeout=10)

    def deliver_jira(self, payload: dict[str, Any], *, identifier: str | None = None) -> requests.Response:
        body = json.dumps(payload).encode()
        headers = {"Content-Type": "application/json", "X-Hub-Signature": github_signature(JIRA_SECRET, body),
                   "X-Atlassian-Webhook-Identifier": identifier or uuid.uuid4().hex}
        return requests.post(f"{self.url}/hooks/jira", data=body, headers=headers, timeout=10)

    def issue_event(self, number: int, action: str = "edited") -> dict[str, Any]:
        """GitHub's ``issues`` payload for issue ``number`` as the repository holds it now."""
        issue = self.repo.get_issue(number).raw_data
        return {"action": action, "issue": issue, "repository": self.repo.raw_data,
                "sender": {"login": "octocat", "id": 1, "type": "User"}}

    def metrics(self, token: str | None = None) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        """Every sample of /metrics: (name, sorted labels) -> value."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        reply = requests.get(f"{self.url}/metrics", headers=headers, timeout=10)
        assert reply.status_code == 200, reply.text
        return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
                for family in text_string_to_metric_families(reply.text) for sample in family.samples}

    def webhook_runs(self) -> int:
        return int(sum(v for (name, labels), v in self.metrics().items()
                       if name == "pmhub_runs_total" and ("trigger", "webhook") in labels))

    def jira_issues(self) -> list[Any]:
        return list(self.jira.search_issues(f"project = {PROJECT} ORDER BY key ASC", maxResults=False))

    def jira_writes(self) -> list[dict[str, Any]]:
        return [r for r in self.sandbox.requests("jira") if r["method"] in ("POST", "PUT", "DELETE")]


def wait_for(check: Any, timeout: float = 20, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)
