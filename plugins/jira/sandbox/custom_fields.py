"""The Jira stand-in's custom fields and time tracking, in Jira Cloud's wire format.

A Jira Cloud site comes with some custom fields (Start date, Story Points); the stand-in adds a
single-select "Customer Tier", a multi-select "Platforms" and a text "Release notes" so each
value shape can be exercised. Values are stored as Jira sends them back (``IssueRecord.custom``,
by field id); ``timetracking`` is a system field and stored the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

_TYPES = "com.atlassian.jira.plugin.system.customfieldtypes"


@dataclass(frozen=True)
class CustomFieldDef:
    id: str
    name: str
    #: schema.type and schema.custom as Jira reports them.
    type: str
    custom: str
    items: str | None = None
    options: tuple[tuple[str, str], ...] = ()  # (option id, value)


CUSTOM_FIELDS: tuple[CustomFieldDef, ...] = (
    CustomFieldDef("customfield_10015", "Start date", "date", f"{_TYPES}:datepicker"),
    CustomFieldDef("customfield_10016", "Story Points", "number", f"{_TYPES}:float"),
    CustomFieldDef("customfield_10020", "Customer Tier", "option", f"{_TYPES}:select",
                   options=(("10100", "Gold"), ("10101", "Silver"), ("10102", "Bronze"))),
    CustomFieldDef("customfield_10021", "Platforms", "array", f"{_TYPES}:multiselect", items="option",
                   options=(("10110", "Web"), ("10111", "iOS"), ("10112", "Android"))),
    CustomFieldDef("customfield_10022", "Release notes", "string", f"{_TYPES}:textfield"),
    CustomFieldDef("customfield_10023", "Target launch", "date", f"{_TYPES}:datepicker"),
)
BY_ID = {f.id: f for f in CUSTOM_FIELDS}
FIELD_IDS: tuple[str, ...] = (*BY_ID, "timetracking")


def field_list() -> list[dict[str, Any]]:
    """The custom entries of ``GET /rest/api/2/field`` (and time tracking, a system field)."""
    entries: list[dict[str, Any]] = []
    for f in CUSTOM_FIELDS:
        schema: dict[str, Any] = {"type": f.type, "custom": f.custom, "customId": int(f.id.split("_")[1])}
        if f.items:
            schema["items"] = f.items
        entries.append({"id": f.id, "key": f.id, "name": f.name,
                        "custom": True, "orderable": True, "navigable": True, "searchable": True,
                        "clauseNames": [f"cf[{f.id.split('_')[1]}]", f.name], "schema": schema})
    entries.append({"id": "timetracking", "key": "timetracking", "name": "Time tracking", "custom": False,
                    "orderable": True, "navigable": True, "searchable": False, "clauseNames": [],
                    "schema": {"type": "timetracking", "system": "timetracking"}})
    return entries


def view(stored: Any, api: str) -> Any:
    """A stored value on the wire: options carry their ``self`` link, as Jira's do."""
    if isinstance(stored, list):
        return [view(item, api) for item in stored]
    if isinstance(stored, dict) and "value" in stored and "id" in stored:
        return {"self": f"{api}/customFieldOption/{stored['id']}", **stored}
    return stored


def check(name: str, value: Any, errors: dict[str, str]) -> Any:
    """A value sent for a custom field (or time tracking) -> the stored value; errors as Jira words them."""
    if name == "timetracking":
        return _timetracking(value, errors)
    f = BY_ID[name]
    if value is None:
        return None
    if f.type == "number":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            errors[name] = "Operation value must be a number"
            return None
        return float(value)
    if f.type == "date":
        import datetime as dt

        try:
            return dt.date.fromisoformat(str(value)).isoformat()
        except ValueError:
            errors[name] = "Error parsing date string: " + str(value)
            return None
    if f.type == "string":
        if not isinstance(value, str):
            errors[name] = "Operation value must be a string"
            return None
        return value
    chosen = value if isinstance(value, list) else [value]
    if f.type == "option" and isinstance(value, list):
        errors[name] = "Operation value must be an object"
        return None
    out = []
    for ref in chosen:
        wanted = ref if isinstance(ref, dict) else {}
        match = next(((i, v) for i, v in f.options
                      if str(wanted.get("id")) == i or wanted.get("value") == v), None)
        if match is None:
            errors[name] = f"Option value '{wanted.get('value', wanted.get('id'))}' is not valid"
            return None
        out.append({"value": match[1], "id": match[0]})
    return out if f.type == "array" else out[0]


def _timetracking(value: Any, errors: dict[str, str]) -> Any:
    if value is None:
        return None
    text = value.get("originalEstimate") if isinstance(value, dict) else None
    seconds = _duration(text) if isinstance(text, str) else None
    if seconds is None:
        errors["timetracking"] = "The original estimate specified is not valid."
        return None
    spelled = _spelled(seconds)
    return {"originalEstimate": spelled, "remainingEstimate": spelled,
            "originalEstimateSeconds": seconds, "remainingEstimateSeconds": seconds}


#: Jira's default working time: a day is 8 hours, a week 5 days.
_UNITS = {"w": 5 * 8 * 3600, "d": 8 * 3600, "h": 3600, "m": 60}


def _duration(text: str) -> int | None:
    total = 0
    parts = text.split()
    if not parts:
        return None
    for part in parts:
        unit, amount = part[-1:], part[:-1]
        try:
            total += round(float(amount) * _UNITS[unit])
        except (KeyError, ValueError):
            return None
    return total


def _spelled(seconds: int) -> str:
    parts = []
    for unit, size in _UNITS.items():
        if seconds >= size:
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
    return " ".join(parts) or "0m"
