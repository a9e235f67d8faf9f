"""Custom fields of the Trello stand-in: board definitions and card items, in Trello's wire format.

Definitions live on a board (``POST /1/customFields`` with ``idModel`` and ``modelType=board``,
``GET /1/boards/{id}/customFields``); a card's values are items (``GET /1/cards/{id}/customFieldItems``,
or ``customFieldItems=true`` on a card read, ``card_customFieldItems=true`` on nested cards), set one
field at a time with ``PUT /1/cards/{idCard}/customField/{idCustomField}/item``: ``{"value":
{"number": "3"}}`` (text, number, date, checked) or ``{"idValue": "<option id>"}`` for a list field;
an empty value or idValue clears it. Values travel as strings, as Trello sends them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from werkzeug.wrappers import Response

from hub.sandbox.service import BadPayload, Call, json_response, route

from .state import ID_RE, Board, Card

FIELD_TYPES = ("text", "number", "date", "checkbox", "list")


@dataclass
class CustomFieldDef:
    id: str
    board: str
    name: str
    type: str
    pos: float
    #: (option id, text, color) of a list field.
    options: list[tuple[str, str, str | None]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "idModel": self.board, "modelType": "board",
                               "fieldGroup": self.id, "display": {"cardFront": True},
                               "name": self.name, "pos": self.pos, "type": self.type,
                               "isSuggestedField": False}
        if self.type == "list":
            out["options"] = [{"id": oid, "idCustomField": self.id, "value": {"text": text},
                               "color": color or "none", "pos": 16384 * (i + 1)}
                              for i, (oid, text, color) in enumerate(self.options)]
        return out


class TrelloCustomFields:
    """Routes and state for custom fields; mixed into ``TrelloSandbox``."""

    # Provided by TrelloSandbox.
    boards: dict[str, Board]
    cards: dict[str, Card]
    _ids: Any

    def reset_custom_fields(self) -> None:
        self.custom_defs: dict[str, CustomFieldDef] = {}
        #: card id -> custom field id -> the item's value part ({"value": {...}} or {"idValue": ...}).
        self.custom_items: dict[str, dict[str, dict[str, Any]]] = {}

    def card_items(self, card: Card) -> list[dict[str, Any]]:
        items = self.custom_items.get(card.id, {})
        return [{"id": f"{field_id[:12]}{card.id[12:]}", **value, "idCustomField": field_id,
                 "idModel": card.id, "modelType": "card"}
                for field_id, value in items.items() if field_id in self.custom_defs]

    # -- definitions ---------------------------------------------------------------------------
    @route("/1/customFields", methods=("POST",))
    def create_custom_field(self, call: Call) -> Response:
        body = call.form_or_json()
        board_ref = str(body.get("idModel") or "")
        known = ID_RE.match(board_ref) is not None and board_ref.lower() in self.boards
        if body.get("modelType") != "board" or not known:
            raise BadPayload(400, "invalid value for idModel")
        kind = body.get("type")
        if kind not in FIELD_TYPES:
            raise BadPayload(400, "invalid value for type")
        name = str(body.get("name") or "").strip()
        if not name:
            raise BadPayload(400, "invalid value for name")
        at = self.now()  # type: ignore[attr-defined]
        definition = CustomFieldDef(id=self._ids.new(at), board=board_ref.lower(), name=name, type=str(kind),
                                    pos=float(len(self.custom_defs) + 1) * 16384)
        for option in body.get("options") or []:
            text = ((option or {}).get("value") or {}).get("text")
            if isinstance(text, str) and text:
                definition.options.append((self._ids.new(at), text, (option or {}).get("color")))
        self.custom_defs[definition.id] = definition
        return json_response(definition.to_json())

    @route("/1/customFields/<field_id>/options", methods=("POST",))
    def add_custom_field_option(self, call: Call, field_id: str) -> Response:
        definition = self.custom_defs.get(field_id.lower())
        if definition is None:
            raise BadPayload(404, "Could not find the custom field")
        text = ((call.form_or_json().get("value") or {}).get("text"))
        if definition.type != "list" or not isinstance(text, str) or not text:
            raise BadPayload(400, "invalid value for value")
        option_id = self._ids.new(self.now())  # type: ignore[attr-defined]
        definition.options.append((option_id, text, None))
        return json_response({"id": option_id, "idCustomField": definition.id, "value": {"text": text},
                              "color": "none", "pos": 16384 * len(definition.options)})

    @route("/1/boards/<ref>/customFields")
    def board_custom_fields(self, call: Call, ref: str) -> Response:
        board = self.board(ref)  # type: ignore[attr-defined]
        return json_response([d.to_json() for d in sorted(self.custom_defs.values(), key=lambda d: d.pos)
                              if d.board == board.id])

    # -- card items ----------------------------------------------------------------------------
    @route("/1/cards/<ref>/customFieldItems")
    def card_custom_field_items(self, call: Call, ref: str) -> Response:
        return json_response(self.card_items(self.card(ref)))  # type: ignore[attr-defined]

    @route("/1/cards/<ref>/customField/<field_id>/item", methods=("PUT",))
    def set_custom_field_item(self, call: Call, ref: str, field_id: str) -> Response:
        card: Card = self.card(ref)  # type: ignore[attr-defined]
        definition = self.custom_defs.get(field_id.lower())
        if definition is None or definition.board != card.board:
            raise BadPayload(404, "Could not find the custom field")
        body = call.form_or_json()
        stored = self._item_value(definition, body)
        items = self.custom_items.setdefault(card.id, {})
        before = items.get(definition.id)
        if stored is None:
            items.pop(definition.id, None)
        else:
            items[definition.id] = stored
        if before != stored:
            at = self._stamp()  # type: ignore[attr-defined]
            card.last_activity = at
            self._log("updateCustomFieldItem", self.boards[card.board], {  # type: ignore[attr-defined]
                "card": card.ref(), "customField": {"id": definition.id, "name": definition.name,
                                                    "type": definition.type},
                "customFieldItem": {"idCustomField": definition.id, "idModel": card.id,
                                    "modelType": "card", **(stored or {"value": None})},
                "old": before or {"value": None}}, at, card=card)
        item = next((i for i in self.card_items(card) if i["idCustomField"] == definition.id),
                    {"id": None, "value": None, "idCustomField": definition.id, "idModel": card.id,
                     "modelType": "card"})
        return json_response(item)

    @staticmethod
    def _item_value(definition: CustomFieldDef, body: dict[str, Any]) -> dict[str, Any] | None:
        """The stored value part of an item; None clears it. Raises 400 for a value of the wrong kind."""
        if definition.type == "list":
            if "idValue" not in body:
                raise BadPayload(400, "invalid value for idValue")
            chosen = body.get("idValue")
            if chosen in (None, ""):
                return None
            if not any(oid == str(chosen) for oid, _text, _color in definition.options):
                raise BadPayload(400, "invalid value for idValue")
            return {"idValue": str(chosen)}
        value = body.get("value")
        if value in (None, ""):
            return None
        key = {"checkbox": "checked"}.get(definition.type, definition.type)
        if not isinstance(value, dict) or set(value) != {key}:
            raise BadPayload(400, "Invalid custom field item value.")
        text = str(value[key])
        if definition.type == "number":
            try:
                float(text)
            except ValueError:
                raise BadPayload(400, "Invalid custom field item value.") from None
        return {"value": {key: text}}
