"""Notification channels of the Zoho CRM stand-in (``/crm/v8/actions/watch``) and their callbacks.

As in ``shared/oracles/zoho-crm/notifications.json``: ``POST`` enables channels
(``{"watch": [{"channel_id", "events": ["Cases.all"], "channel_expiry", "token", "notify_url"}]}``;
enabling a channel id again replaces it), ``GET`` lists them (``channel_id``, ``module``, ``page``,
``per_page``; 204 when none), ``PUT`` updates them, ``PATCH`` with ``"_delete_events": true``
unsubscribes events, ``DELETE ?channel_ids=`` removes channels. A channel lives until its
``channel_expiry``: an hour when none is given, at most a week (Zoho's limits since v4). After each
write, every live channel subscribed to ``<Module>.all`` or ``<Module>.create|edit|delete`` gets
Zoho's callback: ``{"server_time", "query_params", "module", "resource_uri", "ids",
"affected_fields", "operation": "insert|update|delete", "channel_id", "token"}``. There is no
signature: the ``token`` given at registration comes back in the body.

Sandbox control: ``POST /_sandbox/zoho/watch-lifetime`` ``{"max_seconds": N}`` shortens every
channel enabled or updated from then on to at most N seconds (to test renewal); ``DELETE`` (or a
reset) goes back to Zoho's week.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from werkzeug.wrappers import Request, Response

from hub.sandbox.deliveries import Delivery
from hub.sandbox.service import Call, SandboxService, json_response, route

from . import metadata
from .state import CrmStore

WATCH = "/crm/v8/actions/watch"
DEFAULT_LIFETIME = dt.timedelta(hours=1)
MAX_LIFETIME = dt.timedelta(days=7)
TOKEN_MAX = 50
OPERATIONS = {"insert": "create", "update": "edit", "delete": "delete"}


class WatchError(Exception):
    def __init__(self, code: str, message: str, details: dict[str, Any]) -> None:
        super().__init__(message)
        self.code, self.message, self.details = code, message, details


@dataclass
class Channel:
    channel_id: int
    events: list[str]
    expiry: dt.datetime
    token: str | None
    notify_url: str
    notify_on_related_action: bool = True
    return_affected_field_values: bool = False

    def watches(self, module: str, operation: str) -> bool:
        return f"{module}.all" in self.events or f"{module}.{OPERATIONS[operation]}" in self.events

    def modules(self) -> list[str]:
        return sorted({event.partition(".")[0] for event in self.events})


class ZohoWebhooks(SandboxService):
    """Notification channels; ``ZohoCrmSandbox`` subclasses this."""

    store: CrmStore

    def reset_webhooks(self) -> None:
        self.channels: dict[int, Channel] = {}
        self.max_lifetime: dt.timedelta | None = None

    def control(self, name: str, request: Request) -> Response | None:
        if name != "watch-lifetime":
            return super().control(name, request)
        if request.method == "POST":
            body = request.get_json(silent=True)
            seconds = body.get("max_seconds") if isinstance(body, dict) else None
            if not isinstance(seconds, (int, float)) or seconds <= 0:
                return json_response({"error": "give {\"max_seconds\": N} with N > 0"}, 400)
            self.max_lifetime = dt.timedelta(seconds=seconds)
        elif request.method == "DELETE":
            self.max_lifetime = None
        limit = self.max_lifetime
        return json_response({"max_seconds": limit.total_seconds() if limit else None},
                             201 if request.method == "POST" else 200)

    def handle(self, request: Request, subpath: str, base: str, token: str | None) -> Response:
        try:
            return super().handle(request, subpath, base, token)
        finally:
            changes, self.store.changes = self.store.changes, []
            if changes and self.channels:
                self._notify(base, changes)

    # -- routes ----------------------------------------------------------------------------
    @route(WATCH)
    def watch_list(self, call: Call) -> Response:
        wanted_id, module = call.args.get("channel_id"), call.args.get("module")
        channels = [c for c in sorted(self.channels.values(), key=lambda c: c.channel_id)
                    if (wanted_id is None or str(c.channel_id) == wanted_id)
                    and (module is None or module in c.modules())]
        if not channels:
            empty = Response(status=204)
            empty.headers.remove("Content-Type")  # as Zoho sends it: the SDK picks its parser by it
            return empty
        per_page = max(1, min(200, int(call.args.get("per_page", 200))))
        page = max(1, int(call.args.get("page", 1)))
        chunk = channels[(page - 1) * per_page: page * per_page]
        return json_response({"watch": [self._channel_json(call.base, c) for c in chunk], "info": {
            "per_page": per_page, "page": page, "count": len(chunk),
            "more_records": page * per_page < len(channels)}})

    @route(WATCH, methods=("POST", "PUT", "PATCH"))
    def watch_write(self, call: Call) -> Response:
        try:
            entries = self._entries(call)
            method = call.request.method
            results = [self._enable(call.base, e) if method == "POST" else
                       self._unsubscribe(call.base, e) if e.get("_delete_events") is True else
                       self._update(call.base, e) for e in entries]
        except WatchError as error:
            return json_response({"watch": [{"code": error.code, "details": error.details,
                                             "message": error.message, "status": "error"}]}, 400)
        return json_response({"watch": results}, 201 if call.request.method == "POST" else 200)

    @route(WATCH, methods=("DELETE",))
    def watch_delete(self, call: Call) -> Response:
        ids = [i for i in call.args.get("channel_ids", "").split(",") if i.strip()]
        if not ids:
            return json_response({"code": "REQUIRED_PARAM_MISSING", "details": {"param_name": "channel_ids"},
                                  "message": "One of the expected parameter is missing", "status": "error"},
                                 400)
        results = []
        for text in ids:
            channel = self.channels.pop(int(text), None) if text.strip().isdigit() else None
            if channel is None:
                results.append({"code": "INVALID_DATA", "details": {"channel_id": text},
                                "message": "invalid data", "status": "error"})
            else:
                results.append({"code": "SUCCESS", "details": {"channel_id": text},
                                "message": "Successfully removed the subscribe details",
                                "status": "success"})
        return json_response({"watch": results})

    # -- channel changes -------------------------------------------------------------------
    def _entries(self, call: Call) -> list[dict[str, Any]]:
        body = call.json()
        watch = body.get("watch") if isinstance(body, dict) else None
        if not isinstance(watch, list) or not watch or not all(isinstance(e, dict) for e in watch):
            raise WatchError("MANDATORY_NOT_FOUND", "required field not found", {"api_name": "watch"})
        return watch

    def _enable(self, base: str, entry: dict[str, Any]) -> dict[str, Any]:
        for name in ("channel_id", "events", "notify_url"):
            if entry.get(name) in (None, "", []):
                raise WatchError("MANDATORY_NOT_FOUND", "required field not found", {"api_name": name})
        channel = Channel(self._channel_id(entry["channel_id"]), self._events(entry["events"]),
                          self._expiry(entry.get("channel_expiry")), self._token(entry.get("token")),
                          self._url(entry["notify_url"]),
                          bool(entry.get("notify_on_related_action", True)),
                          bool(entry.get("return_affected_field_values", False)))
        self.channels[channel.channel_id] = channel
        return self._success(base, channel, "Successfully subscribed for actions-watch of the given module")

    def _update(self, base: str, entry: dict[str, Any]) -> dict[str, Any]:
        channel = self._existing(entry)
        if "events" in entry:
            channel.events = self._events(entry["events"])
        if "notify_url" in entry:
            channel.notify_url = self._url(entry["notify_url"])
        if "token" in entry:
            channel.token = self._token(entry["token"])
        channel.expiry = self._expiry(entry.get("channel_expiry"))
        return self._success(base, channel, "Successfully updated the subscribe details")

    def _unsubscribe(self, base: str, entry: dict[str, Any]) -> dict[str, Any]:
        channel = self._existing(entry)
        gone = set(self._events(entry.get("events")))
        channel.events = [e for e in channel.events if e not in gone]
        if not channel.events:
            del self.channels[channel.channel_id]
        return self._success(base, channel, "Successfully un-subscribed from actions-watch")

    def _existing(self, entry: dict[str, Any]) -> Channel:
        channel = self.channels.get(self._channel_id(entry.get("channel_id")))
        if channel is None:
            raise WatchError("NOT_SUBSCRIBED", "channel is not subscribed",
                             {"channel_id": str(entry.get("channel_id"))})
        return channel

    @staticmethod
    def _channel_id(value: Any) -> int:
        if isinstance(value, bool) or not str(value).isdigit():
            raise WatchError("INVALID_DATA", "invalid data", {"api_name": "channel_id"})
        return int(value)

    @staticmethod
    def _events(value: Any) -> list[str]:
        if not isinstance(value, list) or not value:
            raise WatchError("MANDATORY_NOT_FOUND", "required field not found", {"api_name": "events"})
        for event in value:
            module, _, operation = str(event).partition(".")
            if module not in metadata.MODULES or operation not in ("all", *OPERATIONS.values()):
                raise WatchError("INVALID_DATA", "invalid data", {"api_name": "events", "value": event})
        return list(dict.fromkeys(str(e) for e in value))

    def _expiry(self, value: Any) -> dt.datetime:
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        if value in (None, ""):
            expiry = now + DEFAULT_LIFETIME
        else:
            try:
                expiry = dt.datetime.fromisoformat(str(value))
            except ValueError:
                raise WatchError("INVALID_DATA", "invalid data", {"api_name": "channel_expiry"}) from None
            if expiry.tzinfo is None or expiry <= now or expiry > now + MAX_LIFETIME:
                raise WatchError("INVALID_DATA", "invalid data", {"api_name": "channel_expiry"})
        if self.max_lifetime is not None:
            expiry = min(expiry, now + self.max_lifetime)
        return expiry.astimezone(dt.UTC).replace(microsecond=0)

    @staticmethod
    def _token(value: Any) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str) or len(value) > TOKEN_MAX:
            raise WatchError("INVALID_DATA", "invalid data",
                             {"api_name": "token", "maximum_length": TOKEN_MAX})
        return value

    @staticmethod
    def _url(value: Any) -> str:
        if not isinstance(value, str) or not value.startswith(("http://", "https://")):
            raise WatchError("INVALID_DATA", "invalid data", {"api_name": "notify_url"})
        return value

    def _success(self, base: str, channel: Channel, message: str) -> dict[str, Any]:
        return {"code": "SUCCESS", "details": {"events": [
            {"channel_expiry": channel.expiry.isoformat(), "resource_uri": f"{base}/crm/v8/{module}",
             "resource_id": _module_id(module), "resource_name": module,
             "channel_id": str(channel.channel_id)} for module in channel.modules()]},
            "message": message, "status": "success"}

    def _channel_json(self, base: str, channel: Channel) -> dict[str, Any]:
        module = channel.modules()[0]
        return {"notify_on_related_action": channel.notify_on_related_action,
                "channel_expiry": channel.expiry.isoformat(),
                "return_affected_field_values": channel.return_affected_field_values,
                "resource_uri": f"{base}/crm/v8/{module}", "resource_id": _module_id(module),
                "notify_url": channel.notify_url, "resource_name": module, "fields": None,
                "notification_condition": None, "channel_id": str(channel.channel_id),
                "events": list(channel.events), "token": channel.token}

    # -- callbacks -------------------------------------------------------------------------
    def _notify(self, base: str, changes: list[tuple[str, str, str]]) -> None:
        """One callback per channel, module and operation, naming every record it touched."""
        now = dt.datetime.now(dt.UTC)
        grouped: dict[tuple[str, str], list[str]] = {}
        for module, operation, record_id in changes:
            grouped.setdefault((module, operation), []).append(record_id)
        for channel in list(self.channels.values()):
            if channel.expiry <= now:
                continue
            for (module, operation), ids in grouped.items():
                if not channel.watches(module, operation):
                    continue
                payload = {"server_time": int(now.timestamp() * 1000), "query_params": {},
                           "module": module, "resource_uri": f"{base}/crm/v8/{module}",
                           "ids": list(dict.fromkeys(ids)), "affected_fields": [],
                           "operation": operation, "channel_id": str(channel.channel_id),
                           "token": channel.token}
                forged = {**payload, "token": (channel.token or "") + "-forged"}
                headers = {"Content-Type": "application/json", "User-Agent": "ZohoCRM-Notifications/sandbox"}
                self.deliver(Delivery(self.name, f"{module}.{operation}", channel.notify_url,
                                      json.dumps(payload, separators=(",", ":")).encode(), headers,
                                      forged_body=json.dumps(forged, separators=(",", ":")).encode()))


def _module_id(module: str) -> str:
    return str(3652397000000002000 + sorted(metadata.MODULES).index(module))
