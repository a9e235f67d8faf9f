"""Jira custom fields, the start date and the original estimate of an issue.

Jira names custom fields by id (``customfield_10016``); people and mappings name them by their
display name ("Story Points"). ``GET /rest/api/2/field`` lists both with each field's schema, and
is read at most once per connection's life, and only when needed: when an issue read carries a
custom value, when one is written, or when ``pmhub check`` asks. Issue reads ask for
``*navigable`` fields, which bring every custom field's value in the same search, so a project
without custom values costs no call at all.

* Values travel by schema: numbers as numbers, dates as ``YYYY-MM-DD``, a single select as
  ``{"value": "Gold"}``, a multi-select as a list of those, a user picker by accountId.
* The start date is Jira Cloud's custom field "Start date" (a date picker), found by name.
* The estimate (hours) is ``timetracking.originalEstimate``: Jira spells it as "3h 30m" and counts
  in its own working time (8-hour days), so whole hours and minutes are sent, never days.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from hub.custom_fields import touches_custom
from hub.errors import PermanentError
from hub.model import Issue

if TYPE_CHECKING:
    from .connector import JiraConnector

START_DATE_NAME = "Start date"
#: What a mapping's declared type needs of a Jira field's schema (type, items).
_COMPATIBLE: Mapping[str, set[tuple[str, str | None]]] = {
    "string": {("string", None)},
    "number": {("number", None)},
    "date": {("date", None), ("datetime", None)},
    "option": {("option", None), ("string", None)},
    "options": {("array", "option"), ("array", "string")},
    "user": {("user", None)},
}


class JiraCustomFields:
    """One connection's view of its site's fields (loaded lazily, kept for the connection's life)."""

    def __init__(self, connector: JiraConnector) -> None:
        self.connector = connector
        self._fields: list[dict[str, Any]] | None = None

    def _all(self) -> list[dict[str, Any]]:
        if self._fields is None:
            self._fields = list(self.connector._call("GET", "field", operation="get"))
        return self._fields

    def find(self, name: str) -> dict[str, Any] | None:
        """A field by id or by display name (ids win; names compare without case)."""
        fields = self._all()
        by_id = next((f for f in fields if f.get("id") == name), None)
        if by_id is not None:
            return by_id
        return next((f for f in fields if f.get("custom") and str(f.get("name", "")).lower() == name.lower()),
                    None)

    # -- reading -----------------------------------------------------------------------------
    def read(self, fields: Mapping[str, Any]) -> tuple[dict[str, Any], dt.date | None, float | None]:
        """An issue's custom values (by display name and by id), start date and estimate."""
        estimate = None
        tracking = fields.get("timetracking") or {}
        if tracking.get("originalEstimateSeconds") is not None:
            estimate = round(float(tracking["originalEstimateSeconds"]) / 3600, 4)
        present = {k: v for k, v in fields.items()
                   if k.startswith("customfield_") and v not in (None, [], "")}
        if not present:
            return {}, None, estimate
        custom: dict[str, Any] = {}
        start = None
        for field_id, value in present.items():
            info = self.find(field_id) or {"id": field_id, "name": field_id, "schema": {}}
            plain = _plain(value, self.connector.name)
            custom[field_id] = plain
            custom[str(info.get("name"))] = plain
            if str(info.get("name", "")).lower() == START_DATE_NAME.lower() and isinstance(plain, str):
                try:
                    start = dt.date.fromisoformat(plain[:10])
                except ValueError:
                    start = None
        return custom, start, estimate

    # -- writing -----------------------------------------------------------------------------
    def write(self, issue: Issue, changed: frozenset[str] | None) -> dict[str, Any]:
        """The Jira fields for the issue's start date, estimate and custom values (all on create,
        else the changed ones); PermanentError names a field this site does not have."""
        def wanted(name: str) -> bool:
            return changed is None or name in changed

        out: dict[str, Any] = {}
        if wanted("start_date") and (changed is not None or issue.start_date):
            found = self.find(START_DATE_NAME)
            if found is not None:
                out[found["id"]] = issue.start_date.isoformat() if issue.start_date else None
        if wanted("estimate") and (changed is not None or issue.estimate is not None):
            out["timetracking"] = ({"originalEstimate": _spelled_hours(issue.estimate)}
                                   if issue.estimate is not None else None)
        if changed is None or touches_custom(changed):
            for name, value in issue.custom.items():
                if changed is None and value is None:
                    continue
                found = self.find(name)
                if found is None:
                    raise PermanentError(f"Jira has no field {name!r} (see pmhub check)", status=None)
                out[found["id"]] = _wire(value, found.get("schema") or {}, self.connector.name)
        return out

    # -- checking ----------------------------------------------------------------------------
    def check(self, wanted: Mapping[str, str]) -> list[str]:
        problems = []
        for name, kind in wanted.items():
            found = self.find(name)
            if found is None:
                problems.append(f"Jira has no field {name!r} (fields are named by their display name "
                                "or id, as GET /rest/api/2/field lists them)")
                continue
            schema = found.get("schema") or {}
            shape = (str(schema.get("type")), schema.get("items"))
            allowed = _COMPATIBLE.get(kind, set())
            if shape not in allowed and (shape[0], None) not in allowed:
                problems.append(f"Jira's field {name!r} holds {shape[0]}"
                                f"{' of ' + str(shape[1]) if shape[1] else ''}, not a {kind}")
        return problems


def _plain(value: Any, connection: str) -> Any:
    """A Jira value as plain JSON: an option's value, a user as a person, lists of those."""
    if isinstance(value, list):
        return [_plain(v, connection) for v in value]
    if isinstance(value, dict):
        if "accountId" in value:
            return {"display_name": value.get("displayName"), "email": value.get("emailAddress") or None,
                    "handles": {connection: value["accountId"]}}
        return value.get("value", value.get("name"))
    return value


def _wire(value: Any, schema: Mapping[str, Any], connection: str) -> Any:
    kind = schema.get("type")
    if value is None:
        return [] if kind == "array" else None
    if kind == "number":
        return float(value)
    if kind == "option":
        return {"value": str(value)}
    if kind == "array":
        items = value if isinstance(value, list) else [value]
        if schema.get("items") == "option":
            return [{"value": str(v)} for v in items]
        return [str(v) for v in items]
    if kind == "user":
        handles = value.get("handles") or {} if isinstance(value, dict) else {}
        account = handles.get(connection)
        return {"accountId": account} if account else None
    return value if kind in ("date", "datetime") else str(value)


def _spelled_hours(hours: float) -> str:
    minutes = round(hours * 60)
    whole, rest = divmod(minutes, 60)
    return " ".join(p for p in (f"{whole}h" if whole else "", f"{rest}m" if rest else "") if p) or "0m"
