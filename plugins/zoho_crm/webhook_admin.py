"""Zoho CRM notification channels through the SDK's ``NotificationsOperations`` (``pmhub webhooks``).

One channel per module (``POST /crm/v8/actions/watch``, events ``<Module>.all``) with the
connection's ``webhook_secret`` as the channel ``token`` Zoho echoes in every callback (Zoho signs
nothing). The channel id is derived from the connection and module, so it is the same on every
install (the receiver accepts no other); that channel is updated (``PUT``) when Zoho has it, and
other channels delivering the module to the same URL are deleted.

Channels expire (an hour by default, a week at most): each is asked for ``LIFETIME`` and its
expiry kept in the connection's state (``bind_state`` secrets, key ``webhooks:channel:<module>``,
no secret in it), so ``renew`` tells which channels need a call without making any: it renews
(``PUT`` with a new ``channel_expiry``, or enables again when Zoho no longer knows the channel)
those expiring within the given margin. ``pmhub webhooks install`` and ``pmhub serve``'s schedule
ticks call it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from hub.connector import WebhookRegistration
from hub.errors import ConnectorError, PermanentError

from .convert import RECORD_MODULES

if TYPE_CHECKING:
    from .connector import ZohoCrmConnector

#: Asked for every channel: just under Zoho's one-week maximum, so clock skew cannot exceed it.
LIFETIME = dt.timedelta(days=7) - dt.timedelta(minutes=10)
STATE_KEY = "webhooks:channel:"


def channel_id(connection: str, module: str) -> int:
    """A stable channel id for (connection, module): Zoho's channel ids are longs the client picks."""
    digest = hashlib.sha256(f"pmhub:{connection}:{module}".encode()).hexdigest()
    return 10**12 + int(digest[:12], 16) % 10**15


def install(connector: ZohoCrmConnector, scopes: Sequence[str], url: str,
            secret: str) -> list[WebhookRegistration]:
    done = []
    for scope in dict.fromkeys(scopes):
        module = _module_of(scope)
        wanted = channel_id(connector.name, module)
        ours = [c for c in _channels(connector, module) if c.get("notify_url") == url]
        exists = any(str(c.get("channel_id")) == str(wanted) for c in ours)
        reply = _write(connector, "update" if exists else "enable", wanted, module, url, secret)
        # The receiver accepts only the derived channel id: others delivering here are stray copies.
        strays = [str(c["channel_id"]) for c in ours if str(c.get("channel_id")) != str(wanted)]
        if strays:
            _delete(connector, strays)
        done.append(_remember(connector, scope, module, url, wanted, reply,
                              "updated" if exists else "created"))
    return done


def listed(connector: ZohoCrmConnector, scopes: Sequence[str], url: str | None) -> list[WebhookRegistration]:
    found = []
    for scope in dict.fromkeys(scopes):
        for channel in _channels(connector, _module_of(scope)):
            if url is None or channel.get("notify_url") == url:
                found.append(WebhookRegistration(
                    scope=scope, url=str(channel.get("notify_url")), id=str(channel.get("channel_id")),
                    expires=_parse(channel.get("channel_expiry"))))
    return found


def remove(connector: ZohoCrmConnector, scopes: Sequence[str], url: str) -> list[WebhookRegistration]:
    removed = []
    for scope in dict.fromkeys(scopes):
        for channel in _channels(connector, _module_of(scope)):
            if channel.get("notify_url") != url:
                continue
            _delete(connector, [str(channel["channel_id"])])
            connector._secrets.delete(STATE_KEY + scope)
            removed.append(WebhookRegistration(scope=scope, url=url, id=str(channel["channel_id"]),
                                               action="removed"))
    return removed


def renew(connector: ZohoCrmConnector, scopes: Sequence[str], secret: str, *,
          within: dt.timedelta) -> list[WebhookRegistration]:
    """Renew the channels this connection registered that expire within ``within``."""
    renewed = []
    now = dt.datetime.now(dt.UTC)
    for scope in dict.fromkeys(scopes):
        kept = _kept(connector, scope)
        if kept is None or _parse(kept["expires"]) is None:
            continue
        expires = _parse(kept["expires"])
        if expires is not None and expires - now > within:
            continue
        module, url, wanted = kept["module"], kept["url"], int(kept["channel_id"])
        try:
            reply = _write(connector, "update", wanted, module, url, secret)
        except ConnectorError as error:
            if "NOT_SUBSCRIBED" not in str(error):
                raise
            reply = _write(connector, "enable", wanted, module, url, secret)  # Zoho forgot it
        renewed.append(_remember(connector, scope, module, url, wanted, reply, "renewed"))
    return renewed


# -- plumbing ------------------------------------------------------------------------------
def _module_of(scope: str) -> str:
    """The module a flow scope names (``Cases``, any case), whose records the channel watches."""
    for module in RECORD_MODULES.values():
        if scope.strip().lower() == module.lower():
            return module
    raise PermanentError(f"Zoho scope {scope!r} names no module pmhub syncs "
                         f"({', '.join(RECORD_MODULES.values())}); a notification channel watches one")


def _channels(connector: ZohoCrmConnector, module: str) -> list[dict[str, Any]]:
    from zohocrmsdk.src.com.zoho.crm.api import ParameterMap
    from zohocrmsdk.src.com.zoho.crm.api.notifications import (
        GetNotificationsParam,
        NotificationsOperations,
    )

    params = ParameterMap()
    params.add(GetNotificationsParam.module, module)
    response = connector._call("list notification channels",
                               lambda: NotificationsOperations().get_notifications(params))
    watch = connector._json(response).get("watch") or []
    return [c for c in watch if isinstance(c, dict) and module in _modules(c)]


def _delete(connector: ZohoCrmConnector, ids: list[str]) -> None:
    from zohocrmsdk.src.com.zoho.crm.api import ParameterMap
    from zohocrmsdk.src.com.zoho.crm.api.notifications import (
        DeleteNotificationParam,
        NotificationsOperations,
    )

    params = ParameterMap()
    params.add(DeleteNotificationParam.channel_ids, ",".join(ids))
    connector._call("delete notification channels",
                    lambda: NotificationsOperations().delete_notification(params))


def _modules(channel: dict[str, Any]) -> set[str]:
    return {str(event).partition(".")[0] for event in channel.get("events") or []}


def _write(connector: ZohoCrmConnector, how: str, wanted: int, module: str, url: str,
           secret: str) -> dict[str, Any]:
    """Enable or update one channel; its success entry (``details.events[].channel_expiry``)."""
    from zohocrmsdk.src.com.zoho.crm.api.notifications import (
        BodyWrapper,
        Notification,
        NotificationsOperations,
    )

    notification = Notification()
    notification.set_channel_id(str(wanted))  # a long in Zoho's docs, a string to the v8 SDK
    notification.set_events([f"{module}.all"])
    notification.set_channel_expiry((dt.datetime.now(dt.UTC) + LIFETIME).replace(microsecond=0))
    notification.set_token(secret)
    notification.set_notify_url(url)
    notification.set_notify_on_related_action(False)
    body = BodyWrapper()
    body.set_watch([notification])
    operations = NotificationsOperations()
    operation = operations.enable_notifications if how == "enable" else operations.update_notifications
    response = connector._call(f"{how} notification channel", lambda: operation(body))
    entries = connector._json(response).get("watch") or [{}]
    entry = entries[0] if isinstance(entries[0], dict) else {}
    if entry.get("status") != "success":
        raise ConnectorError(f"{connector.name}: Zoho would not {how} the notification channel for "
                             f"{module}: {entry.get('code')} {entry.get('message')}")
    return entry


def _remember(connector: ZohoCrmConnector, scope: str, module: str, url: str, wanted: int,
              entry: dict[str, Any], action: str) -> WebhookRegistration:
    events = (entry.get("details") or {}).get("events") or [{}]
    expires = _parse(events[0].get("channel_expiry")) or dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    connector._secrets.put(STATE_KEY + scope, json.dumps({
        "module": module, "url": url, "channel_id": str(wanted), "expires": expires.isoformat()}))
    return WebhookRegistration(scope=scope, url=url, id=str(wanted), action=action, expires=expires)


def _kept(connector: ZohoCrmConnector, scope: str) -> dict[str, Any] | None:
    text = connector._secrets.get(STATE_KEY + scope)
    if not text:
        return None
    try:
        kept = json.loads(text)
    except ValueError:
        return None
    wanted = {"module", "url", "channel_id", "expires"}
    return kept if isinstance(kept, dict) and wanted <= set(kept) else None


def _parse(value: Any) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        return value
    try:
        return dt.datetime.fromisoformat(str(value)) if value else None
    except ValueError:
        return None
