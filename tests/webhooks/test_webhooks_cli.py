"""``pmhub webhooks install|list|remove`` (issue 13, item 4), through the CLI against the sandbox
with each tool's real client, read back through each tool's own API: one hook per scope however
often install runs, remove takes only pmhub's, list shows the latest delivery, and Zoho's channels
are renewed before they expire."""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path
from typing import Any

import pytest
import requests
from click.testing import CliRunner, Result

from hub.cli import main
from hub.testing.sandbox_client import SandboxClient
from tests.conftest import write_config
from tests.sandbox.github_support import github_client
from tests.sandbox.jira_support import EMAIL, jira_client
from tests.sandbox.trello_http import TrelloHttp
from tests.sandbox.zoho_support import REFRESH_TOKEN
from tests.sandbox.zoho_support import http as zoho_http
from tests.sandbox.zoho_support import insert as zoho_insert
from tests.webhooks.receiver import Receiver

SECRET = "hook-secret"
REPO, PROJECT = "acme/portal", "PORT"


@pytest.fixture
def demo(sandbox: SandboxClient, monkeypatch: pytest.MonkeyPatch) -> SandboxClient:
    sandbox.reset("demo")
    monkeypatch.setenv("PMHUB_TEST_WEBHOOK_SECRET", SECRET)
    return sandbox


@pytest.fixture
def receiver() -> Any:
    with Receiver() as hooks:  # Trello's registration HEADs the callback: pmhub serve's stand-in
        yield hooks


def board_id(sandbox: SandboxClient) -> str:
    [board] = TrelloHttp(sandbox.base("trello")).get("/members/me/boards")
    return str(board["id"])


def config(tmp_path: Path, sandbox: SandboxClient, *, secrets: bool = True,
           server: dict[str, Any] | None = None) -> Path:
    secret = {"webhook_secret": {"env": "PMHUB_TEST_WEBHOOK_SECRET"}} if secrets else {}
    connections = {
        "gh": {"plugin": "github", "base_url": sandbox.base("github"), "token": "t", "timeout": 5, **secret},
        "jira": {"plugin": "jira", "base_url": sandbox.base("jira"), "email": EMAIL, "token": "t",
                 "timeout": 5, **secret},
        "board": {"plugin": "trello", "base_url": sandbox.base("trello"), "key": "sandbox-key",
                  "token": "sandbox-token", "timeout": 5, **secret},
        "crm": {"plugin": "zoho_crm", "base_url": sandbox.base("zoho"), "client_id": "1000.CLIENT",
                "client_secret": "s", "refresh_token": REFRESH_TOKEN, "timeout": 5,
                "data_dir": str(tmp_path / "zoho"), **secret},
    }
    flows = [
        {"name": "portal", "a": {"connection": "gh", "scope": REPO},
         "b": {"connection": "jira", "scope": PROJECT}, "mapping": "github-jira"},
        {"name": "customers", "a": {"connection": "board", "scope": board_id(sandbox)},
         "b": {"connection": "crm", "scope": "Cases"}, "records": ["issue"]},
    ]
    path = write_config(tmp_path / "pmhub.toml", connections=connections, flows=flows,
                        state_url=f"sqlite:///{tmp_path / 'state.db'}")
    if server is not None:
        path.write_text(path.read_text() + "\n[server]\n" + "".join(
            f"{key} = {json.dumps(value)}\n" for key, value in server.items()))
    return path


def pmhub(path: Path, *args: str) -> Result:
    result = CliRunner().invoke(main, ["webhooks", *args, "-c", str(path)])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    assert SECRET not in result.output
    return result


# -- reading each tool's hooks back through its own API ---------------------------------------
def github_hooks(sandbox: SandboxClient) -> list[Any]:
    return list(github_client(sandbox.base("github")).get_repo(REPO).get_hooks())


def jira_hooks(sandbox: SandboxClient) -> list[dict[str, Any]]:
    client = jira_client(sandbox.base("jira"))
    return list(client._session.get(f"{sandbox.base('jira')}/rest/webhooks/1.0/webhook").json())


def trello_hooks(sandbox: SandboxClient) -> list[dict[str, Any]]:
    return list(TrelloHttp(sandbox.base("trello")).get("/tokens/sandbox-token/webhooks"))


def zoho_channels(sandbox: SandboxClient) -> list[dict[str, Any]]:
    reply = zoho_http(sandbox.base("zoho")).get(f"{sandbox.base('zoho')}/crm/v8/actions/watch", timeout=5)
    return [] if reply.status_code == 204 else list(reply.json()["watch"])


def test_install_twice_registers_one_hook_per_scope_in_each_tool(
        tmp_path: Path, demo: SandboxClient, receiver: Receiver) -> None:
    path = config(tmp_path, demo)
    first = pmhub(path, "install", "--public-url", receiver.url)
    assert first.exit_code == 0, first.output
    second = pmhub(path, "install", "--public-url", receiver.url + "/")
    assert second.exit_code == 0, second.output
    assert [line.split("  ")[2] for line in first.output.splitlines()] == ["created"] * 4
    assert [line.split("  ")[2] for line in second.output.splitlines()] == ["updated"] * 4

    [hook] = github_hooks(demo)
    assert hook.config["url"] == f"{receiver.url}/hooks/gh" and hook.config["content_type"] == "json"
    assert set(hook.events) == {"issues", "issue_comment", "sub_issues"} and hook.active
    [jira] = jira_hooks(demo)
    assert jira["url"] == f"{receiver.url}/hooks/jira"
    assert jira["filters"] == {"issue-related-events-section": 'project in ("PORT")'}
    assert "jira:issue_deleted" in jira["events"]
    [trello] = trello_hooks(demo)
    assert (trello["callbackURL"], trello["idModel"]) == (f"{receiver.url}/hooks/board", board_id(demo))
    [channel] = zoho_channels(demo)
    assert (channel["notify_url"], channel["events"], channel["token"]) == (
        f"{receiver.url}/hooks/crm", ["Cases.all"], SECRET)
    expiry = dt.datetime.fromisoformat(channel["channel_expiry"])
    assert dt.timedelta(days=6) < expiry - dt.datetime.now(dt.UTC) <= dt.timedelta(days=7)


def test_installed_hooks_deliver_signed_with_the_connections_webhook_secret(
        tmp_path: Path, demo: SandboxClient, receiver: Receiver) -> None:
    import hashlib
    import hmac

    path = config(tmp_path, demo)
    assert pmhub(path, "install", "--public-url", receiver.url).exit_code == 0
    receiver.clear()
    github_client(demo.base("github")).get_repo(REPO).create_issue("Checkout fails")
    [delivery] = [r for r in receiver.wait(1) if r.path == "/hooks/gh"]
    expected = "sha256=" + hmac.new(SECRET.encode(), delivery.body, hashlib.sha256).hexdigest()
    assert delivery.headers["X-Hub-Signature-256"] == expected


def test_list_shows_what_is_registered_and_its_latest_delivery(
        tmp_path: Path, demo: SandboxClient, receiver: Receiver) -> None:
    path = config(tmp_path, demo, server={"public_url": receiver.url})
    assert pmhub(path, "install").exit_code == 0  # the URL from [server] public_url
    github_client(demo.base("github")).get_repo(REPO).create_issue("Checkout fails")
    receiver.wait(2)
    time.sleep(0.2)  # the delivery's result reaches the hook after the receiver answered

    result = pmhub(path, "list")
    assert result.exit_code == 0, result.output
    lines = {line.split("  ")[0]: line for line in result.output.splitlines()}
    assert set(lines) == {"gh", "jira", "board", "crm"}
    assert f"{receiver.url}/hooks/gh" in lines["gh"] and "last delivery: 200 OK" in lines["gh"]
    assert "last delivery: no failures" in lines["board"]
    assert 'project in ("PORT")' in lines["jira"]
    assert "expires " in lines["crm"]


def test_remove_removes_pmhubs_hooks_and_leaves_others(
        tmp_path: Path, demo: SandboxClient, receiver: Receiver) -> None:
    path = config(tmp_path, demo)
    foreign = github_client(demo.base("github")).get_repo(REPO).create_hook(
        "web", {"url": "https://ci.example.com/hook", "content_type": "json"}, ["push"], True)
    assert pmhub(path, "install", "--public-url", receiver.url).exit_code == 0

    result = pmhub(path, "remove", "--public-url", receiver.url)
    assert result.exit_code == 0, result.output
    assert [line.split("  ")[2] for line in result.output.splitlines()] == ["removed"] * 4
    assert [hook.id for hook in github_hooks(demo)] == [foreign.id]
    assert jira_hooks(demo) == [] and trello_hooks(demo) == [] and zoho_channels(demo) == []
    again = pmhub(path, "list", "--public-url", receiver.url)
    assert again.exit_code == 0
    assert all("no hooks" in line for line in again.output.splitlines())


def test_zoho_channels_are_renewed_before_they_expire(
        tmp_path: Path, demo: SandboxClient, receiver: Receiver) -> None:
    from hub.engine.runner import open_hub
    from hub.webhook_admin import renew_expiring

    # Channels that live two seconds instead of Zoho's week.
    requests.post(f"{demo.url}/_sandbox/zoho/watch-lifetime", json={"max_seconds": 2},
                  timeout=5).raise_for_status()
    path = config(tmp_path, demo)
    assert pmhub(path, "install", "--public-url", receiver.url).exit_code == 0
    [channel] = zoho_channels(demo)
    first_expiry = dt.datetime.fromisoformat(channel["channel_expiry"])

    with open_hub(path) as hub:
        demo.clear_requests()
        assert renew_expiring(hub, within=dt.timedelta(seconds=0.5)) == []  # not yet: no call
        assert [r for r in demo.requests("zoho") if "actions/watch" in r["path"]] == []
        time.sleep(1.6)  # within half a second of the expiry: the next tick renews
        [outcome] = renew_expiring(hub, within=dt.timedelta(seconds=0.5))
        assert outcome.connection == "crm" and [r.action for r in outcome.registrations] == ["renewed"]
    [channel] = zoho_channels(demo)
    assert dt.datetime.fromisoformat(channel["channel_expiry"]) > first_expiry

    time.sleep(max(0.0, (first_expiry - dt.datetime.now(dt.UTC)).total_seconds()) + 0.2)
    receiver.clear()  # the first expiry has passed; the renewed channel still delivers
    zoho_insert(zoho_http(demo.base("zoho")), demo.base("zoho"), "Cases", Subject="after renewal",
                Status="New")
    [delivery] = [r for r in receiver.wait(1) if r.path == "/hooks/crm"]
    assert json.loads(delivery.body)["token"] == SECRET


def test_install_needs_a_public_url_and_each_connections_webhook_secret(
        tmp_path: Path, demo: SandboxClient, receiver: Receiver) -> None:
    no_url = pmhub(config(tmp_path, demo), "install")
    assert no_url.exit_code == 2 and "--public-url" in no_url.output
    no_secret = pmhub(config(tmp_path, demo, secrets=False), "install", "--public-url", receiver.url)
    assert no_secret.exit_code == 2
    assert "connections.gh.webhook_secret" in no_secret.output
    assert github_hooks(demo) == []


def test_a_tool_refusing_fails_its_connection_only(tmp_path: Path, demo: SandboxClient) -> None:
    # Nothing listens at this URL, so Trello's registration check (HEAD callbackURL) fails; the
    # other tools do not call back at registration.
    with Receiver() as gone:
        closed = gone.url
    result = pmhub(config(tmp_path, demo), "install", "--public-url", closed)
    assert result.exit_code == 1
    [refusal] = [line for line in result.output.splitlines() if line.startswith("board:")]
    assert "did not return 200" in refusal
    assert {line.split("  ")[0] for line in result.output.splitlines() if "  created  " in line} == {
        "gh", "jira", "crm"}
    assert trello_hooks(demo) == [] and len(github_hooks(demo)) == 1


def test_zoho_install_keeps_only_the_channel_id_the_receiver_accepts(
        tmp_path: Path, demo: SandboxClient, receiver: Receiver) -> None:
    from pmhub_plugins.zoho_crm.webhook_admin import channel_id

    base = demo.base("zoho")
    zoho_http(base).post(f"{base}/crm/v8/actions/watch", timeout=5, json={"watch": [{
        "channel_id": 7, "events": ["Cases.all"], "token": "old",
        "notify_url": f"{receiver.url}/hooks/crm"}]}).raise_for_status()
    assert pmhub(config(tmp_path, demo), "install", "--public-url", receiver.url).exit_code == 0
    [channel] = zoho_channels(demo)
    assert channel["channel_id"] == str(channel_id("crm", "Cases")) and channel["token"] == SECRET
