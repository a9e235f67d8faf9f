"""The reference store: records of a pretend tool in SQLite, and the person using the tool.

It plays the part of the remote tool and of the person using it: tests ``put``, ``edit`` and ``remove``
records as a human would, and ``inject`` faults (``faults``) that the connector then meets, as a flaky
service would answer.

``ReferenceStore(path)`` takes a file path (shared between processes: WAL mode and a busy timeout let a
test and a ``pmhub sync`` subprocess use one file) or ``"memory:NAME"``, an in-memory database shared by
every connection of this process that names it; it lives while one of them is open, so a test that
holds a store keeps the records alive for the connectors the engine opens and closes.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Sequence
from typing import Any

from hub.connector import Remote
from hub.errors import PermanentError
from hub.model import RECORD_MODELS, CanonicalRecord
from hub.testing.reference.database import Database
from hub.testing.reference.faults import Fault, FaultTable

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_MICROSECOND = dt.timedelta(microseconds=1)

# ``seq`` is the rowid, so inserts append and every index ends in it implicitly: the listing index
# on (scope, type, updated) also orders by id. ``id`` is its text form, computed rather than stored.
_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    seq INTEGER PRIMARY KEY,
    scope TEXT NOT NULL,
    type TEXT NOT NULL,
    id TEXT GENERATED ALWAYS AS (CAST(seq AS TEXT)) VIRTUAL,
    updated INTEGER NOT NULL,
    marker TEXT,
    deleted INTEGER NOT NULL DEFAULT 0,
    data TEXT
);
CREATE INDEX IF NOT EXISTS records_by_updated ON records (scope, type, updated);
CREATE INDEX IF NOT EXISTS records_by_marker ON records (marker) WHERE marker IS NOT NULL;
CREATE TABLE IF NOT EXISTS clock (only INTEGER PRIMARY KEY CHECK (only = 0), last INTEGER NOT NULL);
INSERT OR IGNORE INTO clock VALUES (0, 0);
CREATE TABLE IF NOT EXISTS notes (
    seq INTEGER PRIMARY KEY,
    scope TEXT NOT NULL,
    customer TEXT NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    marker TEXT NOT NULL
);
"""


def to_micros(moment: dt.datetime) -> int:
    """Microseconds since the epoch of an aware timestamp (the store's ``updated`` column)."""
    if moment.tzinfo is None:
        raise ValueError("timestamp must carry a time zone")
    return (moment - _EPOCH) // _MICROSECOND


def from_micros(micros: int) -> dt.datetime:
    """The aware UTC timestamp for a value of the store's ``updated`` column."""
    return _EPOCH + dt.timedelta(microseconds=micros)


class ReferenceStore:
    """Records of a pretend tool in SQLite; see the module docstring for ``path``.

    Ids are decimal strings, unique across the store. ``updated`` is strictly increasing across
    the whole store, so listing by it never reorders two changes.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self._db = Database(path)
        self._db.create(_SCHEMA)
        self.faults = FaultTable(self._db)

    # -- plumbing ----------------------------------------------------------------------------
    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> ReferenceStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @staticmethod
    def _tick(db: sqlite3.Connection, n: int = 1) -> int:
        """Reserve ``n`` consecutive timestamps after the last one handed out; return the first."""
        (last,) = db.execute("SELECT last FROM clock").fetchone()
        first = max(to_micros(dt.datetime.now(dt.UTC)), last + 1)
        db.execute("UPDATE clock SET last = ?", (first + n - 1,))
        return first

    @staticmethod
    def _model(record_type: str) -> type[Any]:
        try:
            return RECORD_MODELS[record_type]
        except KeyError:
            raise PermanentError(f"unknown record type {record_type!r}", status=404) from None

    @staticmethod
    def _seq(external_id: str) -> int | None:
        # Anything else cannot be one of our ids (and would overflow SQLite's integers).
        if external_id.isascii() and external_id.isdecimal() and len(external_id) < 19:
            return int(external_id)
        return None

    def _remote(
        self, record_type: str, seq: int, updated: int, marker: str | None, deleted: int,
        data: str | None,
    ) -> Remote:
        moment = from_micros(updated)
        if deleted:
            return Remote(str(seq), moment, None, marker=marker, deleted=True)
        item = self._model(record_type).model_validate_json(data)
        item.updated = moment
        return Remote(str(seq), moment, item, marker=marker)

    # -- the connector's side ----------------------------------------------------------------
    def page(
        self, scope: str, record_type: str, since: int | None, after: tuple[int, int] | None,
        size: int,
    ) -> list[Remote]:
        """One page of records (deletions included) ordered by (updated, id), keyset-paginated."""
        if after is not None:
            rows = self._db.read(
                "SELECT seq, updated, marker, deleted, data FROM records"
                " WHERE scope = ? AND type = ? AND (updated, seq) > (?, ?)"
                " ORDER BY updated, seq LIMIT ?",
                (scope, record_type, after[0], after[1], size),
            )
        else:
            rows = self._db.read(
                "SELECT seq, updated, marker, deleted, data FROM records"
                " WHERE scope = ? AND type = ? AND updated >= ? ORDER BY updated, seq LIMIT ?",
                (scope, record_type, since if since is not None else -1, size),
            )
        return [self._remote(record_type, *row) for row in rows]

    def record(self, scope: str, record_type: str, external_id: str) -> Remote | None:
        """The record with this id, deletion included; None when it never existed here."""
        seq = self._seq(external_id)
        if seq is None:
            return None
        rows = self._db.read(
            "SELECT seq, updated, marker, deleted, data FROM records"
            " WHERE seq = ? AND scope = ? AND type = ?",
            (seq, scope, record_type),
        )
        return self._remote(record_type, *rows[0]) if rows else None

    def marked(self, scope: str, record_type: str, marker: str) -> Remote | None:
        """The oldest live record carrying ``marker``."""
        rows = self._db.read(
            "SELECT seq, updated, marker, deleted, data FROM records"
            " WHERE marker = ? AND scope = ? AND type = ? AND deleted = 0 ORDER BY seq LIMIT 1",
            (marker, scope, record_type),
        )
        return self._remote(record_type, *rows[0]) if rows else None

    def insert(
        self, scope: str, record_type: str, items: Sequence[tuple[CanonicalRecord, str | None]]
    ) -> list[Remote]:
        """Store new records in one transaction; return them as stored."""
        model = self._model(record_type)
        if not items:
            return []
        misfits = {type(item).__name__ for item, _ in items if not isinstance(item, model)}
        if misfits:
            raise PermanentError(f"{record_type} records cannot hold {sorted(misfits)}", status=422)
        payloads = [item.model_dump_json(exclude_defaults=True, exclude={"updated"}) for item, _ in items]
        with self._db.write() as db:
            first = self._tick(db, len(items))
            (top,) = db.execute("SELECT coalesce(max(seq), 0) FROM records").fetchone()
            db.executemany(
                "INSERT INTO records (seq, scope, type, updated, marker, data) VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (top + 1 + n, scope, record_type, first + n, marker, payload)
                    for n, ((_, marker), payload) in enumerate(zip(items, payloads, strict=True))
                ],
            )
        results = []
        for n, (item, marker) in enumerate(items):
            moment = from_micros(first + n)
            results.append(Remote(str(top + 1 + n), moment, item.model_copy(update={"updated": moment}),
                                  marker=marker))
        return results

    def change(
        self, scope: str, record_type: str, external_id: str, changes: dict[str, Any]
    ) -> Remote:
        """Apply field values to a live record and bump its ``updated``."""
        model = self._model(record_type)
        unknown = set(changes) - set(model.model_fields)
        if unknown:
            raise PermanentError(f"unknown {record_type} fields {sorted(unknown)}", status=422)
        seq = self._seq(external_id)
        with self._db.write() as db:
            row = db.execute(
                "SELECT data, marker FROM records WHERE seq = ? AND scope = ? AND type = ? AND deleted = 0",
                (seq, scope, record_type),
            ).fetchone()
            if row is None:
                raise PermanentError(f"{record_type} {external_id} not found in {scope}", status=404)
            values = json.loads(row[0])
            values.update(changes)
            item = model.model_validate(values)
            moment = self._tick(db)
            db.execute(
                "UPDATE records SET data = ?, updated = ? WHERE seq = ?",
                (item.model_dump_json(exclude_defaults=True, exclude={"updated"}), moment, seq),
            )
        item.updated = from_micros(moment)
        return Remote(external_id, item.updated, item, marker=row[1])

    def erase(self, scope: str, record_type: str, external_id: str) -> None:
        """Turn a live record into a deletion that listings report."""
        seq = self._seq(external_id)
        with self._db.write() as db:
            found = db.execute(
                "SELECT 1 FROM records WHERE seq = ? AND scope = ? AND type = ? AND deleted = 0",
                (seq, scope, record_type),
            ).fetchone()
            if found is None:
                raise PermanentError(f"{record_type} {external_id} not found in {scope}", status=404)
            db.execute(
                "UPDATE records SET deleted = 1, data = NULL, updated = ? WHERE seq = ?",
                (self._tick(db), seq),
            )

    # -- a human using the tool --------------------------------------------------------------
    def put(self, scope: str, record_type: str, item: CanonicalRecord) -> str:
        """Create a record as a user would (no marker); return its id."""
        return self.insert(scope, record_type, [(item, None)])[0].id

    def edit(self, scope: str, record_type: str, external_id: str, **changes: Any) -> CanonicalRecord:
        """Change fields of a record as a user would; return the record as now stored."""
        stored = self.change(scope, record_type, external_id, changes)
        assert stored.item is not None
        return stored.item

    def remove(self, scope: str, record_type: str, external_id: str) -> None:
        """Delete a record as a user would; listings report it as ``Remote(deleted=True)``."""
        self.erase(scope, record_type, external_id)

    def get(self, scope: str, record_type: str, external_id: str) -> CanonicalRecord | None:
        """The live record's canonical item, or None."""
        found = self.record(scope, record_type, external_id)
        return found.item if found is not None else None

    def all(self, scope: str, record_type: str) -> list[tuple[str, CanonicalRecord]]:
        """Every live record as (id, item), oldest first."""
        rows = self._db.read(
            "SELECT seq, updated, marker, deleted, data FROM records"
            " WHERE scope = ? AND type = ? AND deleted = 0 ORDER BY seq",
            (scope, record_type),
        )
        result = []
        for row in rows:
            remote = self._remote(record_type, *row)
            assert remote.item is not None
            result.append((remote.id, remote.item))
        return result

    def count(self, scope: str, record_type: str) -> int:
        """How many live records there are."""
        return self._db.read(
            "SELECT count(*) FROM records WHERE scope = ? AND type = ? AND deleted = 0",
            (scope, record_type),
        )[0][0]

    def find_by_marker(self, scope: str, record_type: str, marker: str) -> list[str]:
        """Ids of every live record carrying ``marker`` (more than one means a duplicate)."""
        rows = self._db.read(
            "SELECT seq FROM records WHERE marker = ? AND scope = ? AND type = ? AND deleted = 0"
            " ORDER BY seq",
            (marker, scope, record_type),
        )
        return [str(seq) for (seq,) in rows]

    # -- progress notes ----------------------------------------------------------------------
    def notes(self, scope: str, customer: str) -> list[tuple[str, str, str]]:
        """(title, body, marker) of every note on a customer, oldest first."""
        return [tuple(row) for row in self._db.read(
            "SELECT title, body, marker FROM notes WHERE scope = ? AND customer = ? ORDER BY seq",
            (scope, customer))]

    def add_note(self, scope: str, customer: str, title: str, body: str, marker: str) -> None:
        with self._db.write() as db:
            db.execute("INSERT INTO notes (scope, customer, title, body, marker) VALUES (?, ?, ?, ?, ?)",
                       (scope, customer, title, body, marker))

    # -- faults (see ``faults``) -------------------------------------------------------------
    def inject(
        self, operation: str, mode: str, times: int | None = 1, record_type: str | None = None,
        delay: float = 0.0, *, retry_after: float | None = None, match_title: str | None = None,
    ) -> None:
        """Make the next ``times`` calls of ``operation`` fail (or wait) in ``mode``.

        A call is one page of a listing, one get, find, update or delete, and one item of a
        ``create_many`` (a bulk API reports per item, so one bad record fails alone; ``delay`` too is
        per item there). ``times=None`` keeps the fault until ``clear_faults``. ``record_type``
        limits it to one type; ``match_title`` to creates and updates of items whose title (or body,
        or name) equals it. Modes: ``transient`` (503), ``rate_limited`` (429 with ``retry_after``,
        0.1 s unless given), ``permanent`` (422), ``not_found`` (404), ``auth`` (401), ``lost_reply``
        (the write is applied, then a TransientError), ``delay`` (sleep ``delay`` s, then proceed).
        """
        self.faults.inject(operation, mode, times, record_type, delay, retry_after=retry_after,
                           match_title=match_title)

    def clear_faults(self) -> None:
        """Remove every injected fault."""
        self.faults.clear()

    def pending_faults(self, operation: str, record_type: str) -> list[Fault]:
        """Faults still waiting for a call of ``operation`` on ``record_type``, oldest first."""
        return self.faults.pending(operation, record_type)

    def take_fault(
        self, operation: str, record_type: str, item: CanonicalRecord | None = None,
        pending: list[Fault] | None = None,
    ) -> Fault | None:
        """Consume the faults this call meets: sleep through delays, return the first failure."""
        return self.faults.take(operation, record_type, item, pending)
