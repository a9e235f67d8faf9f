"""The stand-ins' webhooks (issue 13, item 5): registered through each tool's own registration API
with its real client, each write delivers the tool's real payload, headers and signature to a local
receiver, asynchronously; and the delivery faults of the control API do what they say."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import pytest
import requests

from hub.testing.sandbox_client import SandboxClient
from tests.sandbox.github_support import new_repo
from tests.sandbox.jira_support import jira_client, new_project
from tests.sandbox.trello_http import TrelloHttp
from tests.sandbox.zoho_support import http as zoho_http
from tests.sandbox.zoho_support import insert as zoho_insert
from tests.webhooks.receiver import Received, Receiver

SECRET = "hook-secret"


@pytest.fixture
def receiver() -> Any:
    with Receiver() as hooks:
        yield hooks


def github_signed(delivery: Received, secret: str = SECRET) -> bool:
    expected = "sha256=" + hmac.new(secret.encode(), delivery.body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(delivery.headers.get("X-Hub-Signature-256", ""), expected)


def github_repo_with_hook(sandbox: SandboxClient, receiver: Receiver, content_type: str = "json") -> Any:
    repo = new_repo(sandbox)
    repo.create_hook("web", {"url": f"{receiver.url}/hooks/gh", "content_type": content_type,
                             "secret": SECRET}, ["issues", "issue_comment"], True)
    [ping] = receiver.wait(1)
    assert ping.headers["X-GitHub-Event"] == "ping"
    receiver.clear()
    return repo


def events(received: list[Received]) -> list[tuple[str, str]]:
    return [(r.headers["X-GitHub-Event"], json.loads(r.body)["issue"]["title"]) for r in received]


# -- each stand-in delivers its real, signed payload ---------------------------------------------
def test_github_delivers_issues_and_issue_comment_events_signed_with_the_hook_secret(
        sandbox: SandboxClient, receiver: Receiver) -> None:
    repo = github_repo_with_hook(sandbox, receiver)
    issue = repo.create_issue("Checkout fails")
    issue.create_comment("Seen on staging")
    issue.edit(state="closed", state_reason="completed")

    got = receiver.wait(3)
    assert [(r.headers["X-GitHub-Event"], json.loads(r.body)["action"]) for r in got] == [
        ("issues", "opened"), ("issue_comment", "created"), ("issues", "closed")]
    assert all(github_signed(r) for r in got)
    assert len({r.headers["X-GitHub-Delivery"] for r in got}) == 3
    payload = json.loads(got[1].body)
    assert payload["issue"]["number"] == issue.number
    assert payload["comment"]["body"] == "Seen on staging"
    assert payload["repository"]["full_name"] == repo.full_name
    assert all(r.path == "/hooks/gh" for r in got)
    # GitHub's account of the latest delivery, read back through PyGithub.
    [hook] = list(repo.get_hooks())
    assert hook.last_response.code == 200


def test_github_delivers_labeled_and_assigned_through_their_own_routes(
        sandbox: SandboxClient, receiver: Receiver) -> None:
    repo = github_repo_with_hook(sandbox, receiver)
    repo.create_label("bug", "d73a4a")
    issue = repo.create_issue("Checkout fails")
    issue.add_to_labels("bug")
    issue.add_to_assignees("hubot")
    issue.remove_from_labels("bug")

    got = [json.loads(r.body) for r in receiver.wait(4)]
    assert [b["action"] for b in got] == ["opened", "labeled", "assigned", "unlabeled"]
    assert got[1]["label"]["name"] == "bug" and got[2]["assignee"]["login"] == "hubot"
    assert got[3]["issue"]["labels"] == []


def test_jira_delivers_issue_and_comment_events_signed_with_x_hub_signature(
        sandbox: SandboxClient, receiver: Receiver) -> None:
    new_project(sandbox)
    new_project(sandbox, "OTHER", "Other project")
    client = jira_client(sandbox.base("jira"))
    reply = client._session.post(f"{sandbox.base('jira')}/rest/webhooks/1.0/webhook", data=json.dumps({
        "name": "pmhub", "url": f"{receiver.url}/hooks/jira", "secret": SECRET,
        "events": ["jira:issue_created", "jira:issue_updated", "jira:issue_deleted", "comment_created"],
        "filters": {"issue-related-events-section": "project = PORT"}}))
    assert reply.status_code == 201 and "secret" not in reply.json()

    issue = client.create_issue(project="PORT", summary="Checkout fails", issuetype={"name": "Task"})
    client.create_issue(project="OTHER", summary="not in the filter", issuetype={"name": "Task"})
    client.add_comment(issue, "Seen on staging")
    issue.update(summary="Checkout fails on Safari")
    issue.delete()

    got = receiver.wait(4)
    bodies = [json.loads(r.body) for r in got]
    assert [b["webhookEvent"] for b in bodies] == [
        "jira:issue_created", "comment_created", "jira:issue_updated", "jira:issue_deleted"]
    assert {b["issue"]["key"] for b in bodies} == {issue.key}
    for delivery in got:
        expected = "sha256=" + hmac.new(SECRET.encode(), delivery.body, hashlib.sha256).hexdigest()
        assert delivery.headers["X-Hub-Signature"] == expected
    assert bodies[2]["issue"]["fields"]["summary"] == "Checkout fails on Safari"
    assert len(receiver.quiet(0.3)) == 4  # the other project's issue is filtered out


def test_trello_checks_the_callback_then_delivers_actions_signed_with_the_app_secret(
        sandbox: SandboxClient, receiver: Receiver) -> None:
    requests.post(f"{sandbox.url}/_sandbox/trello/app-secret", json={"secret": SECRET},
                  timeout=5).raise_for_status()
    trello = TrelloHttp(sandbox.base("trello"))
    board = trello.board()
    callback = f"{receiver.url}/hooks/board"
    hook = trello.call("POST", "/webhooks", params={"callbackURL": callback, "idModel": board["id"]})
    assert [r.method for r in receiver.received] == ["HEAD"]  # Trello's check of the callback
    duplicate = trello.raw("POST", "/webhooks", params={"callbackURL": callback, "idModel": board["id"]})
    assert duplicate.status_code == 400

    card = trello.card(trello.lists(board["id"])["To Do"], "Checkout fails")
    trello.call("PUT", f"/cards/{card['id']}", params={"name": "Checkout fails on Safari"})

    got = receiver.wait(2)
    assert [json.loads(r.body)["action"]["type"] for r in got] == ["createCard", "updateCard"]
    for delivery in got:
        digest = hmac.new(SECRET.encode(), delivery.body + callback.encode(), hashlib.sha1).digest()
        assert delivery.headers["X-Trello-Webhook"] == base64.b64encode(digest).decode()
        payload = json.loads(delivery.body)
        assert payload["model"]["id"] == board["id"] and payload["webhook"]["id"] == hook["id"]
    [listed] = trello.get("/tokens/sandbox-token/webhooks")
    assert listed["consecutiveFailures"] == 0


def test_zoho_notifies_the_channel_with_its_token_module_ids_and_operation(
        sandbox: SandboxClient, receiver: Receiver) -> None:
    base = sandbox.base("zoho")
    session = zoho_http(base)
    reply = session.post(f"{base}/crm/v8/actions/watch", timeout=5, json={"watch": [{
        "channel_id": 1000000068001, "events": ["Cases.all"], "token": SECRET,
        "notify_url": f"{receiver.url}/hooks/crm"}]})
    assert reply.status_code == 201, reply.text
    case = zoho_insert(session, base, "Cases", Subject="Checkout fails", Status="New")
    zoho_insert(session, base, "Accounts", Account_Name="Acme")  # a module nobody watches

    [delivery] = receiver.wait(1)
    body = json.loads(delivery.body)
    assert body["token"] == SECRET and body["channel_id"] == "1000000068001"
    assert (body["module"], body["ids"], body["operation"]) == ("Cases", [case], "insert")
    assert len(receiver.quiet(0.3)) == 1


# -- asynchronous, off unless registered, loopback only -------------------------------------------
def test_a_slow_receiver_does_not_delay_the_write(sandbox: SandboxClient) -> None:
    with Receiver(answer_after=1.5) as slow:
        repo = new_repo(sandbox)
        repo.create_hook("web", {"url": f"{slow.url}/hooks/gh", "content_type": "json"}, ["issues"], True)
        started = time.monotonic()
        repo.create_issue("Checkout fails")
        assert time.monotonic() - started < 1.0
        assert len(slow.wait(2, timeout=6)) == 2  # the ping, then the issue


def test_no_hook_no_delivery_thread(sandbox: SandboxClient) -> None:
    from pmhub_plugins.github.sandbox import GitHubSandbox

    from hub.sandbox.server import SandboxApp, SandboxServer

    app = SandboxApp([GitHubSandbox()])
    with SandboxServer(app) as server:
        new_repo(SandboxClient(server.url)).create_issue("no hook here")
        assert app.deliveries._thread is None


def test_deliveries_go_only_to_loopback_urls(sandbox: SandboxClient) -> None:
    elsewhere = "https://hooks.example.com/pmhub"
    repo = new_repo(sandbox)
    repo.create_hook("web", {"url": elsewhere, "content_type": "json"}, ["issues"], True)
    repo.create_issue("Checkout fails")

    def attempts() -> list[dict[str, Any]]:
        return [d for d in sandbox.webhook_deliveries("github") if d["url"] == elsewhere]

    deadline = time.monotonic() + 5
    while len(attempts()) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    log = attempts()
    assert [d["event"] for d in log] == ["ping", "issues.opened"]
    assert all(d["status"] is None and d["reason"].startswith("skipped") for d in log)


# -- faults ------------------------------------------------------------------------------------
def test_drop_fault_loses_the_next_deliveries(sandbox: SandboxClient, receiver: Receiver) -> None:
    repo = github_repo_with_hook(sandbox, receiver)
    sandbox.webhook_fault("github", "drop", times=1)
    repo.create_issue("lost")
    repo.create_issue("delivered")
    assert events(receiver.wait(1)) == [("issues", "delivered")]
    assert len(receiver.quiet(0.3)) == 1
    assert [d.get("fault") for d in sandbox.webhook_deliveries("github")
            if d["event"] == "issues.opened"] == ["drop", None]


def test_duplicate_fault_sends_the_same_delivery_twice(sandbox: SandboxClient, receiver: Receiver) -> None:
    repo = github_repo_with_hook(sandbox, receiver)
    sandbox.webhook_fault("github", "duplicate")
    repo.create_issue("twice")
    first, second = receiver.wait(2)
    assert first.body == second.body
    assert first.headers["X-GitHub-Delivery"] == second.headers["X-GitHub-Delivery"]
    assert github_signed(first) and github_signed(second)


def test_delay_fault_lets_later_deliveries_overtake(sandbox: SandboxClient, receiver: Receiver) -> None:
    repo = github_repo_with_hook(sandbox, receiver)
    sandbox.webhook_fault("github", "delay", delay=0.6)
    started = time.monotonic()
    repo.create_issue("late")
    repo.create_issue("on time")
    assert events(receiver.wait(1)) == [("issues", "on time")]
    assert events(receiver.wait(2)) == [("issues", "on time"), ("issues", "late")]
    assert time.monotonic() - started >= 0.6


def test_reorder_fault_swaps_a_delivery_with_the_next(sandbox: SandboxClient, receiver: Receiver) -> None:
    repo = github_repo_with_hook(sandbox, receiver)
    sandbox.webhook_fault("github", "reorder")
    for title in ("first", "second", "third"):
        repo.create_issue(title)
    assert [title for _, title in events(receiver.wait(3))] == ["second", "first", "third"]


def test_bad_signature_fault_sends_a_forged_signature_in_every_tool(
        sandbox: SandboxClient, receiver: Receiver) -> None:
    repo = github_repo_with_hook(sandbox, receiver)
    sandbox.webhook_fault("github", "bad_signature")
    repo.create_issue("forged")
    repo.create_issue("genuine")
    forged, genuine = receiver.wait(2)
    assert not github_signed(forged) and github_signed(genuine)

    receiver.clear()
    base = sandbox.base("zoho")
    session = zoho_http(base)
    session.post(f"{base}/crm/v8/actions/watch", timeout=5, json={"watch": [{
        "channel_id": 42, "events": ["Cases.create"], "token": SECRET,
        "notify_url": f"{receiver.url}/hooks/crm"}]}).raise_for_status()
    sandbox.webhook_fault("zoho", "bad_signature")
    zoho_insert(session, base, "Cases", Subject="forged", Status="New")
    [delivery] = receiver.wait(1)
    assert json.loads(delivery.body)["token"] != SECRET


def test_fault_needs_a_known_service_and_mode(sandbox: SandboxClient) -> None:
    for spec in ({"service": "nope", "mode": "drop"}, {"service": "github", "mode": "explode"},
                 {"service": "github", "mode": "drop", "times": 0}):
        reply = requests.post(f"{sandbox.url}/_sandbox/webhook-faults", json=spec, timeout=5)
        assert reply.status_code == 400, spec
    sandbox.webhook_fault("github", "drop", times=2)
    listed = requests.get(f"{sandbox.url}/_sandbox/webhook-faults", timeout=5).json()["faults"]
    assert listed == [{"service": "github", "mode": "drop", "times": 2, "delay": 1.0, "hits": 0}]
    sandbox.reset()
    assert requests.get(f"{sandbox.url}/_sandbox/webhook-faults", timeout=5).json()["faults"] == []
