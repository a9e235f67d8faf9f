"""Receiving GitHub repository webhooks: verify a delivery, name the records it is about.

GitHub signs the raw body with the hook's secret: ``X-Hub-Signature-256: sha256=<hex HMAC-SHA256>``.
``X-GitHub-Delivery`` is a GUID per delivery that a redelivery reuses, so it recognises replays.
``issues`` events name an issue by number, ``issue_comment`` events a comment by id; pull requests
(an ``issue`` with a ``pull_request`` key) are not synced, so their events name nothing.
``sub_issues`` events (a sub-issue added to or removed from a parent) name the child, whose parent
changed: GitHub leaves its ``updated_at`` alone, so this event is what tells a re-parent at once.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any

from hub.connector import WebhookEvent
from hub.webhook_signatures import body_digest, sha256_signature_matches


def verify(secret: str | None, headers: Mapping[str, str], body: bytes) -> bool:
    return sha256_signature_matches(secret, body, headers.get("x-hub-signature-256"))


def delivery_id(headers: Mapping[str, str], body: bytes) -> str:
    given = headers.get("x-github-delivery")
    return f"delivery:{given}" if given else body_digest(body)


def events(headers: Mapping[str, str], body: bytes) -> list[WebhookEvent]:
    kind = headers.get("x-github-event") or ""
    payload = json.loads(body)
    if not isinstance(payload, dict) or kind not in ("issues", "issue_comment", "sub_issues"):
        return []  # ping, and events about what pmhub does not sync
    if kind == "sub_issues":
        return _child_moved(payload)
    repository = (payload.get("repository") or {}).get("full_name")
    issue = payload.get("issue") or {}
    if not repository or "pull_request" in issue:
        return []
    scopes = frozenset({str(repository)})
    if kind == "issues":
        return [WebhookEvent("issue", str(issue["number"]), scopes, _time(issue.get("updated_at")))]
    comment = payload.get("comment") or {}
    return [WebhookEvent("comment", str(comment["id"]), scopes, _time(comment.get("updated_at")))]


def _child_moved(payload: dict[str, Any]) -> list[WebhookEvent]:
    """The sub-issue of a ``sub_issues`` delivery, in its own repository: ``parent_issue_*`` actions
    arrive at the child's repository, ``sub_issue_*`` ones at the parent's (naming the child's in
    ``sub_issue_repo``; the two differ when the parent sits in a sibling repository)."""
    child = payload.get("sub_issue") or {}
    action = str(payload.get("action") or "")
    where = payload.get("sub_issue_repo") if action.startswith("sub_issue_") else payload.get("repository")
    repository = (where or payload.get("repository") or {}).get("full_name")
    if not repository or not child.get("number") or "pull_request" in child:
        return []
    # No edit time: the link's moment is not in the payload, and the child's updated_at predates it.
    return [WebhookEvent("issue", str(child["number"]), frozenset({str(repository)}), None)]


def _time(value: Any) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
