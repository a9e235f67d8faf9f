"""The records of the Zoho CRM stand-in: storage, validation against the field metadata, writes.

``ZohoCrmSandbox`` (``routes``) speaks HTTP; this module decides what a write does to the data
and what Zoho would say about each record (its per-record ``SUCCESS`` / error entries).
"""

from __future__ import annotations

import datetime as dt
import email.utils
import time
from dataclasses import dataclass, field
from typing import Any

from . import metadata
from .metadata import FieldDef

_ID_BASE = 6403584000000500001
_NOTE_ALWAYS = ("Note_Title", "Note_Content", "Parent_Id", "Owner", "Created_Time", "Modified_Time",
                "Created_By", "Modified_By")


def stamp(epoch: int) -> str:
    """Zoho's timestamp format: whole seconds with a numeric offset (``+00:00``, never ``Z``)."""
    return dt.datetime.fromtimestamp(epoch, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def parse_time(value: str) -> int | None:
    """ISO 8601 (what Zoho documents and the SDK sends) or an HTTP-date; naive means UTC."""
    value = value.strip()
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        try:
            parsed = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return int(parsed.timestamp())


@dataclass
class Stored:
    """A record as the sandbox keeps it: field values as Zoho prints them, plus epoch times."""

    module: str
    id: str
    values: dict[str, Any]
    created: int
    modified: int


@dataclass
class Tombstone:
    module: str
    id: str
    display_name: str | None
    deleted: int


@dataclass
class CrmStore:
    """Every module's records and tombstones; ``reset`` of the service makes a new one."""

    records: dict[str, dict[str, Stored]] = field(
        default_factory=lambda: {m: {} for m in metadata.MODULES})
    deleted: dict[str, list[Tombstone]] = field(
        default_factory=lambda: {m: [] for m in metadata.MODULES})
    next_id: int = 0
    case_number: int = 0
    #: Bumped on every write; invalidates ``sorted_cache``.
    version: int = 0
    sorted_cache: dict[tuple[str, str, bool], tuple[int, list[Stored]]] = field(default_factory=dict)
    #: (module, "insert"|"update"|"delete", id) of each write since the service last took them:
    #: the stand-in's notification channels are told about them after the request.
    changes: list[tuple[str, str, str]] = field(default_factory=list)

    # -- reading -------------------------------------------------------------------------------
    def getter(self, record: Stored) -> Any:
        """A function reading a field (or a lookup path ``Account_Name.Account_Name``) of ``record``."""

        def get(name: str) -> Any:
            if name == "id":
                return record.id
            head, _, tail = name.partition(".")
            value = self.value(record, head)
            if not tail:
                return value
            if not isinstance(value, dict) or "id" not in value:
                return None
            target_module = metadata.field_map(record.module)[head].lookup
            target = self.records.get(target_module or "", {}).get(value["id"])
            return None if target is None else self.getter(target)(tail)

        return get

    def in_order(self, module: str, sort_by: str, *, descending: bool) -> list[Stored]:
        """Records in listing order, cached until the next write: paging re-asks for it per page."""
        key = (module, sort_by, descending)
        cached = self.sorted_cache.get(key)
        if cached is not None and cached[0] == self.version:
            return cached[1]
        rows = sorted(self.records[module].values(), key=_sort_key(sort_by), reverse=descending)
        self.sorted_cache[key] = (self.version, rows)
        return rows

    def _new_id(self) -> str:
        self.next_id += 1
        return str(_ID_BASE + 1000 * self.next_id)

    def find(self, module: str, record_id: str) -> Stored | None:
        return self.records[module].get(record_id)

    def value(self, record: Stored, name: str) -> Any:
        if name == "Full_Name" and record.module == "Contacts":
            first, last = record.values.get("First_Name"), record.values.get("Last_Name")
            return " ".join(p for p in (first, last) if p) or None
        if name == "Created_Time":
            return stamp(record.created)
        if name == "Modified_Time":
            return stamp(record.modified)
        return record.values.get(name)

    def display_name(self, record: Stored) -> str | None:
        value = self.value(record, metadata.DISPLAY_FIELD[record.module])
        return value if isinstance(value, str) else None

    def project(self, record: Stored, names: list[str] | None) -> dict[str, Any]:
        fields = metadata.FIELDS[record.module]
        wanted = [f.api_name for f in fields] if names is None else names
        if record.module == "Notes":
            # Notes always carry their parent and audit fields, whatever ``fields`` asks for.
            wanted = [*wanted, *(n for n in _NOTE_ALWAYS if n not in wanted)]
        out: dict[str, Any] = {}
        for name in wanted:
            if name == "id":
                continue
            out[name] = self._lookup_out(self.value(record, name))
        out["id"] = record.id
        if record.module == "Notes":
            out.update({"$attachments": [], "$editable": True, "$is_shared_to_client": False,
                        "$size": None, "$state": "save", "$voice_note": False})
        else:
            out.update({"$editable": True, "$state": "save"})
            if names is None:
                out["Tag"] = []
        return out

    def _lookup_out(self, value: Any) -> Any:
        """Lookups print the target's current name, which may have changed since it was set."""
        if isinstance(value, dict) and "id" in value and "module" not in value:
            for module in metadata.MODULES:
                target = self.records[module].get(value["id"])
                if target is not None:
                    return {"name": self.display_name(target), "id": target.id}
        if isinstance(value, dict) and "module" in value:
            target = self.records.get(value["module"]["api_name"], {}).get(value["id"])
            if target is not None:
                return {**value, "name": self.display_name(target)}
        return value

    # -- writing -------------------------------------------------------------------------------
    def _success(self, record: Stored, message: str) -> dict[str, Any]:
        user = {"name": metadata.USER_NAME, "id": metadata.USER_ID}
        return {"code": "SUCCESS", "details": {
            "Modified_Time": stamp(record.modified), "Modified_By": user,
            "Created_Time": stamp(record.created), "id": record.id, "Created_By": user,
        }, "message": message, "status": "success"}

    def insert(self, module: str, entry: dict[str, Any], index: int) -> dict[str, Any]:
        """Add one record (``index`` is its place in the request, for error paths); its status entry."""
        try:
            values = self._normalise(module, entry, index, creating=True)
        except _RecordError as bad:
            return bad.entry
        record_id = self._new_id()
        unique = self._unique_clash(module, values, record_id, index)
        if unique is not None:
            return unique
        now = int(time.time())
        owner = metadata.owner_ref()
        values.setdefault("Owner", owner)
        values["Created_By"] = values["Modified_By"] = owner
        if module == "Cases":
            self.case_number += 1
            values["Case_Number"] = str(self.case_number)
        for f in metadata.FIELDS[module]:
            if f.default is not None and values.get(f.api_name) is None:
                values[f.api_name] = f.default
        record = Stored(module, record_id, values, now, now)
        self.records[module][record_id] = record
        self.version += 1
        self.changes.append((module, "insert", record_id))
        return self._success(record, "record added")

    def update(self, module: str, record_id: str, entry: dict[str, Any], index: int) -> dict[str, Any]:
        record = self.find(module, record_id)
        if record is None:
            return record_error("INVALID_DATA", "the id given seems to be invalid",
                                 {"api_name": "id", "json_path": f"$.data[{index}].id"})
        try:
            values = self._normalise(module, entry, index, creating=False)
        except _RecordError as bad:
            return bad.entry
        unique = self._unique_clash(module, values, record_id, index)
        if unique is not None:
            return unique
        record.values.update(values)
        record.values["Modified_By"] = metadata.owner_ref()
        # Modified_Time is the real second, as Zoho stamps it: edits within one second share it
        # (a stamp pushed ahead of the clock would let a cursor that follows it skip records
        # changed afterwards at the real second).
        record.modified = int(time.time())
        self.version += 1
        self.changes.append((module, "update", record_id))
        return self._success(record, "record updated")

    def delete(self, module: str, record_id: str) -> dict[str, Any]:
        record = self.records[module].pop(record_id, None)
        if record is None:
            return record_error("INVALID_DATA", "the id given seems to be invalid", {"id": record_id})
        self.version += 1
        self.changes.append((module, "delete", record_id))
        now = int(time.time())
        self.deleted[module].append(Tombstone(module, record_id, self.display_name(record), now))
        for note in [n for n in self.records["Notes"].values()
                     if (n.values.get("Parent_Id") or {}).get("id") == record_id]:
            del self.records["Notes"][note.id]
            self.deleted["Notes"].append(Tombstone("Notes", note.id, self.display_name(note), now))
        return {"code": "SUCCESS", "details": {"id": record_id}, "message": "record deleted",
                "status": "success"}

    def duplicate(self, module: str, entry: dict[str, Any],
                   check: list[str]) -> tuple[Stored | None, str | None]:
        for name in check:
            wanted = entry.get(name)
            if wanted in (None, ""):
                continue
            wanted_id = wanted.get("id") if isinstance(wanted, dict) else None
            for record in self.records[module].values():
                have = record.values.get(name)
                if wanted_id is not None and isinstance(have, dict) and have.get("id") == wanted_id:
                    return record, name
                if isinstance(wanted, str) and isinstance(have, str) and have.lower() == wanted.lower():
                    return record, name
        return None, None

    def _unique_clash(self, module: str, values: dict[str, Any], record_id: str,
                      index: int) -> dict[str, Any] | None:
        for f in metadata.FIELDS[module]:
            value = values.get(f.api_name)
            if not f.unique or value in (None, ""):
                continue
            for other in self.records[module].values():
                if other.id != record_id and other.values.get(f.api_name) == value:
                    return record_error("DUPLICATE_DATA", "duplicate data", {
                        "api_name": f.api_name, "json_path": f"$.data[{index}].{f.api_name}",
                        "duplicate_record": {
                            "module": {"api_name": module, "id": metadata.MODULE_IDS[module]},
                            "id": other.id, "Owner": {"name": metadata.USER_NAME, "id": metadata.USER_ID}}})
        return None

    def _normalise(self, module: str, entry: dict[str, Any], index: int, *, creating: bool) -> dict[str, Any]:
        """Check one incoming record against the field metadata; values as Zoho stores them."""
        fields = metadata.field_map(module)
        values: dict[str, Any] = {}
        for name, raw in entry.items():
            f = fields.get(name)
            if f is None or f.read_only:
                continue  # Zoho ignores keys that are not writable fields of the module
            path = f"$.data[{index}].{name}"
            values[name] = self._coerce(module, f, raw, path)
        for f in fields.values():
            if not f.mandatory:
                continue
            present = values.get(f.api_name) not in (None, "")
            if (creating and not present) or (f.api_name in values and not present):
                raise _RecordError(record_error("MANDATORY_NOT_FOUND", "required field not found", {
                    "api_name": f.api_name, "json_path": f"$.data[{index}].{f.api_name}"}))
        return values

    def _coerce(self, module: str, f: FieldDef, raw: Any, path: str) -> Any:
        def invalid(expected: str, **extra: Any) -> _RecordError:
            return _RecordError(record_error("INVALID_DATA", "invalid data", {
                "expected_data_type": expected, "api_name": f.api_name, "json_path": path, **extra}))

        if raw is None:
            return None
        kind = f.data_type
        if kind in ("text", "textarea", "email", "phone", "website", "picklist"):
            if not isinstance(raw, str):
                raise invalid("text" if kind != "picklist" else "picklist")
            if len(raw) > f.length:
                raise _RecordError(record_error("INVALID_DATA", "invalid data", {
                    "maximum_length": str(f.length), "api_name": f.api_name, "json_path": path}))
            if kind == "email" and raw and "@" not in raw:
                raise invalid("email")
            return raw
        if kind == "date":
            try:
                return dt.date.fromisoformat(str(raw)).isoformat()
            except ValueError:
                raise invalid("date") from None
        if kind == "datetime":
            parsed = parse_time(str(raw))
            if parsed is None:
                raise invalid("datetime")
            return stamp(parsed)
        if kind in ("currency", "double"):
            if isinstance(raw, bool):
                raise invalid(kind)
            try:
                return float(raw)
            except (TypeError, ValueError):
                raise invalid(kind) from None
        if kind == "ownerlookup":
            if not isinstance(raw, dict) or raw.get("id") not in (metadata.USER_ID, None):
                raise invalid("jsonobject")
            return metadata.owner_ref()
        if kind == "lookup":
            return self._coerce_lookup(f, raw, path, invalid)
        return raw

    def _coerce_lookup(self, f: FieldDef, raw: Any, path: str, invalid: Any) -> Any:
        target_id = raw.get("id") if isinstance(raw, dict) else raw if isinstance(raw, str) else None
        if not target_id:
            raise invalid("jsonobject")
        target_module = f.lookup
        if target_module is None:  # Notes' Parent_Id names its module in the value
            mod = raw.get("module") if isinstance(raw, dict) else None
            name: Any = mod.get("api_name") if isinstance(mod, dict) else None
            if name is None and isinstance(raw, dict):
                name = raw.get("$se_module")
            target_module = next(
                (m for m in metadata.MODULES if isinstance(name, str) and m.lower() == name.lower()), None)
            if target_module is None or target_module == "Notes":
                raise invalid("jsonobject")
            if str(target_id) not in self.records[target_module]:
                raise invalid("jsonobject")
            return {"module": {"api_name": target_module, "id": metadata.MODULE_IDS[target_module]},
                    "id": str(target_id)}
        if str(target_id) not in self.records[target_module]:
            raise invalid("jsonobject")
        return {"id": str(target_id)}


class _RecordError(Exception):
    def __init__(self, entry: dict[str, Any]) -> None:
        super().__init__(entry["message"])
        self.entry = entry


def record_error(code: str, message: str, details: dict[str, Any]) -> dict[str, Any]:
    return {"code": code, "details": details, "message": message, "status": "error"}


def _sort_key(sort_by: str) -> Any:
    # Ids all have 19 digits, so they sort as strings the way they do as numbers.
    if sort_by == "Modified_Time":
        return lambda r: (r.modified, r.id)
    if sort_by == "Created_Time":
        return lambda r: (r.created, r.id)
    return lambda r: r.id
