"""Custom fields in a mapping: a team's own fields (story points, a customer tier) that each tool
keeps under its own name, declared as ``[RECORD.custom.NAME]`` tables.

They travel without the engine knowing: inbound, the mapping copies the side's value out of the
record's ``custom`` dict (keyed by the tool's field name) into a synced field named
``custom.NAME``, typed and normalised, so the engine's field-level merge, echo fingerprints and
conflicts work per custom field; outbound, it puts the synced value back into ``custom`` under the
other tool's field name, where that tool's connector writes it.

A declaration whose NAME is a canonical field of the record (``start_date``, ``due_date``,
``estimate``) says instead where a side keeps that canonical field when the tool has no place of
its own for it (a Trello board's "Estimate (h)" number field); a side it leaves out keeps the
field where its connector always does (Jira's original estimate).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, get_args

from hub.errors import ConfigError

FieldType = Literal["string", "number", "date", "option", "options", "user"]
FIELD_TYPES: tuple[str, ...] = get_args(FieldType)
#: Canonical fields a custom declaration may place in a tool's custom field, and their type.
CANONICAL_PLACEABLE: Mapping[str, FieldType] = {"start_date": "date", "due_date": "date",
                                                 "estimate": "number"}
PREFIX = "custom."


@dataclass(frozen=True)
class CustomField:
    """One declared field: its canonical name, its type, and its name in each side's tool."""

    name: str
    type: FieldType
    sides: Mapping[str, str]

    @property
    def synced_name(self) -> str:
        """The field the engine syncs: the canonical field itself, or ``custom.NAME``."""
        return self.name if self.name in CANONICAL_PLACEABLE else PREFIX + self.name


def parse_custom(record_type: str, table: Any, file: str) -> tuple[CustomField, ...]:
    """``[RECORD.custom.*]`` -> the declarations, refusing what could not sync."""
    where = f"{record_type}.custom"
    if record_type != "issue":
        raise ConfigError("custom fields are declared on issues only", file=file, key=where)
    if not isinstance(table, dict):
        raise ConfigError("must be a table of custom fields ([issue.custom.NAME])", file=file, key=where)
    out = []
    for name, spec in table.items():
        here = f"{where}.{name}"
        if not isinstance(spec, dict):
            raise ConfigError("must be a table (type, a, b)", file=file, key=here)
        unknown = set(spec) - {"type", "a", "b"}
        if unknown:
            raise ConfigError(f"unknown key(s) {sorted(unknown)} (type, a, b)", file=file, key=here)
        kind = spec.get("type", CANONICAL_PLACEABLE.get(name))
        if kind not in FIELD_TYPES:
            raise ConfigError(f"type must be one of {', '.join(FIELD_TYPES)}", file=file, key=f"{here}.type")
        placed = CANONICAL_PLACEABLE.get(name)
        if placed is not None and kind != placed:
            raise ConfigError(f"{name} is a {placed} (a canonical field)", file=file, key=f"{here}.type")
        sides = {}
        for side in ("a", "b"):
            if side in spec:
                if not isinstance(spec[side], str) or not spec[side].strip():
                    raise ConfigError("must be the field's name in that tool", file=file,
                                      key=f"{here}.{side}")
                sides[side] = spec[side].strip()
        if placed is None and len(sides) < 2:
            raise ConfigError("needs the field's name on both sides (a = \"...\", b = \"...\")",
                              file=file, key=here)
        if not sides:
            raise ConfigError("needs a or b (where that side keeps it)", file=file, key=here)
        out.append(CustomField(name=name, type=kind, sides=sides))
    return tuple(out)


def normalised(kind: FieldType, value: Any) -> Any:
    """A tool's value as the canonical value of its type, so equal values fingerprint alike
    (Jira sends 3.0 where Trello sends "3"); None for empty or unreadable values."""
    if value is None or value == "" or value == []:
        return None
    if kind == "number":
        try:
            number = float(value)
        except (TypeError, ValueError):
            return None
        return int(number) if number.is_integer() else number
    if kind == "date":
        text = str(value)
        try:
            return dt.date.fromisoformat(text[:10]).isoformat()
        except ValueError:
            return None
    if kind == "options":
        items = value if isinstance(value, list) else [value]
        return sorted({str(v) for v in items if v not in (None, "")}) or None
    if kind == "user":
        return value if isinstance(value, dict) else {"display_name": str(value), "handles": {}}
    return str(value)


def inbound(fields: tuple[CustomField, ...], side: str, values: dict[str, Any]) -> None:
    """Copy ``side``'s declared custom values into their synced fields (in place)."""
    tool_values = values.get("custom") or {}
    for declared in fields:
        tool_name = declared.sides.get(side)
        if tool_name is None:
            continue  # a canonical field this side keeps natively
        value = normalised(declared.type, tool_values.get(tool_name))
        if declared.name == "estimate" and value is not None:
            value = float(value)  # as the model holds it, so both sides fingerprint alike
        values[declared.synced_name] = value


def outbound(fields: tuple[CustomField, ...], side: str, values: dict[str, Any]) -> None:
    """Put the synced custom values into ``custom`` under ``side``'s field names (in place)."""
    custom: dict[str, Any] = {}
    for declared in fields:
        tool_name = declared.sides.get(side)
        if tool_name is None:
            continue
        value = values.get(declared.synced_name)
        if isinstance(value, dt.date):
            value = value.isoformat()
        custom[tool_name] = value
    values["custom"] = custom


def touches_custom(changed: frozenset[str]) -> bool:
    """Could an update of these synced fields change a value a connector keeps in a custom field
    (a declared custom field, or a canonical field a mapping may keep in one)?"""
    return any(name.startswith(PREFIX) or name in CANONICAL_PLACEABLE for name in changed)


def user_fields(fields: tuple[CustomField, ...]) -> tuple[str, ...]:
    """Synced names of the user fields, which the mapping's people table completes like assignees."""
    return tuple(f.synced_name for f in fields if f.type == "user")


def declared_on(fields: tuple[CustomField, ...], side: str) -> dict[str, str]:
    """The tool field names ``side`` must have, with their types (what ``pmhub check`` asks about)."""
    return {f.sides[side]: f.type for f in fields if side in f.sides}
