"""Receiving Jira Cloud admin webhooks: verify a delivery, name the records it is about.

A webhook registered with a secret signs the raw body: ``X-Hub-Signature: sha256=<hex HMAC-SHA256>``.
Jira Cloud sends ``X-Atlassian-Webhook-Identifier``, the same on every retry of one delivery; where
it is missing the body's hash stands in. ``jira:issue_*`` events name an issue by its numeric id (what
the link ledger holds), ``comment_*`` events a comment as ``<issue id>/<comment id>``. A deleted
issue or comment is then fetched, found gone, and the flow's ``on_delete`` applies.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any

from hub.connector import WebhookEvent
from hub.webhook_signatures import body_digest, sha256_signature_matches

ISSUE_EVENTS = frozenset({"jira:issue_created", "jira:issue_updated", "jira:issue_deleted"})
COMMENT_EVENTS = frozenset({"comment_created", "comment_updated", "comment_deleted"})


def verify(secret: str | None, headers: Mapping[str, str], body: bytes) -> bool:
    return sha256_signature_matches(secret, body, headers.get("x-hub-signature"))


def delivery_id(headers: Mapping[str, str], body: bytes) -> str:
    given = headers.get("x-atlassian-webhook-identifier")
    return f"webhook:{given}" if given else body_digest(body)


def events(headers: Mapping[str, str], body: bytes) -> list[WebhookEvent]:
    payload = json.loads(body)
    if not isinstance(payload, dict):
        return []
    event = payload.get("webhookEvent")
    issue = payload.get("issue") or {}
    if "id" not in issue or event not in ISSUE_EVENTS | COMMENT_EVENTS:
        return []
    fields = issue.get("fields") or {}
    project = fields.get("project") or {}
    scopes = {str(project[k]) for k in ("key", "id") if project.get(k)}
    if isinstance(issue.get("key"), str) and "-" in issue["key"]:
        scopes.add(issue["key"].rsplit("-", 1)[0])  # comment events carry few of the issue's fields
    sent = _millis(payload.get("timestamp"))
    if event in ISSUE_EVENTS:
        updated = _time(fields.get("updated")) or sent
        return [WebhookEvent("issue", str(issue["id"]), frozenset(scopes), updated)]
    comment = payload.get("comment") or {}
    if "id" not in comment:
        return []
    return [WebhookEvent("comment", f"{issue['id']}/{comment['id']}", frozenset(scopes),
                         _time(comment.get("updated")) or sent)]


def _time(value: Any) -> dt.datetime | None:
    # Jira's "2025-01-02T03:04:05.678+0000": %z takes the offset without a colon.
    if not isinstance(value, str):
        return None
    try:
        return dt.datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%f%z")
    except ValueError:
        return None


def _millis(value: Any) -> dt.datetime | None:
    return dt.datetime.fromtimestamp(value / 1000, dt.UTC) if isinstance(value, int | float) else None
