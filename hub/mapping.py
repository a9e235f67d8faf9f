"""Declarative mappings between a flow's two sides, loaded from ``mappings/*.toml``.

A mapping says, per record type, which canonical fields the flow syncs and, per side, how the
tool's own words (``Issue.raw``: status, priority, kind) translate to canonical categories, plus
named transforms (registered by plugins; a mapping can only name one, never run code) and a table
of people across tools. File format (see mappings/github-jira.toml)::

    description = "..."
    [issue]
    fields = ["title", "description", "status"]
    [issue.a.status]          # side a's raw status -> canonical status category
    "open" = "todo"
    [issue.a.status_out]      # optional: canonical -> raw; defaults to the inverse (first wins)
    [issue.a.transforms.priority]
    transform = "label_prefix"
    prefix = "priority: "
    [[people]]
    email = "alice@acme.example"
    a = "alice-gh"
    b = "5b10ac8d82e05b22cc7d4ef5"

Custom fields (a team's own fields; see hub/custom_fields.py for how they travel)::

    [issue.custom.story_points]
    type = "number"           # string, number, date, option, options, user
    a = "Story Points"        # side a's field by its name in that tool (Jira: display name or
                              # customfield_NNNNN; Trello: the custom field's name; Zoho: API name)
    b = "Estimate"
    [issue.custom.estimate]   # a canonical field (start_date, due_date, estimate in hours) kept in
    a = "Estimate (h)"        # a custom field on a side with no place of its own; a side left out
                              # keeps it natively (Jira's original estimate)

Each custom field syncs as the field ``custom.NAME`` (merged, fingerprinted and put in conflict on
its own). ``pmhub check`` asks each tool whether it has the fields its side names (exit 2 if not);
a value the tool refuses (an option it does not have) parks that record with the tool's reason.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from hub import custom_fields
from hub.custom_fields import CustomField
from hub.errors import ConfigError
from hub.model import RECORD_MODELS, Kind, Priority, StatusCategory

Direction = Literal["in", "out"]
#: ``transform(values, params, direction) -> values`` on the synced fields plus ``raw``.
Transform = Callable[[dict[str, Any], Mapping[str, Any], Direction], dict[str, Any]]

VALUE_FIELDS: dict[str, type] = {"status": StatusCategory, "priority": Priority, "kind": Kind}


@dataclass(frozen=True)
class TransformParams:
    """The parameters a transform takes, so a mapping that misnames or mistypes one is refused when
    it is loaded rather than misbehaving during a sync. ``others``: the type of any further key
    (for transforms that take a table, e.g. label -> value); None means no further keys."""

    required: Mapping[str, type] = field(default_factory=dict)
    optional: Mapping[str, type] = field(default_factory=dict)
    others: type | None = None

    def problem(self, params: Mapping[str, Any]) -> tuple[str, str | None] | None:
        """(what is wrong, the offending key) or None when the parameters are fine."""
        for name in self.required:
            if name not in params:
                return f"needs {name} = ... ({self.describe()})", None
        for name, value in params.items():
            expected = self.required.get(name) or self.optional.get(name) or self.others
            if expected is None:
                return f"unknown parameter ({self.describe()})", name
            if not isinstance(value, expected) or (isinstance(value, bool) and expected is not bool):
                return f"must be a {_TYPE_NAMES.get(expected, expected.__name__)}", name
        return None

    def describe(self) -> str:
        names = [*self.required, *(f"{n} (optional)" for n in self.optional)]
        table = ", and a table of values" if self.others else ""
        return "parameters: " + (", ".join(names) or "none") + table


_TYPE_NAMES = {str: "string", int: "whole number", float: "number", bool: "boolean"}


def declare_params(rules: TransformParams) -> Callable[[Transform], Transform]:
    """Attach the parameters a transform takes (checked when a mapping names it)::

        @declare_params(TransformParams(required={"prefix": str}))
        def label_prefix(values, params, direction): ...
    """

    def attach(fn: Transform) -> Transform:
        fn.pmhub_params = rules  # type: ignore[attr-defined]
        return fn

    return attach


def declared_params(fn: Transform) -> TransformParams | None:
    """What ``declare_params`` attached; None for a transform that declares nothing (not checked)."""
    rules = getattr(fn, "pmhub_params", None)
    return rules if isinstance(rules, TransformParams) else None


@dataclass(frozen=True)
class SideMapping:
    values_in: dict[str, dict[str, str]] = field(default_factory=dict)
    values_out: dict[str, dict[str, str]] = field(default_factory=dict)
    transforms: tuple[tuple[str, Transform, Mapping[str, Any]], ...] = ()


@dataclass(frozen=True)
class RecordMapping:
    fields: tuple[str, ...]
    sides: dict[str, SideMapping]
    custom: tuple[CustomField, ...] = ()


@dataclass(frozen=True)
class PersonEntry:
    email: str | None
    display_name: str | None
    handles: dict[str, str]


@dataclass(frozen=True)
class Mapping_:
    """A loaded mapping. ``identity()`` is the empty mapping: all fields, values as they are."""

    name: str
    records: dict[str, RecordMapping] = field(default_factory=dict)
    people: tuple[PersonEntry, ...] = ()

    def for_connections(self, a: str, b: str) -> Mapping_:
        """This mapping with the people table's handles keyed by connection name, as connectors
        read ``Person.handles`` (the file says ``a``/``b`` so one mapping serves many flows)."""
        names = {"a": a, "b": b}
        people = tuple(PersonEntry(p.email, p.display_name, {names[s]: h for s, h in p.handles.items()})
                       for p in self.people)
        return Mapping_(name=self.name, records=self.records, people=people)

    def fields(self, record_type: str) -> tuple[str, ...]:
        mapped = self.records.get(record_type)
        if mapped is None:
            return RECORD_MODELS[record_type].SYNC_FIELDS
        extra = tuple(f.synced_name for f in mapped.custom if f.synced_name not in mapped.fields)
        return mapped.fields + extra

    def custom_fields(self, record_type: str) -> tuple[CustomField, ...]:
        mapped = self.records.get(record_type)
        return mapped.custom if mapped else ()

    def side(self, record_type: str, side: str) -> SideMapping | None:
        mapped = self.records.get(record_type)
        return mapped.sides.get(side) if mapped else None

    # -- applying ---------------------------------------------------------------------------
    def inbound(self, record_type: str, side: str, values: dict[str, Any]) -> dict[str, Any]:
        """Tool-shaped canonical values from ``side`` -> the flow's canonical vocabulary."""
        rules = self.side(record_type, side)
        declared = self.custom_fields(record_type)
        if declared:
            custom_fields.inbound(declared, side, values)
        if rules is not None:
            for _name, transform, params in rules.transforms:
                values = transform(values, params, "in")
            raw = values.get("raw") or {}
            for name, enum in VALUE_FIELDS.items():
                table = rules.values_in.get(name, {})
                if name not in raw:
                    continue
                if raw[name] in table:
                    values[name] = table[raw[name]]
                elif raw[name] in {e.value for e in enum}:  # type: ignore[attr-defined]
                    values[name] = raw[name]
        if self.people:
            self._people(values, custom_fields.user_fields(declared))
        return values

    def outbound(self, record_type: str, side: str, values: dict[str, Any]) -> dict[str, Any]:
        """Canonical values -> what ``side``'s connector should write (raw words filled in)."""
        rules = self.side(record_type, side)
        # Raw words belong to the side they were read from; the target gets its own.
        values["raw"] = {}
        if rules is not None:
            raw: dict[str, str] = {}
            targets = {target for target, _fn, _params in rules.transforms}
            for name in VALUE_FIELDS:
                current = values.get(name)
                if current is None:
                    continue
                table = rules.values_out.get(name)
                if table is not None and str(current) in table:
                    raw[name] = table[str(current)]
                elif name in targets:
                    raw[name] = str(current)
            values["raw"] = raw
            for _name, transform, params in rules.transforms:
                values = transform(values, params, "out")
        declared = self.custom_fields(record_type)
        if self.people:
            self._people(values, custom_fields.user_fields(declared))
        if declared:
            custom_fields.outbound(declared, side, values)
        return values

    def _people(self, values: dict[str, Any], custom: tuple[str, ...] = ()) -> None:
        """Complete each person from the people table (either way: entries carry both handles)."""
        for key in ("assignees", "reporter", "author", "owner", *custom):
            if key not in values or not values[key]:
                continue
            many = isinstance(values[key], list)
            people = values[key] if many else [values[key]]
            mapped = [self._person(p) for p in people]
            values[key] = mapped if many else mapped[0]

    def _person(self, person: dict[str, Any]) -> dict[str, Any]:
        handles = person.get("handles") or {}
        for entry in self.people:
            same = (person.get("email") and person.get("email") == entry.email) or any(
                entry.handles.get(s) == h for s, h in handles.items())
            if same:
                out = {"display_name": entry.display_name or person.get("display_name"),
                       "email": entry.email or person.get("email"), "handles": dict(entry.handles)}
                return out
        return person


def _invert(table: dict[str, str]) -> dict[str, str]:
    inverse: dict[str, str] = {}
    for raw, canonical in table.items():
        inverse.setdefault(canonical, raw)
    return inverse


def mapping_search_path(extra_dirs: list[Path]) -> list[Path]:
    builtin = Path(str(resources.files("pmhub_mappings")))
    return [*extra_dirs, builtin]


def load_mapping(ref: str | None, *, transforms: Mapping[str, Transform],
                 search: list[Path], base: Path | None = None) -> Mapping_:
    """Load a mapping by name (a file in a mapping dir) or by path; None means the identity."""
    if ref is None:
        return Mapping_(name="identity")
    candidates = [Path(ref)] if ref.endswith(".toml") or "/" in ref else [d / f"{ref}.toml" for d in search]
    if base is not None and not Path(ref).is_absolute():
        candidates = [base / c if not c.is_absolute() else c for c in candidates[:1]] + candidates
    file = next((c for c in candidates if c.is_file()), None)
    if file is None:
        raise ConfigError(f"mapping {ref!r} not found (looked in {', '.join(map(str, search))})")
    where = str(file)
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"not valid TOML: {error}", file=where) from None
    return parse_mapping(data, name=file.stem, file=where, transforms=transforms)


def parse_mapping(data: dict[str, Any], *, name: str, file: str,
                  transforms: Mapping[str, Transform]) -> Mapping_:
    records: dict[str, RecordMapping] = {}
    people: list[PersonEntry] = []
    for key, value in data.items():
        if key == "description":
            continue
        if key == "people":
            people = _parse_people(value, file)
            continue
        if key not in RECORD_MODELS:
            raise ConfigError(f"unknown section (expected description, people or a record type: "
                              f"{', '.join(RECORD_MODELS)})", file=file, key=key)
        records[key] = _parse_record(key, value, file, transforms)
    return Mapping_(name=name, records=records, people=tuple(people))


def _parse_record(record_type: str, table: Any, file: str,
                  transforms: Mapping[str, Transform]) -> RecordMapping:
    if not isinstance(table, dict):
        raise ConfigError("must be a table", file=file, key=record_type)
    known = RECORD_MODELS[record_type].SYNC_FIELDS
    listed = table.get("fields", list(known))
    if not isinstance(listed, list) or not all(isinstance(f, str) for f in listed):
        raise ConfigError("must be an array of field names", file=file, key=f"{record_type}.fields")
    fields = tuple(listed)
    custom = custom_fields.parse_custom(record_type, table["custom"], file) if "custom" in table else ()
    bad = [f for f in fields if f not in known]
    if bad:
        raise ConfigError(f"not canonical {record_type} field(s) {bad}; known: {list(known)}",
                          file=file, key=f"{record_type}.fields")
    sides: dict[str, SideMapping] = {}
    for key, value in table.items():
        if key in ("fields", "custom"):
            continue
        if key not in ("a", "b"):
            raise ConfigError("unknown key (expected fields, custom, a or b)", file=file,
                              key=f"{record_type}.{key}")
        sides[key] = _parse_side(value, f"{record_type}.{key}", file, transforms)
    return RecordMapping(fields=fields, sides=sides, custom=custom)


def _parse_side(table: Any, where: str, file: str, transforms: Mapping[str, Transform]) -> SideMapping:
    if not isinstance(table, dict):
        raise ConfigError("must be a table", file=file, key=where)
    values_in: dict[str, dict[str, str]] = {}
    values_out: dict[str, dict[str, str]] = {}
    chain: list[tuple[str, Transform, Mapping[str, Any]]] = []
    for key, value in table.items():
        here = f"{where}.{key}"
        if key == "transforms":
            if not isinstance(value, dict):
                raise ConfigError("must be a table of transforms", file=file, key=here)
            chain += [_parse_transform(target, spec, f"{here}.{target}", file, transforms)
                      for target, spec in value.items()]
            continue
        name, out = (key[: -len("_out")], True) if key.endswith("_out") else (key, False)
        enum = VALUE_FIELDS.get(name)
        if enum is None:
            raise ConfigError(f"unknown key (value maps: {', '.join(VALUE_FIELDS)}, with _out for the "
                              "reverse; or transforms)", file=file, key=here)
        if not isinstance(value, dict):
            raise ConfigError("must be a table of values", file=file, key=here)
        allowed = {e.value for e in enum}  # type: ignore[attr-defined]
        for raw, canonical in value.items():
            if not isinstance(canonical, str):
                raise ConfigError(f"must be a string (the {'tool' if out else 'canonical'} word)",
                                  file=file, key=f"{here}.{raw}")
            checked = raw if out else canonical
            if checked not in allowed:
                raise ConfigError(f"{checked!r} is not a canonical {name}; one of {sorted(allowed)}",
                                  file=file, key=f"{here}.{raw}")
        (values_out if out else values_in)[name] = {str(k): str(v) for k, v in value.items()}
    for name, table_in in values_in.items():
        values_out[name] = {**_invert(table_in), **values_out.get(name, {})}
    return SideMapping(values_in=values_in, values_out=values_out, transforms=tuple(chain))


def _parse_transform(target: str, spec: Any, where: str, file: str,
                     transforms: Mapping[str, Transform]) -> tuple[str, Transform, Mapping[str, Any]]:
    if not isinstance(spec, dict) or not isinstance(spec.get("transform"), str):
        raise ConfigError("needs transform = \"name\"", file=file, key=where)
    fn = transforms.get(spec["transform"])
    if fn is None:
        raise ConfigError(f"unknown transform {spec['transform']!r} (registered: "
                          f"{', '.join(sorted(transforms)) or 'none'})", file=file, key=f"{where}.transform")
    params = {k: v for k, v in spec.items() if k != "transform"}
    rules = declared_params(fn)
    if rules is not None:
        found = rules.problem(params)
        if found is not None:
            problem, param = found
            raise ConfigError(f"{spec['transform']}: {problem}", file=file,
                              key=f"{where}.{param}" if param else where)
    return target, fn, {"field": target, **params}


def _parse_people(entries: Any, file: str) -> list[PersonEntry]:
    if not isinstance(entries, list):
        raise ConfigError("must be an array of tables ([[people]])", file=file, key="people")
    out = []
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise ConfigError("must be a table", file=file, key=f"people[{index}]")
        unknown = set(entry) - {"email", "name", "a", "b"}
        if unknown:
            raise ConfigError(f"unknown key(s) {sorted(unknown)} (email, name, a, b)", file=file,
                              key=f"people[{index}]")
        for key, value in entry.items():
            if not isinstance(value, str) or not value:
                raise ConfigError("must be a non-empty string", file=file, key=f"people[{index}].{key}")
        out.append(PersonEntry(email=entry.get("email"), display_name=entry.get("name"),
                               handles={s: entry[s] for s in ("a", "b") if s in entry}))
    return out
