"""Trello custom fields on cards, by the field's name on the board.

Definitions belong to the board (``GET /1/boards/{id}/customFields``: name, type, a list field's
options) and are read at most once per board per run, and only when needed: a card read carries
custom field items, a value is written, or ``pmhub check`` asks. A card's values come with the
card (``customFieldItems``), so a board without custom values costs no extra call.

Values: numbers and dates travel as strings on Trello's wire and as a number and ``YYYY-MM-DD``
in pmhub; a date is written at 12:00 UTC so it is the same day in every time zone a board shows
it in; a list field's value is its option's text (written by option id); a checkbox is "true" or
"false". Trello has no multi-select and no user fields.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from hub.errors import PermanentError
from hub.model import Issue

if TYPE_CHECKING:
    from .connector import TrelloConnector

#: Which Trello field types can hold a value of each declared type.
_COMPATIBLE: Mapping[str, set[str]] = {"string": {"text", "list", "checkbox"}, "number": {"number"},
                                       "date": {"date"}, "option": {"list"}}


class TrelloCustomFields:
    def __init__(self, connector: TrelloConnector) -> None:
        self.connector = connector
        self._defs: dict[str, list[dict[str, Any]]] = {}

    def definitions(self, board: str, *, refresh: bool = False) -> list[dict[str, Any]]:
        if refresh or board not in self._defs:
            self._defs[board] = list(self.connector._call("GET", f"/boards/{board}/customFields"))
        return self._defs[board]

    def _by_name(self, board: str, name: str) -> dict[str, Any] | None:
        found = next((d for d in self.definitions(board) if _name(d) == name), None)
        if found is None:  # added since this run read the board's definitions?
            found = next((d for d in self.definitions(board, refresh=True) if _name(d) == name), None)
        return found

    # -- reading -------------------------------------------------------------------------------
    def read(self, board: str, card: Mapping[str, Any]) -> dict[str, Any]:
        """The card's custom values by field name."""
        items = card.get("customFieldItems") or []
        if not items:
            return {}
        defs = {d["id"]: d for d in self.definitions(board)}
        if any(i.get("idCustomField") not in defs for i in items):
            defs = {d["id"]: d for d in self.definitions(board, refresh=True)}
        out: dict[str, Any] = {}
        for item in items:
            definition = defs.get(item.get("idCustomField"))
            if definition is not None:
                out[_name(definition)] = _plain(definition, item)
        return out

    # -- writing -------------------------------------------------------------------------------
    def planned(self, board: str, card: Mapping[str, Any], issue: Issue) -> list[tuple[str, dict[str, Any]]]:
        """(field id, item body) for each of the card's custom values that differ from
        ``issue.custom``. An unknown field or option is a PermanentError (the record is parked
        with the reason), raised before anything is written: a create checks first."""
        current = self.read(board, card) if card.get("customFieldItems") else {}
        wanted = []
        for name, value in issue.custom.items():
            definition = self._by_name(board, name)
            if definition is None:
                raise PermanentError(f"the Trello board has no custom field {name!r} (see pmhub check)",
                                     status=None)
            if _same(definition, current.get(name), value):
                continue
            wanted.append((str(definition["id"]), _payload(definition, name, value)))
        return wanted

    def send(self, card_id: str, planned: list[tuple[str, dict[str, Any]]]) -> bool:
        """Write the planned items, one call each (Trello sets one field per request)."""
        for field_id, body in planned:
            self.connector._call("PUT", f"/cards/{card_id}/customField/{field_id}/item", json_body=body)
        return bool(planned)

    def check(self, board: str, wanted: Mapping[str, str]) -> list[str]:
        problems = []
        for name, kind in wanted.items():
            definition = self._by_name(board, name)
            if definition is None:
                names = ", ".join(repr(_name(d)) for d in self.definitions(board)) or "none"
                problems.append(f"the Trello board has no custom field {name!r} (it has: {names})")
            elif definition.get("type") not in _COMPATIBLE.get(kind, set()):
                problems.append(f"Trello's custom field {name!r} is a {definition.get('type')} field, "
                                f"which cannot hold a {kind}")
        return problems


def _name(definition: Mapping[str, Any]) -> str:
    return str(definition.get("name") or (definition.get("display") or {}).get("name") or "")


def _options(definition: Mapping[str, Any]) -> dict[str, str]:
    """Option id -> its text."""
    return {str(o.get("id")): str((o.get("value") or {}).get("text", ""))
            for o in definition.get("options") or []}


def _plain(definition: Mapping[str, Any], item: Mapping[str, Any]) -> Any:
    if definition.get("type") == "list":
        return _options(definition).get(str(item.get("idValue")))
    value = item.get("value") or {}
    for key in ("number", "date", "text", "checked"):
        if key in value:
            text = value[key]
            return str(text)[:10] if key == "date" and text else text
    return None


def _same(definition: Mapping[str, Any], current: Any, value: Any) -> bool:
    if current is None or value is None:
        return current is None and value is None
    if definition.get("type") == "number":
        try:
            return float(current) == float(value)
        except (TypeError, ValueError):
            return False
    if definition.get("type") == "date":
        return str(current)[:10] == str(value)[:10]
    return str(current) == str(value)


def _payload(definition: Mapping[str, Any], name: str, value: Any) -> dict[str, Any]:
    kind = definition.get("type")
    if kind == "list":
        if value is None:
            return {"idValue": ""}
        option = next((oid for oid, text in _options(definition).items() if text == str(value)), None)
        if option is None:
            choices = ", ".join(repr(t) for t in _options(definition).values())
            raise PermanentError(f"Trello's custom field {name!r} has no option {value!r} "
                                 f"(options: {choices})", status=None)
        return {"idValue": option}
    if value is None:
        return {"value": ""}
    if kind == "date":
        return {"value": {"date": f"{str(value)[:10]}T12:00:00.000Z"}}
    if kind == "number":
        number = float(value)
        return {"value": {"number": str(int(number)) if number.is_integer() else str(number)}}
    if kind == "checkbox":
        return {"value": {"checked": "true" if str(value).lower() in ("true", "1", "yes") else "false"}}
    return {"value": {"text": str(value)}}
