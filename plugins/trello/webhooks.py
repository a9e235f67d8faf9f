"""Receiving Trello webhooks: verify a delivery, name the records it is about.

Trello signs each delivery with the app's secret: ``X-Trello-Webhook`` is the base64 HMAC-SHA1 of the
raw body followed by the callback URL exactly as registered. Every delivery is one action with its
own id, which recognises a replay. Card actions name the card; ``commentCard`` names the comment
(its action id is the comment's id), ``updateComment`` / ``deleteComment`` the comment they change.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

from hub.connector import WebhookEvent
from hub.webhook_signatures import body_digest

#: Actions on a comment, which name the comment's own action in ``data.action``.
COMMENT_CHANGES = frozenset({"updateComment", "deleteComment"})


def verify(secret: str | None, headers: Mapping[str, str], body: bytes, url: str) -> bool:
    if not secret:
        return False
    digest = hmac.new(secret.encode(), body + url.encode(), hashlib.sha1).digest()
    expected = base64.b64encode(digest)
    given = (headers.get("x-trello-webhook") or "").encode()
    return hmac.compare_digest(given, expected)


def delivery_id(headers: Mapping[str, str], body: bytes) -> str:
    try:
        action_id = (json.loads(body).get("action") or {}).get("id")
    except (ValueError, AttributeError):
        action_id = None
    return f"action:{action_id}" if action_id else body_digest(body)


def events(headers: Mapping[str, str], body: bytes) -> list[WebhookEvent]:
    payload = json.loads(body)
    if not isinstance(payload, dict):
        return []
    action = payload.get("action") or {}
    data = action.get("data") or {}
    kind = action.get("type")
    board = data.get("board") or {}
    model = payload.get("model") or {}
    scopes = frozenset(str(v) for v in (board.get("id"), board.get("shortLink"), model.get("id"),
                                         model.get("shortLink")) if v)
    when = _time(action.get("date"))
    if kind == "commentCard" and action.get("id"):
        return [WebhookEvent("comment", str(action["id"]), scopes, when)]
    if kind in COMMENT_CHANGES:
        changed = (data.get("action") or {}).get("id")
        return [WebhookEvent("comment", str(changed), scopes, when)] if changed else []
    card = data.get("card") or {}
    if card.get("id"):
        return [WebhookEvent("issue", str(card["id"]), scopes, when)]
    return []


def _time(value: Any) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
