"""The store writes of one page, committed together (with the side's cursor, when it may move).

A page's links, versions, parked records, finished intents, link states and conflicts land in one
transaction, so a crash leaves either all of a page's bookkeeping or none of it; the writes to the
tools that it records were made before, and are found again by marker or as echoes.

A new link for a record that is linked already is not inserted (the ledger is one-to-one): the
record was linked first, by this run or a racing one, and its twin made since is a further copy,
reported as a duplicate by marker when read (``marked``). A page whose insert breaks a unique
constraint is checked against the ledger and inserted without those; a unique violation that
still happens is taken for the same, never a crash.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from hub.state.behind import Touches
from hub.state.store import Link, StateStore


@dataclass
class Batch:
    links: list[Link] = field(default_factory=list)
    versions: list[Link] = field(default_factory=list)
    #: (record_type, side, source_id, reason)
    parks: list[tuple[str, str, str, str]] = field(default_factory=list)
    #: (record_type, side, source_id)
    unparks: list[tuple[str, str, str]] = field(default_factory=list)
    #: (record_type, target side, source_id) of creates that are linked now
    done_intents: list[tuple[str, str, str]] = field(default_factory=list)
    #: (link_id, state)
    link_states: list[tuple[int, str]] = field(default_factory=list)
    #: (link_id, field, base, a_value, b_value)
    conflicts: list[tuple[int, str, Any, Any, Any]] = field(default_factory=list)

    def rows(self) -> int:
        """How many rows the batch writes, besides a cursor."""
        return (len(self.links) + len(self.versions) + len(self.parks) + len(self.unparks)
                + len(self.done_intents) + len(self.link_states) + len(self.conflicts))


def touches(flow: str, batch: Batch) -> Touches:
    """What committing ``batch`` changes, for the lookups that need not wait for it."""
    changed = batch.links + batch.versions
    return Touches(
        links=frozenset({(flow, link.record_type, "a", link.a_id) for link in changed}
                        | {(flow, link.record_type, "b", link.b_id) for link in changed}),
        intents=frozenset((flow, rt, target, source_id) for rt, target, source_id in batch.done_intents),
        every_link=bool(batch.link_states), new_links=sum(link.id is None for link in batch.links))


def commit(store: StateStore, flow: str, batch: Batch, record_type: str, cursor_side: str | None,
           cursor: dt.datetime | None) -> None:
    # Nearly every page links only records nobody linked: the unique constraints say so in the
    # insert itself. A page that breaks one is written again, its new links checked against the
    # ledger first (a check on every page cost 1,000 index lookups that found nothing, and a
    # savepoint around the insert two round trips on PostgreSQL).
    try:
        _commit(store, flow, batch, record_type, cursor_side, cursor, checked=False)
    except IntegrityError:
        _commit(store, flow, batch, record_type, cursor_side, cursor, checked=True)


def _commit(store: StateStore, flow: str, batch: Batch, record_type: str, cursor_side: str | None,
            cursor: dt.datetime | None, *, checked: bool) -> None:
    with store.transaction() as conn:
        store.write_links(conn, [link for link in batch.links if link.id is not None] + batch.versions)
        new = [link for link in batch.links if link.id is None]
        if checked:
            _insert_unlinked(store, conn, flow, new)
        else:
            store.write_links(conn, new)
        for link_id, state in batch.link_states:
            store.set_link_state(conn, link_id, state)
        for rt, side, source_id, reason in batch.parks:
            store.park(conn, flow, rt, side, source_id, reason)
        for rt, side, source_id in batch.unparks:
            store.unpark(conn, flow, rt, side, [source_id])
        by_target: dict[tuple[str, str], list[str]] = {}
        for rt, target, source_id in batch.done_intents:
            by_target.setdefault((rt, target), []).append(source_id)
        for (rt, target), ids in by_target.items():
            store.drop_intents(conn, flow, rt, target, ids)
        for link_id, name, base, a_value, b_value in batch.conflicts:
            store.add_conflict(conn, link_id, flow, record_type, name, base, a_value, b_value)
        if cursor_side is not None and cursor is not None:
            store.set_cursor(conn, flow, cursor_side, record_type, cursor)


def _insert_unlinked(store: StateStore, conn: Connection, flow: str, new: list[Link]) -> list[Link]:
    """Insert the new links of records not linked yet; return those left out (linked already)."""
    if not new:
        return []
    fresh: list[Link] = []
    claimed: set[tuple[str, str, str]] = set()
    for record_type in dict.fromkeys(link.record_type for link in new):
        mine = [link for link in new if link.record_type == record_type]
        # One look at the ledger per page and record type, for both ends, reading ids only.
        taken_a, taken_b = store.linked_ends(conn, flow, record_type, [x.a_id for x in mine],
                                             [x.b_id for x in mine])
        for link in mine:
            ends = {(record_type, "a", link.a_id), (record_type, "b", link.b_id)}
            if link.a_id in taken_a or link.b_id in taken_b or ends & claimed:
                continue
            claimed |= ends
            fresh.append(link)
    try:
        with conn.begin_nested():
            store.write_links(conn, fresh)
        return _left_out(new, fresh)
    except IntegrityError:
        pass
    # Linked between the check and the insert (another process): one by one, the others still land.
    inserted: list[Link] = []
    for link in fresh:
        try:
            with conn.begin_nested():
                store.write_links(conn, [link])
            inserted.append(link)
        except IntegrityError:
            continue
    return _left_out(new, inserted)


def _left_out(new: list[Link], kept: list[Link]) -> list[Link]:
    # By identity: comparing links field by field made a 500-link page quadratic.
    ids = {id(link) for link in kept}
    return [link for link in new if id(link) not in ids]
