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
from collections.abc import Iterator
from dataclasses import replace
from itertools import count

from hub.engine.context import Seen

IN_MEMORY = 5000


class PendingChanges:
    def __init__(self, *, in_memory: int | None = None) -> None:
        self.in_memory = IN_MEMORY if in_memory is None else in_memory
        # id -> (arrival number, change); the arrival number keeps the order they were read in.
        self._linked: dict[str, tuple[int, Seen]] = {}
        self._unlinked: dict[str, tuple[int, Seen]] = {}
        self._spill: sqlite3.Connection | None = None
        self._spilled = 0
        self._arrivals = count()

    def __len__(self) -> int:
        return len(self._linked) + len(self._unlinked) + self._spilled

    def add(self, seen: Seen) -> None:
        """Keep a change (a later read of the same record replaces it, in its place)."""
        # What a change needs from here on is its values; the tool's record object is the bulk of it.
        seen.remote = replace(seen.remote, item=None)
        held = self._unlinked if seen.link is None else self._linked
        if seen.id in held:
            held[seen.id] = (held[seen.id][0], seen)
        elif self._spill is not None and self._replace_spilled(seen):
            pass
        elif held is self._unlinked or len(self._linked) < self.in_memory:
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
        row = self._spill.execute("SELECT data FROM pending WHERE id = ?", (external_id,)).fetchone()
        if row is None:
            return None
        self._spill.execute("DELETE FROM pending WHERE id = ?", (external_id,))
        self._spilled -= 1
        seen: Seen = pickle.loads(row[0])
        return seen

    def unlinked(self) -> list[Seen]:
        """The waiting changes of records without a twin yet (candidates for first-run matching)."""
        return [seen for _, seen in self._unlinked.values() if not seen.remote.deleted]

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
        if self._spill is None:
            # "": a private temporary database on disk, deleted when closed.
            self._spill = sqlite3.connect("", isolation_level=None)
            self._spill.execute("CREATE TABLE pending (seq INTEGER PRIMARY KEY, id TEXT UNIQUE, data BLOB)")
        self._spill.execute("INSERT INTO pending VALUES (?, ?, ?)",
                            (next(self._arrivals), seen.id, pickle.dumps(seen, pickle.HIGHEST_PROTOCOL)))
        self._spilled += 1

    def _replace_spilled(self, seen: Seen) -> bool:
        assert self._spill is not None
        done = self._spill.execute("UPDATE pending SET data = ? WHERE id = ?",
                                   (pickle.dumps(seen, pickle.HIGHEST_PROTOCOL), seen.id))
        return done.rowcount > 0

    def _spilled_rows(self) -> Iterator[tuple[int, Seen]]:
        assert self._spill is not None
        last = -1
        while True:
            rows = self._spill.execute("SELECT seq, data FROM pending WHERE seq > ? ORDER BY seq LIMIT 500",
                                       (last,)).fetchall()
            if not rows:
                return
            for seq, data in rows:
                yield seq, pickle.loads(data)
            last = rows[-1][0]
