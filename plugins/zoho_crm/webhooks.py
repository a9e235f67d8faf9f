"""Receiving Zoho CRM notifications (``actions/watch`` channels): verify one, name its records.

Zoho signs nothing: the body echoes the ``token`` and ``channel_id`` the channel was registered with.
The token is the connection's ``webhook_secret`` (compared in constant time); the channel id must be
one of this connection's, which ``webhook_admin.channel_id`` derives from the connection and module,
so the installer and the receiver agree without storing anything. A notification carries no id of its
own: the body's hash recognises a replay (``server_time`` and ``ids`` make real ones differ).
Contacts' notifications are not taken: a customer is its account, and a contact's change shows
up at the next poll.
"""

from __future__ import annotations

import datetime as dt
import hmac
import json
from typing import Any

from hub.connector import WebhookEvent

from .convert import RECORD_MODULES
from .webhook_admin import channel_id

#: Module -> record type, for the modules whose notifications name pmhub records.
MODULE_RECORDS = {module: record_type for record_type, module in RECORD_MODULES.items()}


def verify(secret: str | None, connection: str, body: bytes) -> bool:
    if not secret:
        return False
    try:
        payload = json.loads(body)
    except ValueError:
        return False
    if not isinstance(payload, dict):
        return False
    token_ok = hmac.compare_digest(str(payload.get("token") or "").encode(), secret.encode())
    ours = {str(channel_id(connection, module)) for module in MODULE_RECORDS}
    return token_ok and str(payload.get("channel_id") or "") in ours


def events(body: bytes) -> list[WebhookEvent]:
    payload = json.loads(body)
    if not isinstance(payload, dict):
        return []
    module = str(payload.get("module") or "")
    record_type = MODULE_RECORDS.get(module)
    ids = payload.get("ids") or []
    if record_type is None or not isinstance(ids, list):
        return []
    # A flow side's scope is the module's name, or "*" for whichever module holds the record type.
    scopes = frozenset({module, "*"})
    when = _millis(payload.get("server_time"))
    return [WebhookEvent(record_type, str(record_id), scopes, when) for record_id in ids]


def _millis(value: Any) -> dt.datetime | None:
    return dt.datetime.fromtimestamp(value / 1000, dt.UTC) if isinstance(value, int | float) else None
