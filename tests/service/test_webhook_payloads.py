"""Each tool's receiving side: a delivery is verified as the tool signs it (constant-time compare,
the raw body), and a verified one names the records pmhub syncs, through the connector's methods."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import pytest

from hub.plugins import build_plugin_manager

SECRET = "s3cret-for-tests"


def connector(plugin: str, name: str = "conn", **settings: Any) -> Any:
    cls = build_plugin_manager().connector(plugin)
    required = {"github": {"token": "t"}, "jira": {"base_url": "https://x.atlassian.net", "email": "a@b.c",
                                                    "token": "t"},
                "trello": {"key": "k", "token": "t"}, "zoho_crm": {"client_id": "c", "client_secret": "s",
                                                                  "refresh_token": "r"}}[plugin]
    values = {"plugin": plugin, **required, "webhook_secret": SECRET, **settings}
    return cls(name, cls.settings_model.model_validate(values))


def sha256_sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


# -- GitHub ----------------------------------------------------------------------------------
ISSUE_EVENT = {"action": "edited", "repository": {"full_name": "acme/portal"},
               "issue": {"number": 7, "updated_at": "2026-12-01T09:00:05Z", "title": "x"}}


def test_github_checks_the_sha256_signature_of_the_raw_body() -> None:
    gh = connector("github")
    body = json.dumps(ISSUE_EVENT).encode()
    assert gh.verify_webhook({"x-hub-signature-256": sha256_sign(SECRET, body)}, body, "")
    assert not gh.verify_webhook({"x-hub-signature-256": sha256_sign("other", body)}, body, "")
    assert not gh.verify_webhook({"x-hub-signature-256": sha256_sign(SECRET, body)}, body + b" ", "")
    assert not gh.verify_webhook({}, body, "")


def test_a_connection_without_webhook_secret_accepts_no_delivery() -> None:
    gh = connector("github", webhook_secret=None)
    body = b"{}"
    assert not gh.verify_webhook({"x-hub-signature-256": sha256_sign("", body)}, body, "")


def test_github_issue_and_comment_events_name_records_pull_requests_none() -> None:
    gh = connector("github")
    [event] = gh.webhook_events({"x-github-event": "issues"}, json.dumps(ISSUE_EVENT).encode())
    assert (event.record_type, event.external_id, event.updated.isoformat()) == \
        ("issue", "7", "2026-12-01T09:00:05+00:00")
    assert gh.webhook_in_scope("Acme/Portal", event) and not gh.webhook_in_scope("acme/other", event)
    comment = {"action": "created", "repository": {"full_name": "acme/portal"}, "issue": {"number": 7},
               "comment": {"id": 991, "updated_at": "2026-12-01T09:00:06Z"}}
    [event] = gh.webhook_events({"x-github-event": "issue_comment"}, json.dumps(comment).encode())
    assert (event.record_type, event.external_id) == ("comment", "991")
    pull = {**ISSUE_EVENT, "issue": {**ISSUE_EVENT["issue"], "pull_request": {"url": "..."}}}
    assert gh.webhook_events({"x-github-event": "issues"}, json.dumps(pull).encode()) == []
    assert gh.webhook_events({"x-github-event": "ping"}, b'{"zen": "x"}') == []
    assert gh.webhook_delivery_id({"x-github-delivery": "abc"}, b"{}") == "delivery:abc"


# -- Jira ------------------------------------------------------------------------------------
def test_jira_checks_x_hub_signature_and_names_issues_and_comments_by_id() -> None:
    jira = connector("jira")
    payload = {"timestamp": 1764579605000, "webhookEvent": "jira:issue_deleted",
               "issue": {"id": "10042", "key": "PORT-7",
                         "fields": {"project": {"key": "PORT", "id": "10000"},
                                    "updated": "2026-12-01T09:00:05.123+0000"}}}
    body = json.dumps(payload).encode()
    assert jira.verify_webhook({"x-hub-signature": sha256_sign(SECRET, body)}, body, "")
    assert not jira.verify_webhook({"x-hub-signature": sha256_sign(SECRET, b"{}")}, body, "")
    [event] = jira.webhook_events({}, body)
    assert (event.record_type, event.external_id) == ("issue", "10042")
    assert event.scopes == {"PORT", "10000"} and event.updated.microsecond == 123000
    comment = {"webhookEvent": "comment_updated", "issue": {"id": "10042", "key": "PORT-7", "fields": {}},
               "comment": {"id": "555", "updated": "2026-12-01T09:00:06.000+0000"}}
    [event] = jira.webhook_events({}, json.dumps(comment).encode())
    assert (event.record_type, event.external_id, event.scopes) == ("comment", "10042/555", {"PORT"})
    assert jira.webhook_delivery_id({"x-atlassian-webhook-identifier": "77"}, body) == "webhook:77"


# -- Trello ----------------------------------------------------------------------------------
def trello_sign(secret: str, body: bytes, url: str) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body + url.encode(), hashlib.sha1).digest()).decode()


def test_trello_signs_the_body_followed_by_the_callback_url() -> None:
    trello = connector("trello")
    body = json.dumps({"action": {"id": "a1", "type": "updateCard"}}).encode()
    url = "https://hub.example.com/hooks/board"
    assert trello.verify_webhook({"x-trello-webhook": trello_sign(SECRET, body, url)}, body, url)
    assert not trello.verify_webhook({"x-trello-webhook": trello_sign(SECRET, body, url)}, body,
                                     "https://elsewhere.example.com/hooks/board")
    assert not trello.verify_webhook({"x-trello-webhook": trello_sign(SECRET, body, "")}, body, url)


@pytest.mark.parametrize(("action", "expected"), [
    ({"id": "act1", "type": "updateCard", "data": {"card": {"id": "card9"}}}, ("issue", "card9")),
    ({"id": "act2", "type": "deleteCard", "data": {"card": {"id": "card9"}}}, ("issue", "card9")),
    ({"id": "act3", "type": "commentCard", "data": {"card": {"id": "card9"}, "text": "hi"}},
     ("comment", "act3")),
    ({"id": "act4", "type": "updateComment", "data": {"action": {"id": "act3"}}}, ("comment", "act3")),
])
def test_trello_actions_name_the_card_or_the_comment(action: dict[str, Any],
                                                     expected: tuple[str, str]) -> None:
    trello = connector("trello")
    action = {**action, "date": "2026-12-01T09:00:05.123Z"}
    action["data"] = {**action["data"], "board": {"id": "5f0000000000000000000001", "shortLink": "AbCd1234"}}
    body = json.dumps({"action": action, "model": {"id": "5f0000000000000000000001"}}).encode()
    [event] = trello.webhook_events({}, body)
    assert (event.record_type, event.external_id) == expected
    assert trello.webhook_in_scope("abcd1234", event)
    assert trello.webhook_in_scope("5f0000000000000000000001", event)
    assert trello.webhook_delivery_id({}, body) == f"action:{action['id']}"


# -- Zoho CRM --------------------------------------------------------------------------------
def zoho_body(connection: str, *, token: str = SECRET, module: str = "Cases", **extra: Any) -> bytes:
    from pmhub_plugins.zoho_crm.webhook_admin import channel_id

    return json.dumps({"server_time": 1764579605000, "query_params": {}, "module": module,
                       "resource_uri": f"https://www.zohoapis.com/crm/v8/{module}",
                       "ids": ["4876876000000624001"],
                       "affected_fields": [], "operation": "update",
                       "channel_id": str(channel_id(connection, module)), "token": token, **extra}).encode()


def test_zoho_checks_the_channel_token_and_the_channel_id() -> None:
    crm = connector("zoho_crm", name="crm")
    assert crm.verify_webhook({}, zoho_body("crm"), "")
    assert not crm.verify_webhook({}, zoho_body("crm", token="guess"), "")
    assert not crm.verify_webhook({}, zoho_body("crm", channel_id="1234"), "")
    assert not crm.verify_webhook({}, zoho_body("another-connection"), "")
    assert not crm.verify_webhook({}, b"not json", "")


def test_zoho_notifications_name_each_record_of_a_synced_module() -> None:
    crm = connector("zoho_crm", name="crm")
    [event] = crm.webhook_events({}, zoho_body("crm"))
    assert (event.record_type, event.external_id) == ("issue", "4876876000000624001")
    assert crm.webhook_in_scope("Cases", event) and crm.webhook_in_scope("*", event)
    assert not crm.webhook_in_scope("Deals", event)
    assert crm.webhook_events({}, zoho_body("crm", module="Contacts")) == []


def test_the_reference_connector_takes_no_webhooks() -> None:
    reference = build_plugin_manager().connector("reference")
    assert not reference.takes_webhooks()
    host = build_plugin_manager()
    assert all(host.connector(p).takes_webhooks() for p in ("github", "jira", "trello", "zoho_crm"))
