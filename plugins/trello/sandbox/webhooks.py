"""Webhooks of the Trello stand-in: Trello's webhook routes and a delivery for every action.

Routes, as in Trello's description (``shared/oracles/trello``): ``POST /1/webhooks`` and
``POST /1/tokens/{token}/webhooks`` (``callbackURL``, ``idModel``, ``description``, ``active``),
``GET /1/tokens/{token}/webhooks``, ``GET|PUT|DELETE /1/webhooks/{id}``. Creating one first sends
``HEAD callbackURL``, which must answer 200 (a callback off this machine is accepted unchecked:
the sandbox contacts loopback URLs only); one webhook per callback, model and token. Each action
on the model (a board, list or card) is then POSTed to the callback as Trello does:
``{"action", "model", "webhook"}``, with ``X-Trello-Webhook`` = base64 HMAC-SHA1 of the body followed
by the callback URL, keyed with the app secret. A webhook keeps ``consecutiveFailures`` and
``firstConsecutiveFailDate`` from the receiver's answers.

Sandbox control: ``POST /_sandbox/trello/app-secret`` ``{"secret": "..."}`` sets the app secret
deliveries are signed with (Trello's is the API key's OAuth secret); ``GET`` shows whether one is
set. Until set it is ``DEFAULT_APP_SECRET``.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any

from werkzeug.wrappers import Request, Response

from hub.sandbox.deliveries import Delivery, is_loopback
from hub.sandbox.service import BadPayload, Call, SandboxService, json_response, route

from .state import ID_RE, Action, Board, Card, Member, iso

DEFAULT_APP_SECRET = "sandbox-app-secret"


@dataclass
class Webhook:
    id: str
    token: str
    callback: str
    model: str
    description: str
    active: bool = True
    consecutive_failures: int = 0
    first_failure: dt.datetime | None = None

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "description": self.description, "idModel": self.model,
                "callbackURL": self.callback, "active": self.active,
                "consecutiveFailures": self.consecutive_failures,
                "firstConsecutiveFailDate": iso(self.first_failure) if self.first_failure else None}

    def note(self, status: int | None, reason: str) -> None:
        if status is not None and 200 <= status < 300:
            self.consecutive_failures, self.first_failure = 0, None
            return
        self.consecutive_failures += 1
        self.first_failure = self.first_failure or dt.datetime.now(dt.UTC)


class TrelloWebhooks(SandboxService):
    """Webhook routes and deliveries; ``TrelloSandbox`` subclasses this."""

    # Provided by TrelloSandbox.
    boards: dict[str, Board]
    cards: dict[str, Card]
    lists: dict[str, Any]
    members: dict[str, Member]
    _ids: Any

    def reset_webhooks(self) -> None:
        self.webhooks: dict[str, Webhook] = {}
        if not hasattr(self, "app_secret"):
            self.app_secret = DEFAULT_APP_SECRET

    def control(self, name: str, request: Request) -> Response | None:
        if name != "app-secret":
            return super().control(name, request)
        if request.method == "POST":
            body = request.get_json(silent=True)
            secret = body.get("secret") if isinstance(body, dict) else None
            if not isinstance(secret, str) or not secret:
                return json_response({"error": "give {\"secret\": \"...\"}"}, 400)
            self.app_secret = secret
            return json_response({"app_secret": "set"}, 201)
        return json_response({"app_secret": "set" if self.app_secret != DEFAULT_APP_SECRET
                              else "default"})

    # -- routes ----------------------------------------------------------------------------
    @route("/1/webhooks", methods=("POST",))
    def webhook_create(self, call: Call) -> Response:
        return self._create_webhook(call, self._credentials(call)[1] or "")

    @route("/1/tokens/<token>/webhooks", methods=("POST",))
    def token_webhook_create(self, call: Call, token: str) -> Response:
        return self._create_webhook(call, token)

    @route("/1/tokens/<token>/webhooks")
    def token_webhooks(self, call: Call, token: str) -> Response:
        return json_response([w.to_json() for w in self.webhooks.values() if w.token == token])

    @route("/1/webhooks/<webhook_id>", methods=("GET", "PUT", "DELETE"))
    def webhook_one(self, call: Call, webhook_id: str) -> Response:
        hook = self.webhooks.get(webhook_id)
        if hook is None:
            if not ID_RE.match(webhook_id):
                raise BadPayload(400, "invalid id")
            raise BadPayload(404, "The requested resource was not found.")
        if call.request.method == "DELETE":
            del self.webhooks[webhook_id]
            return json_response({"_value": None})
        if call.request.method == "PUT":
            values = self.params(call)
            if "idModel" in values:
                hook.model = self._model_id(values["idModel"])
            if "callbackURL" in values:
                hook.callback = self._checked_callback(values["callbackURL"])
            if "description" in values:
                hook.description = str(values["description"])
            if "active" in values:
                hook.active = str(values["active"]).lower() in ("true", "1")
        return json_response(hook.to_json())

    def _create_webhook(self, call: Call, token: str) -> Response:
        values = self.params(call)
        model = self._model_id(values.get("idModel"))
        callback = values.get("callbackURL")
        if not isinstance(callback, str) or not callback:
            raise BadPayload(400, "invalid value for callbackURL")
        if any(w.callback == callback and w.model == model and w.token == token
               for w in self.webhooks.values()):
            raise BadPayload(400, "A webhook with that callback, model, and token already exists")
        hook = Webhook(self._ids.new(self.now()), token, self._checked_callback(callback), model,
                       str(values.get("description") or ""),
                       active=str(values.get("active", "true")).lower() in ("true", "1"))
        self.webhooks[hook.id] = hook
        return json_response(hook.to_json())

    def _model_id(self, ref: Any) -> str:
        text = str(ref or "")
        if not ID_RE.match(text):
            raise BadPayload(400, "invalid value for idModel")
        if not any(text in table for table in (self.boards, self.cards, self.lists, self.members)):
            raise BadPayload(400, "invalid value for idModel")
        return text

    @staticmethod
    def _checked_callback(url: Any) -> str:
        """Trello's registration check: ``HEAD callbackURL`` must answer 200."""
        import requests

        text = str(url or "")
        if not text.startswith(("http://", "https://")):
            raise BadPayload(400, "invalid value for callbackURL")
        if is_loopback(text):
            try:
                status = requests.head(text, timeout=10).status_code
            except requests.RequestException:
                status = None
            if status != 200:
                raise BadPayload(400, f"URL ({text}) did not return 200 status code, got {status}")
        return text

    # -- deliveries ------------------------------------------------------------------------
    def action_event(self, action: Action) -> None:
        """Deliver ``action`` to every active webhook on its board, list or card."""
        if not self.webhooks:
            return
        about = {action.board, action.card, action.list_id}
        for hook in list(self.webhooks.values()):
            if not hook.active or hook.model not in about:
                continue
            payload = {"action": action.to_json(self.members.get(action.creator)),
                       "model": self._model_json(hook.model), "webhook": hook.to_json()}
            body = json.dumps(payload, separators=(",", ":")).encode()
            headers = {"Content-Type": "application/json", "User-Agent": "Trello-Webhook/sandbox",
                       "X-Trello-Webhook": trello_signature(self.app_secret, body, hook.callback)}
            forged = {**headers, "X-Trello-Webhook": trello_signature(self.app_secret + "-forged", body,
                                                                      hook.callback)}
            self.deliver(Delivery(self.name, action.type, hook.callback, body, headers,
                                  forged_headers=forged, on_result=hook.note))

    def _model_json(self, model: str) -> dict[str, Any]:
        if model in self.boards:
            return self.boards[model].to_json()
        if model in self.cards:
            return self._card_json(self.cards[model])
        if model in self.lists:
            return dict(self.lists[model].to_json())
        return self.members[model].brief() if model in self.members else {"id": model}

    # Provided by TrelloSandbox.
    @staticmethod
    def _credentials(call: Call) -> tuple[str | None, str | None]:
        raise NotImplementedError

    def _card_json(self, card: Card, call: Call | None = None) -> dict[str, Any]:
        raise NotImplementedError

    @staticmethod
    def now() -> dt.datetime:
        raise NotImplementedError

    @staticmethod
    def params(call: Call) -> dict[str, Any]:
        raise NotImplementedError


def trello_signature(secret: str, body: bytes, callback: str) -> str:
    """``X-Trello-Webhook``: base64 of HMAC-SHA1(app secret, body followed by the callback URL)."""
    digest = hmac.new(secret.encode(), body + callback.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()
