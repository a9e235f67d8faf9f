"""Admin webhooks of the Jira stand-in: ``/rest/webhooks/1.0/webhook`` and the deliveries.

``GET|POST /rest/webhooks/1.0/webhook`` and ``GET|PUT|DELETE /rest/webhooks/1.0/webhook/{id}``
take and return Jira Cloud's admin webhook objects (``name``, ``url``, ``events``,
``filters: {"issue-related-events-section": JQL}``, ``excludeBody``, ``enabled``, ``self``,
``lastUpdated``...); the ``secret`` is write-only, as in Jira. After each write, every enabled
webhook subscribed to the event whose JQL filter matches the issue gets the REST v2 payload
(``webhookEvent`` ``jira:issue_created|updated|deleted`` with ``issue`` and ``changelog``, or
``comment_created|updated|deleted`` with ``comment`` and ``issue``), signed, when it has a secret,
with ``X-Hub-Signature: sha256=<hex HMAC-SHA256 of the body>``; ``X-Atlassian-Webhook-Identifier``
names the delivery. Jira's API tells nothing about past deliveries, and neither does this one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import uuid
from dataclasses import dataclass
from typing import Any

from werkzeug.wrappers import Request, Response

from hub.sandbox.deliveries import Delivery
from hub.sandbox.service import Call, SandboxService, json_response, route

from . import jql
from .state import CommentRecord, IssueRecord, JiraFailure, object_body

HOOKS = "/rest/webhooks/1.0/webhook"
FILTER_KEY = "issue-related-events-section"
EVENTS = frozenset({"jira:issue_created", "jira:issue_updated", "jira:issue_deleted",
                    "comment_created", "comment_updated", "comment_deleted"})


@dataclass
class Webhook:
    id: int
    name: str
    url: str
    events: list[str]
    jql: str
    exclude_body: bool
    enabled: bool
    secret: str | None
    updated: dt.datetime


class JiraWebhooks(SandboxService):
    """Admin webhooks for the Jira stand-in (``JiraSandbox`` subclasses this)."""

    # Provided by JiraSandbox.
    issues: dict[int, IssueRecord]
    users: dict[str, dict[str, Any]]
    myself_id: str

    def reset_webhooks(self) -> None:
        self.webhooks: dict[int, Webhook] = {}
        self.next_webhook_id = 1
        self._event_call: Call | None = None

    def handle(self, request: Request, subpath: str, base: str, token: str | None) -> Response:
        # Payloads carry URLs rooted where the client sees the site, like replies do.
        self._event_call = Call(request, base)
        return super().handle(request, subpath, base, token)

    # -- routes ----------------------------------------------------------------------------
    @route(HOOKS)
    def webhooks_list(self, call: Call) -> Response:
        return json_response([self._webhook_json(call, w) for w in self.webhooks.values()])

    @route(HOOKS, methods=("POST",))
    def webhook_create(self, call: Call) -> Response:
        hook = Webhook(self.next_webhook_id, "", "", [], "", False, True, None,
                       dt.datetime.now(dt.UTC))
        self._apply_webhook(hook, object_body(call), creating=True)
        self.next_webhook_id += 1
        self.webhooks[hook.id] = hook
        return json_response(self._webhook_json(call, hook), 201)

    @route(f"{HOOKS}/<int:hook_id>", methods=("GET", "PUT", "DELETE"))
    def webhook_one(self, call: Call, hook_id: int) -> Response:
        hook = self.webhooks.get(hook_id)
        if hook is None:
            raise JiraFailure(404, [f"Webhook with id {hook_id} does not exist."])
        if call.request.method == "DELETE":
            del self.webhooks[hook_id]
            return Response(status=204)
        if call.request.method == "PUT":
            self._apply_webhook(hook, object_body(call), creating=False)
        return json_response(self._webhook_json(call, hook))

    def _apply_webhook(self, hook: Webhook, body: dict[str, Any], *, creating: bool) -> None:
        errors: dict[str, str] = {}
        name, url = body.get("name", hook.name), body.get("url", hook.url)
        if not isinstance(name, str) or not name.strip():
            errors["name"] = "Name is required."
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            errors["url"] = "Invalid URL."
        events = body.get("events", hook.events)
        if not isinstance(events, list) or not events or any(e not in EVENTS for e in events):
            errors["events"] = f"Events must be a non-empty list of {', '.join(sorted(EVENTS))}."
        filters = body.get("filters", {FILTER_KEY: hook.jql})
        text = filters.get(FILTER_KEY, "") if isinstance(filters, dict) else None
        if not isinstance(text, str):
            errors["filters"] = "Filters must be an object."
        elif text.strip():
            try:
                jql.parse(text, time_zone="UTC", now=dt.datetime.now(dt.UTC))
            except jql.JqlError as error:
                errors["filters"] = f"Invalid JQL: {error}"
        if errors:
            raise JiraFailure(400, [], errors)
        hook.name, hook.url, hook.events, hook.jql = name.strip(), url, list(events), str(text)
        hook.exclude_body = bool(body.get("excludeBody", hook.exclude_body))
        hook.enabled = bool(body.get("enabled", hook.enabled))
        if "secret" in body or creating:
            secret = body.get("secret")
            hook.secret = secret if isinstance(secret, str) and secret else None
        hook.updated = dt.datetime.now(dt.UTC)

    def _webhook_json(self, call: Call, hook: Webhook) -> dict[str, Any]:
        me = self.users.get(self.myself_id, {})
        return {
            "name": hook.name, "url": hook.url, "excludeBody": hook.exclude_body,
            "filters": {FILTER_KEY: hook.jql}, "events": list(hook.events), "enabled": hook.enabled,
            "self": f"{call.base}{HOOKS}/{hook.id}", "lastUpdatedUser": self.myself_id,
            "lastUpdatedDisplayName": me.get("displayName", ""),
            "lastUpdated": int(hook.updated.timestamp() * 1000),
        }

    # -- events the issue routes raise -------------------------------------------------------
    def issue_event(self, event: str, issue: IssueRecord) -> None:
        """``jira:issue_created|updated|deleted`` for ``issue`` (call before removing a deleted one)."""
        call = self._event_call
        if not self.webhooks or call is None:
            return
        views = self._views(call, "2")
        payload: dict[str, Any] = {
            "timestamp": _now_ms(), "webhookEvent": event,
            "issue_event_type_name": {"jira:issue_created": "issue_created",
                                      "jira:issue_deleted": "issue_deleted"}.get(event, "issue_updated"),
            "user": views.user(self.myself_id), "issue": views.issue(issue, None, set()),
        }
        if event == "jira:issue_updated":
            payload["changelog"] = {"id": str(uuid.uuid4().int % 10**8), "items": []}
        self._emit(event, issue, payload)

    def comment_event(self, event: str, issue: IssueRecord, comment: CommentRecord) -> None:
        call = self._event_call
        if not self.webhooks or call is None:
            return
        views = self._views(call, "2")
        full = views.issue(issue, None, set())
        self._emit(event, issue, {
            "timestamp": _now_ms(), "webhookEvent": event, "comment": views.comment(issue, comment),
            "issue": {"id": full["id"], "self": full["self"], "key": full["key"],
                      "fields": {name: full["fields"].get(name)
                                 for name in ("summary", "issuetype", "project", "priority", "status")}},
        })

    def _emit(self, event: str, issue: IssueRecord, payload: dict[str, Any]) -> None:
        for hook in list(self.webhooks.values()):
            if not hook.enabled or event not in hook.events or not self._matches(hook, issue):
                continue
            body_payload = payload if not hook.exclude_body else {"webhookEvent": event}
            body = json.dumps(body_payload, separators=(",", ":")).encode()
            headers = {"Content-Type": "application/json; charset=utf-8",
                       "User-Agent": "Atlassian Webhook HTTP Client",
                       "X-Atlassian-Webhook-Identifier": str(uuid.uuid4())}
            forged = dict(headers)
            if hook.secret:
                headers["X-Hub-Signature"] = _signature(hook.secret, body)
                forged["X-Hub-Signature"] = _signature(hook.secret + "-forged", body)
            else:
                forged["X-Hub-Signature"] = _signature("forged", body)
            self.deliver(Delivery(self.name, event, hook.url, body, headers, forged_headers=forged))

    def _matches(self, hook: Webhook, issue: IssueRecord) -> bool:
        if not hook.jql.strip():
            return True
        query = jql.parse(hook.jql, time_zone="UTC", now=dt.datetime.now(dt.UTC))
        return query.matches(self._view(issue, query.needs()))

    # Provided by JiraSandbox.
    def _views(self, call: Call, version: str) -> Any:
        raise NotImplementedError

    def _view(self, issue: IssueRecord, needed: frozenset[str]) -> jql.IssueView:
        raise NotImplementedError


def _now_ms() -> int:
    return int(dt.datetime.now(dt.UTC).timestamp() * 1000)


def _signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
