"""Registering a Jira Cloud admin webhook through the jira client's session (``pmhub webhooks``).

One webhook per connection (``POST /rest/webhooks/1.0/webhook``, which needs a Jira admin): the
issue and comment events, JQL-filtered to the projects of the connection's flows
(``project in ("A", "B")``), signed with the connection's ``webhook_secret``
(``X-Hub-Signature: sha256=...``). A webhook already delivering to the URL is updated in place
(``PUT .../webhook/{id}``), so its filter follows the flows; duplicates are deleted. Jira's API
tells nothing about past deliveries, so ``list`` shows none.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from hub.connector import WebhookRegistration

if TYPE_CHECKING:
    from .connector import JiraConnector

PATH = "/rest/webhooks/1.0/webhook"
FILTER_KEY = "issue-related-events-section"
EVENTS = ["jira:issue_created", "jira:issue_updated", "jira:issue_deleted",
          "comment_created", "comment_updated", "comment_deleted"]


def project_filter(scopes: Sequence[str]) -> str:
    projects = ", ".join(json.dumps(scope) for scope in dict.fromkeys(scopes))
    return f"project in ({projects})"


def install(connector: JiraConnector, scopes: Sequence[str], url: str,
            secret: str) -> list[WebhookRegistration]:
    body = {"name": f"pmhub {connector.name}", "url": url, "events": EVENTS,
            "filters": {FILTER_KEY: project_filter(scopes)}, "excludeBody": False, "enabled": True,
            "secret": secret}
    ours = [hook for hook in _all(connector) if hook.get("url") == url]
    if ours:
        hook = _request(connector, "PUT", _hook_path(ours[0]), body, "update webhook")
        action = "updated"
        for extra in ours[1:]:
            _request(connector, "DELETE", _hook_path(extra), None, "delete webhook")
    else:
        hook = _request(connector, "POST", PATH, body, "create webhook")
        action = "created"
    return [_registration(hook, action)]


def listed(connector: JiraConnector, scopes: Sequence[str], url: str | None) -> list[WebhookRegistration]:
    return [_registration(hook, "") for hook in _all(connector) if url is None or hook.get("url") == url]


def remove(connector: JiraConnector, scopes: Sequence[str], url: str) -> list[WebhookRegistration]:
    removed = []
    for hook in _all(connector):
        if hook.get("url") == url:
            _request(connector, "DELETE", _hook_path(hook), None, "delete webhook")
            removed.append(_registration(hook, "removed"))
    return removed


def _all(connector: JiraConnector) -> list[dict[str, Any]]:
    reply = _request(connector, "GET", PATH, None, "list webhooks")
    return [hook for hook in reply if isinstance(hook, dict)] if isinstance(reply, list) else []


def _hook_path(hook: dict[str, Any]) -> str:
    # ``self`` ends in the webhook's id; the path is rebuilt on the connection's base URL so a
    # proxy in front of Jira (or the sandbox) is never bypassed.
    return f"{PATH}/{str(hook.get('self', '')).rstrip('/').rsplit('/', 1)[-1]}"


def _request(connector: JiraConnector, method: str, path: str, body: Any, what: str) -> Any:
    """One call through the jira client's session (its auth, timeout and response hooks)."""
    client = connector.client
    url = connector.settings.base_url.rstrip("/") + path
    data = json.dumps(body) if body is not None else None
    with connector._errors(what):
        reply = client._session.request(method, url, data=data)
    return reply.json() if reply.content else None


def _registration(hook: dict[str, Any], action: str) -> WebhookRegistration:
    filters = hook.get("filters")
    if not isinstance(filters, dict):
        filters = {}
    return WebhookRegistration(scope=str(filters.get(FILTER_KEY) or "all issues"),
                               url=str(hook.get("url")), id=_hook_path(hook).rsplit("/", 1)[-1],
                               action=action, active=bool(hook.get("enabled", True)))
