"""``pmhub serve`` as an operator runs it: off loopback only with a bearer token, no secret on the
page, in the metrics or in the log, and SIGTERM lets the sync in progress finish, then exit 0."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from hub.testing.sandbox_client import SandboxClient
from tests.service.support import (
    GITHUB_SECRET,
    JIRA_SECRET,
    SERVER_TOKEN,
    ServedHub,
    github_signature,
    wait_for,
)

pytestmark = pytest.mark.slow


@pytest.fixture
def hub(tmp_path: Path, sandbox: SandboxClient) -> Iterator[ServedHub]:
    made = ServedHub(tmp_path, sandbox, server={"token": {"env": "PMHUB_TEST_SERVER_TOKEN"}})
    yield made
    made.close()


def test_bound_beyond_loopback_without_a_token_it_refuses_to_start(tmp_path: Path,
                                                                   sandbox: SandboxClient) -> None:
    hub = ServedHub(tmp_path, sandbox)
    command = [sys.executable, "-m", "hub", "serve", "--config", str(hub.config), "--host", "0.0.0.0"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stderr
    assert "server.token" in done.stderr and "0.0.0.0" in done.stderr


def test_bound_to_every_address_the_page_and_metrics_need_the_bearer_token(hub: ServedHub) -> None:
    hub.start("--host", "0.0.0.0")  # reached here over loopback, but bound beyond it
    for path in ("/", "/metrics"):
        assert requests.get(hub.url + path, timeout=5).status_code == 401
        wrong = {"Authorization": "Bearer not-the-token"}
        assert requests.get(hub.url + path, headers=wrong, timeout=5).status_code == 401
        right = {"Authorization": f"Bearer {SERVER_TOKEN}"}
        assert requests.get(hub.url + path, headers=right, timeout=5).status_code == 200
    # A browser sends the token as Basic auth's password, after the 401 asked for it.
    asked = requests.get(hub.url + "/", timeout=5).headers["WWW-Authenticate"]
    assert asked.startswith("Basic ")
    assert requests.get(hub.url + "/", auth=("anyone", SERVER_TOKEN), timeout=5).status_code == 200
    assert requests.get(hub.url + "/", auth=("anyone", "guess"), timeout=5).status_code == 401
    assert requests.get(hub.url + "/healthz", timeout=5).status_code == 200
    assert requests.get(hub.url + "/readyz", timeout=5).status_code == 200
    # Webhooks prove themselves with their signature, not the token.
    assert hub.deliver_github("ping", {"zen": "hello"}).status_code == 200


def test_no_secret_or_token_on_the_page_in_metrics_or_in_the_log(hub: ServedHub) -> None:
    hub.start()
    hub.repo.create_issue("Invoices are off by one cent")
    hub.deliver_github("issues", hub.issue_event(1, "opened"))
    hub.deliver_github("issues", hub.issue_event(1), signature=github_signature("guess", b"{}"))
    hub.deliver_jira({"webhookEvent": "jira:issue_updated", "issue": {"id": "1", "key": "PORT-1"}})
    wait_for(hub.jira_issues, what="the Jira twin")
    bearer = {"Authorization": f"Bearer {SERVER_TOKEN}"}
    page = requests.get(hub.url + "/", headers=bearer, timeout=5).text
    metrics = requests.get(hub.url + "/metrics", headers=bearer, timeout=5).text
    assert hub.stop() == 0
    for text in (page, metrics, hub.output()):
        for secret in (GITHUB_SECRET, JIRA_SECRET, SERVER_TOKEN):
            assert secret not in text


def test_sigterm_during_a_sync_lets_it_finish_then_exits_0(hub: ServedHub) -> None:
    hub.start()
    hub.repo.create_issue("Slow create on Jira")
    hub.sandbox.fault("jira", method="POST", path=r"/rest/api/2/issue$", delay=3.0)
    assert hub.deliver_github("issues", hub.issue_event(1, "opened")).status_code == 202
    bearer = {"Authorization": f"Bearer {SERVER_TOKEN}"}
    wait_for(lambda: "syncing: flow portal" in requests.get(hub.url + "/", headers=bearer, timeout=5).text,
             what="the sync to start")
    time.sleep(0.5)  # inside the slow create now
    assert hub.jira_issues() == []

    assert hub.stop(timeout=60) == 0

    assert [issue.fields.summary for issue in hub.jira_issues()] == ["Slow create on Jira"]
    log = hub.output()
    assert "flow portal (webhook): ok" in log and "pmhub serve stopped" in log
    assert log.index("stopping") < log.index("flow portal (webhook): ok"), "the sync ended after SIGTERM"


def test_a_port_in_use_is_a_usage_error_before_anything_runs(tmp_path: Path, sandbox: SandboxClient) -> None:
    import socket

    hub = ServedHub(tmp_path, sandbox)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", hub.port))
        taken.listen()
        command = [sys.executable, "-m", "hub", "serve", "--config", str(hub.config)]
        done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stderr
    assert f"cannot listen on 127.0.0.1:{hub.port}" in done.stderr and "Traceback" not in done.stderr
