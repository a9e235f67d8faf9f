"""The reference connector: a complete, fast connector over a local SQLite store.

It is the tool the engine's own tests, the crash test and the benchmark sync against. The store plays
the part of the remote tool and of the person using it: tests ``put``, ``edit`` and ``remove`` records
as a human would, and ``inject`` faults that the connector then meets, as a flaky service would answer.

``ReferenceStore(path)`` takes a file path (shared between processes: WAL mode and a busy timeout let a
test and a ``pmhub sync`` subprocess use one file) or ``"memory:NAME"``, an in-memory database shared by
every connection of this process that names it; it lives while one of them is open, so a test that
holds a store keeps the records alive for the connectors the engine opens and closes. Faults are rows
of the same database, so a fault injected by a test reaches a sync running in another process.

Connection settings (``plugin = "reference"``)::

    [connections.left]
    plugin = "reference"
    path = "memory:left"      # or a file path
    page_size = 1000
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

from hub.connector import Capability, ConnectionSettings, Connector, Remote, chunks
from hub.errors import AuthError, ConnectorError, PermanentError, TransientError
from hub.model import RECORD_MODELS, CanonicalRecord

OPERATIONS = frozenset({"list", "get", "create", "update", "delete", "find"})
FAULT_MODES = frozenset(
    {"transient", "rate_limited", "permanent", "not_found", "auth", "lost_reply", "delay"}
)
_WRITES = frozenset({"create", "update", "delete"})
_T = TypeVar("_T")
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
CREATE TABLE IF NOT EXISTS faults (
    seq INTEGER PRIMARY KEY,
    operation TEXT NOT NULL,
    mode TEXT NOT NULL,
    remaining INTEGER,
    record_type TEXT,
    delay REAL NOT NULL DEFAULT 0,
    retry_after REAL,
    match_title TEXT
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


@dataclass(frozen=True, slots=True)
class Fault:
    """One injected fault, as stored; ``remaining`` None means until cleared."""

    seq: int
    mode: str
    remaining: int | None
    delay: float
    retry_after: float | None
    match_title: str | None

    def matches(self, item: CanonicalRecord | None) -> bool:
        if self.match_title is None:
            return True
        if item is None:
            return False
        return any(getattr(item, name, None) == self.match_title for name in ("title", "body", "name"))

    def error(self, operation: str) -> ConnectorError:
        what = f"injected {self.mode} fault on {operation}"
        if self.mode == "rate_limited":
            retry_after = 0.1 if self.retry_after is None else self.retry_after
            return TransientError(what, status=429, retry_after=retry_after)
        if self.mode == "transient":
            return TransientError(what, status=503, retry_after=self.retry_after)
        if self.mode == "lost_reply":
            return TransientError(f"{what}: the write was applied, the reply lost")
        if self.mode == "permanent":
            return PermanentError(what, status=422)
        if self.mode == "not_found":
            return PermanentError(what, status=404)
        return AuthError(what, status=401)


class ReferenceStore:
    """Records of a pretend tool in SQLite; see the module docstring for ``path``.

    Ids are decimal strings, unique across the store. ``updated`` is strictly increasing across
    the whole store, so listing by it never reorders two changes.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        if path.startswith("memory:"):
            name = urllib.parse.quote(path.removeprefix("memory:"), safe="")
            if not name:
                raise ValueError("a memory store needs a name: memory:NAME")
            self._db = sqlite3.connect(
                f"file:{name}?mode=memory&cache=shared", uri=True, isolation_level=None,
                check_same_thread=False,
            )
            # Shared-cache readers otherwise take table locks that make a concurrent writer fail
            # at once. Seeing a writer's rows before its commit is harmless here: one writer at a
            # time hands out increasing timestamps, so a listing never skips past an unseen row.
            self._db.execute("PRAGMA read_uncommitted = true")
        else:
            self._db = sqlite3.connect(
                path, timeout=30.0, isolation_level=None, check_same_thread=False
            )
            self._db.execute("PRAGMA busy_timeout = 30000")
            self._db.execute("PRAGMA journal_mode = WAL")
            # Commits still survive a killed process (they are in the OS cache); only a power cut
            # could lose the last ones, which no test simulates.
            self._db.execute("PRAGMA synchronous = NORMAL")
        # One connection may serve several engine threads; sqlite3 objects are not re-entrant.
        self._lock = threading.RLock()
        self._create_schema()

    def _create_schema(self) -> None:
        with self._write() as db:
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    db.execute(statement)

    # -- plumbing ----------------------------------------------------------------------------
    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> ReferenceStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._begin()
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._patiently(lambda: self._db.execute("COMMIT"))

    def _begin(self) -> None:
        self._patiently(lambda: self._db.execute("BEGIN IMMEDIATE"))

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        with self._lock:
            # fetchall: no statement stays open while a caller holds a page, which would block
            # writers on the same shared-cache memory database.
            return self._patiently(lambda: self._db.execute(sql, params).fetchall())

    @staticmethod
    def _patiently(step: Callable[[], _T]) -> _T:
        # Shared-cache memory databases report a lock held by another connection at once
        # (SQLITE_LOCKED) instead of honouring busy_timeout, so wait for it here.
        deadline = time.monotonic() + 30.0
        while True:
            try:
                return step()
            except sqlite3.OperationalError as error:
                if "locked" not in str(error) or time.monotonic() > deadline:
                    raise
                time.sleep(0.001)

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
            rows = self._read(
                "SELECT seq, updated, marker, deleted, data FROM records"
                " WHERE scope = ? AND type = ? AND (updated, seq) > (?, ?)"
                " ORDER BY updated, seq LIMIT ?",
                (scope, record_type, after[0], after[1], size),
            )
        else:
            rows = self._read(
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
        rows = self._read(
            "SELECT seq, updated, marker, deleted, data FROM records"
            " WHERE seq = ? AND scope = ? AND type = ?",
            (seq, scope, record_type),
        )
        return self._remote(record_type, *rows[0]) if rows else None

    def marked(self, scope: str, record_type: str, marker: str) -> Remote | None:
        """The oldest live record carrying ``marker``."""
        rows = self._read(
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
        with self._write() as db:
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
        with self._write() as db:
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
        with self._write() as db:
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
        rows = self._read(
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
        return self._read(
            "SELECT count(*) FROM records WHERE scope = ? AND type = ? AND deleted = 0",
            (scope, record_type),
        )[0][0]

    def find_by_marker(self, scope: str, record_type: str, marker: str) -> list[str]:
        """Ids of every live record carrying ``marker`` (more than one means a duplicate)."""
        rows = self._read(
            "SELECT seq FROM records WHERE marker = ? AND scope = ? AND type = ? AND deleted = 0"
            " ORDER BY seq",
            (marker, scope, record_type),
        )
        return [str(seq) for (seq,) in rows]

    # -- progress notes ----------------------------------------------------------------------
    def notes(self, scope: str, customer: str) -> list[tuple[str, str, str]]:
        """(title, body, marker) of every note on a customer, oldest first."""
        return [tuple(row) for row in self._read(
            "SELECT title, body, marker FROM notes WHERE scope = ? AND customer = ? ORDER BY seq",
            (scope, customer))]

    def add_note(self, scope: str, customer: str, title: str, body: str, marker: str) -> None:
        with self._write() as db:
            db.execute("INSERT INTO notes (scope, customer, title, body, marker) VALUES (?, ?, ?, ?, ?)",
                       (scope, customer, title, body, marker))

    # -- faults ------------------------------------------------------------------------------
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
        if operation not in OPERATIONS:
            raise ValueError(f"operation must be one of {sorted(OPERATIONS)}, not {operation!r}")
        if mode not in FAULT_MODES:
            raise ValueError(f"mode must be one of {sorted(FAULT_MODES)}, not {mode!r}")
        if mode == "lost_reply" and operation not in _WRITES:
            raise ValueError("lost_reply applies to create, update and delete")
        with self._write() as db:
            db.execute(
                "INSERT INTO faults (operation, mode, remaining, record_type, delay, retry_after,"
                " match_title) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (operation, mode, times, record_type, delay, retry_after, match_title),
            )

    def clear_faults(self) -> None:
        """Remove every injected fault."""
        with self._write() as db:
            db.execute("DELETE FROM faults")

    def pending_faults(self, operation: str, record_type: str) -> list[Fault]:
        """Faults still waiting for a call of ``operation`` on ``record_type``, oldest first."""
        rows = self._read(
            "SELECT seq, mode, remaining, delay, retry_after, match_title FROM faults"
            " WHERE operation = ? AND (record_type IS NULL OR record_type = ?)"
            " AND (remaining IS NULL OR remaining > 0) ORDER BY seq",
            (operation, record_type),
        )
        return [Fault(*row) for row in rows]

    def take_fault(
        self, operation: str, record_type: str, item: CanonicalRecord | None = None,
        pending: list[Fault] | None = None,
    ) -> Fault | None:
        """Consume the faults this call meets: sleep through delays, return the first failure.

        ``pending`` is a recent ``pending_faults`` answer, to skip the lookup when nothing can match.
        """
        if pending is None:
            pending = self.pending_faults(operation, record_type)
        candidates = [fault.seq for fault in pending if fault.matches(item)]
        if not candidates:
            return None
        delays, failure = [], None
        with self._write() as db:
            # Read again inside the transaction: another process may have used them up meanwhile.
            marks = ",".join("?" * len(candidates))
            rows = db.execute(
                "SELECT seq, mode, remaining, delay, retry_after, match_title FROM faults"
                f" WHERE seq IN ({marks}) AND (remaining IS NULL OR remaining > 0) ORDER BY seq",
                candidates,
            ).fetchall()
            for fault in (Fault(*row) for row in rows):
                if fault.mode == "delay":
                    delays.append(fault)
                elif failure is None:
                    failure = fault
                else:
                    continue
                db.execute(
                    "UPDATE faults SET remaining = remaining - 1 WHERE seq = ? AND remaining IS NOT NULL",
                    (fault.seq,),
                )
        # Sleep outside the transaction so the other process can still write meanwhile.
        for fault in delays:
            time.sleep(fault.delay)
        return failure


class ReferenceSettings(ConnectionSettings):
    """``path``: a SQLite file or ``memory:NAME``; ``page_size``: records per list page and bulk write."""

    path: str
    page_size: int = 1000


_ALL = frozenset({Capability.READ, Capability.INCREMENTAL, Capability.WRITE, Capability.DELETE,
                  Capability.BULK})


class ReferenceConnector(Connector):
    """A connector to a ``ReferenceStore``: every capability, sorted incremental listing, bulk create."""

    plugin: ClassVar[str] = "reference"
    settings_model: ClassVar[type[ConnectionSettings]] = ReferenceSettings
    record_types: ClassVar[dict[str, frozenset[Capability]]] = {
        **dict.fromkeys(RECORD_MODELS, _ALL), "customer": _ALL | {Capability.NOTES}}
    sorted_by_updated: ClassVar[bool] = True
    cursor_overlap: ClassVar[dt.timedelta] = dt.timedelta(0)
    scope_help: ClassVar[str] = "any name"

    settings: ReferenceSettings
    store: ReferenceStore

    def open(self) -> None:
        self.store = ReferenceStore(self.settings.path)

    def close(self) -> None:
        store = getattr(self, "store", None)
        if store is not None:
            store.close()

    def whoami(self) -> str:
        self.calls.add("whoami")
        self.store.pending_faults("list", "")  # one query: proves the store answers
        return f"reference store {self.settings.path}"

    def _call(self, kind: str, operation: str, record_type: str, item: CanonicalRecord | None = None
              ) -> Fault | None:
        """Count the call and meet its fault; raise unless the fault is a lost reply."""
        self.calls.add(kind)
        fault = self.store.take_fault(operation, record_type, item)
        if fault is not None and fault.mode != "lost_reply":
            raise fault.error(operation)
        return fault

    def list_changed(
        self, scope: str, record_type: str, since: dt.datetime | None
    ) -> Iterator[Remote]:
        start = to_micros(since) if since is not None else None
        after: tuple[int, int] | None = None
        size = self.settings.page_size
        while True:
            self._call("list", "list", record_type)
            page = self.store.page(scope, record_type, start, after, size)
            yield from page
            if len(page) < size:
                return
            last = page[-1]
            assert last.updated is not None
            after = (to_micros(last.updated), int(last.id))

    def get(self, scope: str, record_type: str, external_id: str) -> Remote | None:
        self._call("get", "get", record_type)
        found = self.store.record(scope, record_type, external_id)
        return found if found is not None and not found.deleted else None

    def find_by_marker(self, scope: str, record_type: str, marker: str) -> Remote | None:
        self._call("find", "find", record_type)
        return self.store.marked(scope, record_type, marker)

    def create(self, scope: str, record_type: str, item: CanonicalRecord, marker: str) -> Remote:
        fault = self._call("create", "create", record_type, item)
        created = self.store.insert(scope, record_type, [(item, marker)])[0]
        if fault is not None:
            raise fault.error("create")
        return created

    def create_many(
        self, scope: str, record_type: str, items: Sequence[tuple[CanonicalRecord, str]]
    ) -> list[Remote | Exception]:
        """One bulk write per ``page_size`` items; faults apply item by item, as a bulk API reports."""
        results: list[Remote | Exception] = []
        for chunk in chunks(items, self.settings.page_size):
            self.calls.add("bulk_create")
            pending = self.store.pending_faults("create", record_type)
            if not pending:
                results.extend(self.store.insert(scope, record_type, chunk))
                continue
            outcomes: list[Remote | Exception | None] = []
            accepted: list[tuple[CanonicalRecord, str]] = []
            lost: set[int] = set()
            for item, marker in chunk:
                fault = self.store.take_fault("create", record_type, item, pending)
                if fault is not None and fault.mode != "lost_reply":
                    outcomes.append(fault.error("create"))
                    continue
                if fault is not None:
                    lost.add(len(accepted))
                outcomes.append(None)
                accepted.append((item, marker))
            stored = iter(enumerate(self.store.insert(scope, record_type, accepted)))
            for outcome in outcomes:
                if outcome is not None:
                    results.append(outcome)
                    continue
                n, remote = next(stored)
                results.append(
                    TransientError("injected lost_reply fault on create: the write was applied, "
                                   "the reply lost") if n in lost else remote
                )
        return results

    def update(
        self, scope: str, record_type: str, external_id: str, item: CanonicalRecord,
        changed: frozenset[str],
    ) -> Remote:
        fault = self._call("update", "update", record_type, item)
        values = {name: getattr(item, name, None) for name in changed}
        updated = self.store.change(scope, record_type, external_id, values)
        if fault is not None:
            raise fault.error("update")
        return updated

    def delete(self, scope: str, record_type: str, external_id: str) -> None:
        fault = self._call("delete", "delete", record_type)
        self.store.erase(scope, record_type, external_id)
        if fault is not None:
            raise fault.error("delete")

    def has_progress(self, scope: str, customer: str, marker: str) -> bool:
        self.calls.add("list_notes")
        return any(note[2] == marker for note in self.store.notes(scope, customer))

    def post_progress(self, scope: str, customer: str, title: str, body: str, marker: str) -> None:
        self.calls.add("add_note")
        self.store.add_note(scope, customer, title, body, marker)


__all__ = ["FAULT_MODES", "OPERATIONS", "Fault", "ReferenceConnector", "ReferenceSettings", "ReferenceStore"]
