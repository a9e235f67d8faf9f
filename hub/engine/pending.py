"""Changes read on one side that wait for the other side's listing.

A change whose twin also changed on the other side is merged with it three-way when the other side's
listing reaches the twin; what is left afterwards goes one way. On a big run the waiting changes
would fill memory (side b's 300,000 edits while side a is listed), so beyond ``IN_MEMORY`` the
linked ones wait in a private temporary SQLite file instead. Unlinked changes (a first run) stay in
memory, where first-run matching looks them up by marker, link and title.
"""

from __future__ import annotations

import heapq
import pickle
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import fields
from itertools import count

from hub.connector import Remote
from hub.engine.context import Seen
from hub.engine.records import marker_for
from hub.errors import StateStoreError
from hub.state.store import Link

IN_MEMORY = 5000


class PendingChanges:
    def __init__(self, *, in_memory: int | None = None) -> None:
        self.in_memory = IN_MEMORY if in_memory is None else in_memory
        # id -> (arrival number, change); the arrival number keeps the order they were read in.
        self._linked: dict[str, tuple[int, Seen]] = {}
        self._unlinked: dict[str, tuple[int, Seen]] = {}
        self._spill: sqlite3.Connection | None = None
        self._arrivals = count()
        self._sources: dict[tuple[str, str, str], dict[str, str]] = {}
        #: Marker -> record, of unlinked changes fetched to learn a marker their listing hid (``match``).
        self.revealed: dict[str, Remote] | None = None

    def __len__(self) -> int:
        held = len(self._linked) + len(self._unlinked)
        if self._spill is None:
            return held
        with _local_disk():
            return held + int(self._spill.execute("SELECT count(*) FROM pending").fetchone()[0])

    def add(self, seen: Seen) -> None:
        """Keep a change (a later read of the same record replaces it, in its place)."""
        # What a change needs from here on is its values; the tool's record object is the bulk of it.
        r = seen.remote
        seen.remote = Remote(r.id, r.updated, None, r.version, r.url, r.marker, r.deleted)
        held = self._unlinked if seen.link is None else self._linked
        if seen.id in held:
            held[seen.id] = (held[seen.id][0], seen)
        elif held is self._unlinked or (self._spill is None and len(self._linked) < self.in_memory):
            held[seen.id] = (next(self._arrivals), seen)
        else:
            self._spill_one(seen)

    def pop(self, external_id: str) -> Seen | None:
        """Take the change of this record, if one waits."""
        for held in (self._linked, self._unlinked):
            found = held.pop(external_id, None)
            if found is not None:
                return found[1]
        if self._spill is None:
            return None
        with _local_disk():
            row = self._spill.execute("SELECT data FROM pending WHERE id = ?", (external_id,)).fetchone()
            if row is None:
                return None
            self._spill.execute("DELETE FROM pending WHERE id = ?", (external_id,))
        return _unpack(row[0])

    def unlinked(self) -> list[Seen]:
        """The waiting changes of records without a twin yet (candidates for first-run matching)."""
        return [seen for _, seen in self._unlinked.values() if not seen.remote.deleted]

    def sources_by_marker(self, flow: str, record_type: str, copies_side: str) -> dict[str, str]:
        """Marker -> id of each unlinked waiting change, as its copy on ``copies_side`` would carry
        it (``records.marker_for``). Computed once: a first run asks for it page after page."""
        key = (flow, record_type, copies_side)
        if key not in self._sources:
            self._sources[key] = {marker_for(flow, record_type, copies_side, external_id): external_id
                                  for external_id in self._unlinked}
        return self._sources[key]

    def remaining(self) -> Iterator[Seen]:
        """Every change still waiting, in the order read."""
        held = sorted([*self._linked.values(), *self._unlinked.values()], key=lambda entry: entry[0])
        streams: list[Iterator[tuple[int, Seen]]] = [iter(held)]
        if self._spill is not None:
            streams.append(self._spilled_rows())
        for _, seen in heapq.merge(*streams, key=lambda entry: entry[0]):
            yield seen

    def close(self) -> None:
        if self._spill is not None:
            self._spill.close()
            self._spill = None

    # -- the temporary file ------------------------------------------------------------------
    def _spill_one(self, seen: Seen) -> None:
        with _local_disk():
            self._spill_into(seen)

    def _spill_into(self, seen: Seen) -> None:
        if self._spill is None:
            # "": a private temporary database on disk, deleted when closed. Nothing in it needs to
            # survive a crash, so it has no journal and one transaction that is never committed.
            self._spill = sqlite3.connect("", isolation_level=None)
            self._spill.execute("PRAGMA journal_mode = OFF")
            self._spill.execute("PRAGMA synchronous = OFF")
            self._spill.execute("BEGIN")
            self._spill.execute("CREATE TABLE pending (seq INTEGER PRIMARY KEY, id TEXT UNIQUE, data BLOB)")
        # A later read of a spilled record replaces its data but keeps its place (seq).
        self._spill.execute(
            "INSERT INTO pending VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE SET data = excluded.data",
            (next(self._arrivals), seen.id, _pack(seen)))

    def _spilled_rows(self) -> Iterator[tuple[int, Seen]]:
        assert self._spill is not None
        last = -1
        while True:
            with _local_disk():
                rows = self._spill.execute(
                    "SELECT seq, data FROM pending WHERE seq > ? ORDER BY seq LIMIT 500", (last,)).fetchall()
            if not rows:
                return
            for seq, data in rows:
                yield seq, _unpack(data)
            last = rows[-1][0]


@contextmanager
def _local_disk() -> Iterator[None]:
    """The temporary file's failures (a full disk) as one line saying where and what to do, like
    the state store's: every flow of the run needs that disk, so the command stops."""
    try:
        yield
    except sqlite3.Error as error:
        raise StateStoreError(f"temporary file in {tempfile.gettempdir()}",
                              f"cannot keep the changes waiting for the other side ({error})",
                              "free space there, or point TMPDIR at a disk with room") from None


# Plain tuples: they pickle several times faster than the dataclasses they come from.
_LINK_FIELDS = tuple(f.name for f in fields(Link))


def _pack(seen: Seen) -> bytes:
    r, link = seen.remote, seen.link
    linked = None if link is None else tuple(getattr(link, name) for name in _LINK_FIELDS)
    return pickle.dumps((seen.side, (r.id, r.updated, r.version, r.url, r.marker, r.deleted), linked,
                         seen.values, seen.synced, seen.snapshot, seen.fp, seen.eligible),
                        pickle.HIGHEST_PROTOCOL)


def _unpack(data: bytes) -> Seen:
    side, (rid, updated, version, url, marker, deleted), linked, values, synced, snapshot, fp, eligible = (
        pickle.loads(data))
    link = None if linked is None else Link(*linked)
    return Seen(side, Remote(rid, updated, None, version, url, marker, deleted), link, values, synced,
                snapshot, fp, eligible)
