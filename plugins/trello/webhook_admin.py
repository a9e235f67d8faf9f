"""Registering Trello webhooks over Trello's REST API (``pmhub webhooks``).

One webhook per board (``POST /1/webhooks`` with ``callbackURL`` and ``idModel``, the board's
full id: a scope may be its short link). Trello answers the registration only after a ``HEAD`` to
the callback returns 200, so ``pmhub serve`` must be reachable first. Trello signs deliveries with
the app secret of the API key, which is what the connection's ``webhook_secret`` holds: nothing
secret is sent here. A webhook already on the board with the URL is updated (``PUT
/1/webhooks/{id}``, active again) rather than refused as a duplicate. ``list`` shows Trello's
``consecutiveFailures`` and ``firstConsecutiveFailDate``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from hub.connector import WebhookRegistration
from hub.errors import ConnectorError

if TYPE_CHECKING:
    from .connector import TrelloConnector


def install(connector: TrelloConnector, scopes: Sequence[str], url: str,
            secret: str) -> list[WebhookRegistration]:
    existing = _all(connector)
    done = []
    for scope in scopes:
        board = _board_id(connector, scope)
        ours = [hook for hook in existing if hook.get("idModel") == board and hook.get("callbackURL") == url]
        description = f"pmhub {connector.name}"
        if ours:
            hook = connector._call("PUT", f"/webhooks/{ours[0]['id']}", active="true",
                                   description=description)
            action = "updated"
            for extra in ours[1:]:
                connector._call("DELETE", f"/webhooks/{extra['id']}")
        else:
            hook = connector._call("POST", "/webhooks", callbackURL=url, idModel=board,
                                   description=description)
            action = "created"
        done.append(_registration(scope, hook, action))
    return done


def listed(connector: TrelloConnector, scopes: Sequence[str], url: str | None) -> list[WebhookRegistration]:
    boards = {_board_id(connector, scope): scope for scope in scopes}
    return [_registration(boards[hook["idModel"]], hook, "") for hook in _all(connector)
            if hook.get("idModel") in boards and (url is None or hook.get("callbackURL") == url)]


def remove(connector: TrelloConnector, scopes: Sequence[str], url: str) -> list[WebhookRegistration]:
    boards = {_board_id(connector, scope): scope for scope in scopes}
    removed = []
    for hook in _all(connector):
        if hook.get("idModel") in boards and hook.get("callbackURL") == url:
            connector._call("DELETE", f"/webhooks/{hook['id']}")
            removed.append(_registration(boards[hook["idModel"]], hook, "removed"))
    return removed


def _board_id(connector: TrelloConnector, scope: str) -> str:
    return str(connector._call("GET", f"/boards/{scope}", fields="id")["id"])


def _all(connector: TrelloConnector) -> list[dict[str, Any]]:
    """The webhooks of the connection's token: Trello lists them only by token, in the path."""
    token = connector.settings.token.get_secret_value()
    try:
        reply = connector._call("GET", f"/tokens/{token}/webhooks")
    except ConnectorError as error:
        # The path carries the token, and the connector's errors quote the path.
        error.args = tuple(str(arg).replace(token, "<token>") for arg in error.args)
        raise
    return [hook for hook in reply if isinstance(hook, dict)] if isinstance(reply, list) else []


def _registration(scope: str, hook: dict[str, Any], action: str) -> WebhookRegistration:
    failures = hook.get("consecutiveFailures") or 0
    since = hook.get("firstConsecutiveFailDate")
    told = "no failures" if not failures else f"{failures:g} failures in a row since {since}"
    return WebhookRegistration(scope=scope, url=str(hook.get("callbackURL")), id=str(hook.get("id")),
                               action=action, active=bool(hook.get("active", True)), last_delivery=told)
