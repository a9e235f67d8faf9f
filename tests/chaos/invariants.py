"""What must hold after the chaos settles, checked against the tools themselves (read through their
APIs) and pmhub's state store (its links and conflicts tables, read with sqlite3):

- ``no-duplicates``: one record per harness tag and per pmhub marker on each side, one comment per
  comment tag and per marker;
- ``no-strays``: every record and comment is one the harness made or its copy;
- ``twin-exists``: every record has its twin on the other side of its flow;
- ``links-one-to-one``: no id linked twice in a flow, and each record's link names the twin found by tag;
- ``sides-equal``: title, description and status category equal on both sides (or a recorded conflict);
- ``last-edit``: each field holds the last value the harness wrote to it, on both sides (or a
  recorded conflict); when both sides wrote the field with no complete run in between, either
  side's last value may win (the flow's conflict policy picks);
- ``comments-equal``: each comment is under its record's twin on both sides, its text intact.
"""

from __future__ import annotations

import re
import sqlite3
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tests.chaos.tools import Note, Record

if TYPE_CHECKING:
    from tests.chaos.harness import ChaosReport, Flow

FIELDS = ("title", "description", "status")
_NOTE_TAG = re.compile(r"\bK\d+\b")


@dataclass
class Expectation:
    """Per field: the values it may hold as of the last complete run (``base``), and the last value
    the harness wrote on each side since (``since``)."""

    base: dict[str, set[str]]
    since: dict[str, dict[str, str]] = field(default_factory=dict)
    #: What happened to the record, for the failure messages: "r3 b title='...'", "r4 complete run".
    history: list[str] = field(default_factory=list)

    @classmethod
    def fresh(cls, **values: str) -> Expectation:
        return cls({name: {value} for name, value in values.items()})

    def edited(self, name: str, side: str, value: str, when: str) -> None:
        self.since.setdefault(name, {})[side] = value
        self.history.append(f"{when} {side} {name}={value!r}")

    def allowed(self, name: str) -> set[str]:
        written = self.since.get(name)
        return set(written.values()) if written else set(self.base[name])

    def synced(self, when: str) -> None:
        """A complete run applied every edit so far: what it may have left becomes the base."""
        if self.since:
            self.history.append(f"{when} complete run")
        self.base = {name: self.allowed(name) for name in self.base}
        self.since = {}

    def settled(self, name: str, value: str) -> None:
        self.base[name] = {value}
        self.since.pop(name, None)


@dataclass
class Entity:
    """A record the harness created, its twin once seen, what it should hold, and its comments."""

    tag: str
    flow: Flow
    origin: str
    ids: dict[str, str]
    expect: Expectation
    #: comment tag -> the text the harness last wrote
    notes: dict[str, str] = field(default_factory=dict)
    #: comment tag -> (side, comment id) where the harness wrote it (only its author edits it)
    note_ids: dict[str, tuple[str, str]] = field(default_factory=dict)

    def edited(self, name: str, side: str, value: str, when: str) -> None:
        self.expect.edited(name, side, value, when)

    def synced(self, when: str) -> None:
        self.expect.synced(when)


@dataclass
class Snapshot:
    """One side of one flow as read at the check."""

    records: list[Record]
    notes: list[Note]

    def by_tag(self) -> dict[str, list[Record]]:
        found: dict[str, list[Record]] = {}
        for record in self.records:
            found.setdefault(record.title.split(" ", 1)[0], []).append(record)
        return found

    def notes_by_tag(self) -> dict[str, list[Note]]:
        found: dict[str, list[Note]] = {}
        for note in self.notes:
            tag = _NOTE_TAG.search(note.text)
            found.setdefault(tag.group(0) if tag else "", []).append(note)
        return found


class Checker:
    def __init__(self, flows: list[Flow], state_path: Path, report: ChaosReport) -> None:
        self.flows = flows
        self.state_path = state_path
        self.report = report

    def fail(self, invariant: str, message: str) -> None:
        self.report.failures.append(f"{invariant}: {message}")

    def check(self, entities: list[Entity]) -> None:
        links, conflicts = self._ledger()
        for flow in self.flows:
            mine = [e for e in entities if e.flow is flow]
            sides = {side: Snapshot(flow.side(side).tool.records(),
                                    flow.side(side).tool.notes() if "comment" in flow.records else [])
                     for side in ("a", "b")}
            self._duplicates(flow, sides, mine)
            self._links(flow, links, sides, mine)
            self._fields(flow, links, conflicts, sides, mine)
            if "comment" in flow.records:
                self._comments(flow, sides, mine)

    # -- the state store -------------------------------------------------------------------------
    def _ledger(self) -> tuple[list[dict[str, Any]], set[tuple[int, str]]]:
        with sqlite3.connect(f"file:{self.state_path}?mode=ro", uri=True) as db:
            db.row_factory = sqlite3.Row
            links = [dict(row) for row in db.execute(
                "SELECT id, flow, record_type, a_id, b_id, state FROM links")]
            conflicts = {(row["link_id"], row["field"]) for row in db.execute(
                "SELECT link_id, field FROM conflicts WHERE status = 'open'")}
        return links, conflicts

    # -- the invariants ------------------------------------------------------------------------
    def _duplicates(self, flow: Flow, sides: dict[str, Snapshot], mine: list[Entity]) -> None:
        tags = {e.tag for e in mine}
        notes = {tag for e in mine for tag in e.notes}
        for side, seen in sides.items():
            where = f"flow {flow.name} side {side} ({flow.side(side).tool.name} {flow.side(side).tool.scope})"
            self.report.checks["no-duplicates"] += 1
            for tag, records in seen.by_tag().items():
                if len(records) > 1:
                    self.fail("no-duplicates", f"{where}: {len(records)} records for {tag}: {records}")
            for marker, n in Counter(r.marker for r in seen.records if r.marker).items():
                if n > 1:
                    same = [r for r in seen.records if r.marker == marker]
                    self.fail("no-duplicates", f"{where}: {n} records carry marker {marker}: {same}")
            for tag, found in seen.notes_by_tag().items():
                if tag and len(found) > 1:
                    self.fail("no-duplicates", f"{where}: {len(found)} comments for {tag}: {found}")
            for marker, n in Counter(x.marker for x in seen.notes if x.marker).items():
                if n > 1:
                    copies = [x for x in seen.notes if x.marker == marker]
                    self.fail("no-duplicates", f"{where}: {n} comments carry marker {marker}: {copies}")
            self.report.checks["no-strays"] += 1
            strays: list[Record | Note] = [
                r for tag, rs in seen.by_tag().items() if tag not in tags for r in rs]
            strays += [x for tag, xs in seen.notes_by_tag().items() if tag not in notes for x in xs]
            if strays:
                self.fail("no-strays", f"{where}: records the harness never made: {strays}")

    def _links(self, flow: Flow, links: list[dict[str, Any]], sides: dict[str, Snapshot],
               mine: list[Entity]) -> None:
        self.report.checks["links-one-to-one"] += 1
        for record_type in flow.records:
            rows = [row for row in links if row["flow"] == flow.name and row["record_type"] == record_type]
            for side in ("a", "b"):
                for ident, n in Counter(row[f"{side}_id"] for row in rows).items():
                    if n > 1:
                        self.fail("links-one-to-one", f"flow {flow.name} {record_type}: {side} id {ident} "
                                  f"linked {n} times: {[r for r in rows if r[f'{side}_id'] == ident]}")
        issue_links = {row["a_id"]: row for row in links if row["flow"] == flow.name
                       and row["record_type"] == "issue"}
        found = {side: seen.by_tag() for side, seen in sides.items()}
        for entity in mine:
            self.report.checks["twin-exists"] += 1
            pair = {side: found[side].get(entity.tag, []) for side in ("a", "b")}
            missing = [side for side, records in pair.items() if not records]
            if missing:
                self.fail("twin-exists", f"flow {flow.name}: {entity.tag} (made on {entity.origin}) is "
                          f"missing on side {', '.join(missing)}; found {pair}; "
                          f"history: {entity.expect.history}")
                continue
            a, b = pair["a"][0], pair["b"][0]
            row = issue_links.get(a.ref)
            if row is None or row["b_id"] != b.ref:
                self.fail("links-one-to-one", f"flow {flow.name}: {entity.tag} is a:{a.ref} and b:{b.ref} "
                          f"in the tools, but its link is {row}")
        if "comment" not in flow.records:
            return
        comment_links = {row["a_id"]: row["b_id"] for row in links if row["flow"] == flow.name
                         and row["record_type"] == "comment"}
        notes = {side: seen.notes_by_tag() for side, seen in sides.items()}
        for entity in mine:
            for tag in entity.notes:
                a_notes, b_notes = notes["a"].get(tag, []), notes["b"].get(tag, [])
                if a_notes and b_notes and comment_links.get(a_notes[0].ref) != b_notes[0].ref:
                    linked = comment_links.get(a_notes[0].ref)
                    self.fail("links-one-to-one", f"flow {flow.name}: comment {tag} is a:{a_notes[0].ref} "
                              f"and b:{b_notes[0].ref}, but a's link goes to {linked}")

    def _fields(self, flow: Flow, links: list[dict[str, Any]], conflicts: set[tuple[int, str]],
                sides: dict[str, Snapshot], mine: list[Entity]) -> None:
        link_ids = {row["a_id"]: row["id"] for row in links if row["flow"] == flow.name
                    and row["record_type"] == "issue"}
        found = {side: seen.by_tag() for side, seen in sides.items()}
        for entity in mine:
            a_found, b_found = found["a"].get(entity.tag), found["b"].get(entity.tag)
            if not a_found or not b_found:
                continue
            a, b = a_found[0], b_found[0]
            link_id = link_ids.get(a.ref)
            for name in FIELDS:
                values = {"a": getattr(a, name), "b": getattr(b, name)}
                in_conflict = link_id is not None and (link_id, name) in conflicts
                self.report.checks["sides-equal"] += 1
                if values["a"] != values["b"] and not in_conflict:
                    self.fail("sides-equal", f"flow {flow.name}: {entity.tag} {name} differs: "
                              f"a:{a.id} {values['a']!r} vs b:{b.id} {values['b']!r}; "
                              f"history: {entity.expect.history}")
                self.report.checks["last-edit"] += 1
                allowed = entity.expect.allowed(name)
                wrong = {side: v for side, v in values.items() if v not in allowed}
                if wrong and not in_conflict:
                    self.fail("last-edit", f"flow {flow.name}: {entity.tag} {name}: expected one of "
                              f"{sorted(allowed)} (edits since the last complete run: "
                              f"{entity.expect.since.get(name, {})}), found {wrong}")
                if values["a"] == values["b"] and not in_conflict:
                    entity.expect.settled(name, values["a"])
            entity.ids.update(a=a.id, b=b.id)

    def _comments(self, flow: Flow, sides: dict[str, Snapshot], mine: list[Entity]) -> None:
        notes = {side: seen.notes_by_tag() for side, seen in sides.items()}
        for entity in mine:
            for tag, text in entity.notes.items():
                self.report.checks["comments-equal"] += 1
                for side in ("a", "b"):
                    here = notes[side].get(tag, [])
                    parent = entity.ids.get(side)
                    if not here:
                        self.fail("comments-equal", f"flow {flow.name}: comment {tag} on {entity.tag} is "
                                  f"missing on side {side}")
                    elif here[0].parent != parent or text not in here[0].text:
                        self.fail("comments-equal", f"flow {flow.name}: comment {tag} on {entity.tag} "
                                  f"(side {side} record {parent}) reads {here[0]}; expected {text!r}")
