"""The state store API. SQLite by default, PostgreSQL for scale; migrations run on open.

Methods take and return plain values; batches are the unit of work (one transaction each), so a
``kill -9`` loses at most the batch in flight, and the engine's intents make that batch safe to redo.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    bindparam,
    create_engine,
    delete,
    event,
    func,
    insert,
    select,
    union_all,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError

from hub.errors import ConfigError
from hub.state import bulk, history
from hub.state.behind import Touches, WriteBehind
from hub.state.clock import aware, utcnow
from hub.state.connection_data import ConnectionData
from hub.state.failures import translate_failures
from hub.state.membership import TableGrowth, among_ids, text_array
from hub.state.migrating import migrate as migrate_schema
from hub.state.pinging import ping_when_idle
from hub.state.schema import (
    conflicts,
    cursors,
    intents,
    leases,
    links,
    parked,
    progress,
    runs,
)
from hub.state.starting import (
    Lease,
    RunStart,
    StartedRun,
    conflicts_query,
    parked_query,
    pipelined_start,
    read_start,
)

MIGRATIONS = Path(__file__).parent / "migrations"


def default_state_url(*, create: bool = True) -> str:
    """The SQLite file in the data dir; ``create=False`` for a caller that only shows it."""
    from hub.paths import data_dir

    return f"sqlite:///{data_dir(create=create) / 'pmhub.db'}"


@dataclass(slots=True)
class Link:
    """Two twins and what each side looked like after the last sync. ``id`` is None until stored."""

    flow: str
    record_type: str
    a_id: str
    b_id: str
    a_version: str | None = None
    b_version: str | None = None
    a_fp: str | None = None
    b_fp: str | None = None
    a_snapshot: str | None = None
    b_snapshot: str | None = None
    state: str = "active"
    id: int | None = None

    def id_on(self, side: str) -> str:
        return self.a_id if side == "a" else self.b_id

    def version_on(self, side: str) -> str | None:
        return self.a_version if side == "a" else self.b_version

    def fp_on(self, side: str) -> str | None:
        return self.a_fp if side == "a" else self.b_fp

    def snapshot_on(self, side: str) -> dict[str, Any] | None:
        raw = self.a_snapshot if side == "a" else self.b_snapshot
        return json.loads(raw) if raw else None

    def with_side(self, side: str, *, version: str | None, fp: str | None = None,
                  snapshot: str | None = None) -> Link:
        """A copy with one side's version (and, when given, fingerprint and snapshot) replaced."""
        changes: dict[str, Any] = {f"{side}_version": version}
        if fp is not None:
            changes[f"{side}_fp"] = fp
        if snapshot is not None:
            changes[f"{side}_snapshot"] = snapshot
        return replace(self, **changes)


def _link(row: Any) -> Link:
    return Link(**{name: row._mapping[name] for name in Link.__slots__})


class StateStore(ConnectionData):
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        #: What reads outside a transaction go through. Each is one statement, so on PostgreSQL
        #: they run in autocommit: no BEGIN before the query and no ROLLBACK when the connection
        #: goes back to the pool, two round trips fewer per read. SQLite's are in-process anyway.
        self._reader = (engine.execution_options(isolation_level="AUTOCOMMIT")
                        if engine.dialect.name == "postgresql" else engine)
        #: Links this store inserted, for the ANALYZE they call for on PostgreSQL.
        self._links_growth = TableGrowth("links", ("id", "flow", "record_type", "a_id", "b_id", "state"))
        #: flow -> the run in progress this store started (the lease allows one per flow): the
        #: history rows of each page name it without a lookup.
        self._running: dict[str, int] = {}
        #: Links stored by this store so far (new ones, by any path): a room that looked a record
        #: up when it read it knows the answer still holds while this has not moved.
        self.links_stored = 0
        #: A page's writes running behind the run (``write_behind``).
        self._behind = WriteBehind(enabled=engine.dialect.name == "postgresql")

    @classmethod
    def open(cls, url: str | None = None, *, migrate: bool = True) -> StateStore:
        url = url or default_state_url()
        try:
            engine = create_engine(url, future=True, **_dialect_options(url))
        except Exception as error:  # bad URL, missing driver: a config problem, not a crash
            raise ConfigError(f"cannot use state url: {error}", key="state.url") from None
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", _sqlite_pragmas)
        if engine.dialect.name == "postgresql":
            event.listen(engine, "do_connect", _postgres_session)
        ping_when_idle(engine)
        translate_failures(engine)
        store = cls(engine)
        if migrate:
            store.migrate()
        return store

    def close(self) -> None:
        try:
            self._behind.close()
        finally:
            self.engine.dispose()

    # -- a page's writes behind the run (``hub.state.behind``) -------------------------------
    def write_behind(self, work: Callable[[], None], touches: Touches) -> None:
        """Do ``work`` (a page's transaction) while the caller goes on to its next page."""
        if self._behind.enabled:
            # Counted as handed over: a record looked up since, whose id the page does not link,
            # still has no link (``links_stored``), whenever the writer gets to it.
            self.links_stored += touches.new_links
        self._behind.submit(work, touches)

    def settle(self) -> None:
        """Wait for the work this thread left behind (``write_behind``); raise its failure."""
        self._behind.settle()

    @contextmanager
    def _read(self, *, settled: bool = True) -> Iterator[Connection]:
        """A connection for reads (autocommit on PostgreSQL), after the work left behind landed
        unless ``settled`` is False (a lookup the work does not affect)."""
        if settled:
            self.settle()
        with self._reader.connect() as conn:
            yield conn

    def migrate(self) -> None:
        """Bring the schema to the newest revision (cheap when it already is; one process at a
        time when it is not: see ``hub.state.migrating``)."""
        migrate_schema(self.engine)

    @contextmanager
    def _one_statement(self, *, settled: bool = True) -> Iterator[Connection]:
        """A connection for a write that is one statement, atomic by itself: in autocommit on
        PostgreSQL (no BEGIN and COMMIT round trips around it), in a transaction on SQLite; after
        the work left behind landed unless ``settled`` is False (a write of other rows than its)."""
        if settled:
            self.settle()
        if self.engine.dialect.name == "postgresql":
            with self._reader.connect() as conn:
                yield conn
        else:
            with self.engine.begin() as conn:
                yield conn

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        self.settle()
        with self.engine.begin() as conn:
            yield conn
        if self._links_growth.due() and self.engine.dialect.name == "postgresql":
            # In a transaction of its own, after the page's: ANALYZE holds a table lock that two
            # workers' page transactions must not wait on in turn.
            with self.engine.begin() as conn:
                self._links_growth.analyze_if_outgrown(conn)

    # -- links -----------------------------------------------------------------------------
    def links_by_ids(self, flow: str, record_type: str, side: str, ids: Sequence[str],
                     conn: Connection | None = None) -> dict[str, Link]:
        """Links whose ``side`` id is one of ``ids``, keyed by that id."""
        if not ids:
            return {}
        column = links.c.a_id if side == "a" else links.c.b_id
        found: dict[str, Link] = {}
        with self._lookup(conn, "links", ((flow, record_type, side, i) for i in ids)) as c:
            if c.dialect.name == "postgresql":
                # The lookup of every page, as the driver takes it: built and bound through
                # SQLAlchemy (its ARRAY type converting each of 500 ids), it took half again as long.
                rows: Sequence[Any] = c.exec_driver_sql(_PG_LINKS_BY[side], {
                    "flow": flow, "record_type": record_type, "ids": text_array(ids)}).all()
                for row in rows:
                    link = Link(*row)
                    found[link.id_on(side)] = link
                return found
            for among in among_ids(c, column, ids):
                # Fetched at once: the driver then converts the rows in one call, not one per row.
                rows = c.execute(select(*_LINK_COLUMNS).where(
                    links.c.flow == flow, links.c.record_type == record_type, among)).all()
                for row in rows:
                    link = Link(*row)
                    found[link.id_on(side)] = link
        return found

    def links_by_ids_ahead(self, flow: str, record_type: str, side: str,
                           ids: Sequence[str]) -> Callable[[], dict[str, Link]]:
        """``links_by_ids`` started now (on PostgreSQL on the reader thread, ``hub.state.behind``),
        answered when the returned function is called. Not for ids the caller may link meanwhile."""
        if not self._behind.unaffected("links", ((flow, record_type, side, i) for i in ids)):
            self.settle()  # here: the reader thread does not wait for this thread's writes
        return self._behind.ahead(lambda: self.links_by_ids(flow, record_type, side, ids))

    def linked_ends(self, conn: Connection, flow: str, record_type: str, a_ids: Sequence[str],
                    b_ids: Sequence[str]) -> tuple[set[str], set[str]]:
        """Which of ``a_ids`` are linked on side a and which of ``b_ids`` on side b: the ledger
        check of a page's new links, one statement for both sides that reads only the ids."""
        if not a_ids and not b_ids:
            return set(), set()
        wanted_a, wanted_b = set(a_ids), set(b_ids)
        parts = [select(links.c.a_id, links.c.b_id).where(
                     links.c.flow == flow, links.c.record_type == record_type, among)
                 for column, ids in ((links.c.a_id, a_ids), (links.c.b_id, b_ids))
                 for among in among_ids(conn, column, ids)]
        # UNION ALL, not OR: each half is looked up by its own unique index (SQLite would scan
        # the flow's links for an OR of the two).
        query = parts[0] if len(parts) == 1 else union_all(*parts)
        taken_a: set[str] = set()
        taken_b: set[str] = set()
        for a_id, b_id in conn.execute(query):
            if a_id in wanted_a:
                taken_a.add(a_id)
            if b_id in wanted_b:
                taken_b.add(b_id)
        return taken_a, taken_b

    def link_by_id(self, link_id: int) -> Link | None:
        with self._read() as c:
            row = c.execute(select(links).where(links.c.id == link_id)).first()
        return _link(row) if row else None

    def links_of(self, flow: str, record_type: str) -> Iterator[Link]:
        """Every active link of one record type in a flow."""
        with self._read() as c:
            rows = c.execute(select(links).where(links.c.flow == flow, links.c.record_type == record_type,
                                                 links.c.state == "active").order_by(links.c.id))
            for row in rows:
                yield _link(row)

    def linked_ids(self, flow: str, record_type: str, side: str, *,
                   after: int = 0) -> Iterator[tuple[int, str]]:
        """(link id, id on ``side``) of the links of one record type in a flow whose link id is
        above ``after``, in link id order (no snapshots loaded)."""
        column = links.c.a_id if side == "a" else links.c.b_id
        with self._read() as c:
            for row in c.execute(select(links.c.id, column).where(
                    links.c.flow == flow, links.c.record_type == record_type, links.c.id > after)
                    .order_by(links.c.id)):
                yield int(row[0]), row[1]

    def count_links(self, flow: str | None = None) -> int:
        query = select(func.count()).select_from(links)
        if flow is not None:
            query = query.where(links.c.flow == flow)
        with self._read() as c:
            return int(c.execute(query).scalar_one())

    def write_links(self, conn: Connection, rows: Iterable[Link], *, at: dt.datetime | None = None) -> None:
        """Insert new links (``id`` None), update the others, and append their issue history
        (``hub.state.history``); ``at`` stands for now (tests replaying weeks of history)."""
        now = at or utcnow()
        rows = list(rows)
        changed = [row for row in rows if row.id is not None]
        new = [row for row in rows if row.id is None]
        before = history.snapshots_before(conn, [r.id for r in changed if r.id is not None
                                                 and r.record_type == history.TRACKED_TYPE])
        new_ids: list[int] = []
        if new:
            # The ids come back from the insert itself: the history rows of new issue links
            # need them, and reading them back by a_id was a second lookup per link.
            new_ids = bulk.insert_returning_ids(
                conn, links, _NEW_LINK_COLUMNS,
                [(*(getattr(link, name) for name in _LINK_FIELDS), now, now) for link in new],
                key=("flow", "record_type", "a_id"))
            self._links_growth.added += len(new)
            if not self._behind.writing_here():  # counted when handed over (``write_behind``)
                self.links_stored += len(new)
        if changed:
            stmt = update(links).where(links.c.id == bindparam("link_id")).values(
                {k: bindparam(k) for k in (*_LINK_FIELDS, "updated_at")})
            conn.execute(stmt, [{**{k: getattr(row, k) for k in _LINK_FIELDS}, "updated_at": now,
                                 "link_id": row.id} for row in changed])
        history.record_links(conn, changed, before, list(zip(new, new_ids, strict=True)), now, self._running)

    def insert_link(self, link: Link) -> Link:
        """Store a new link now and return it with its id (conflicts need one to refer to)."""
        now = utcnow()
        values = {k: getattr(link, k) for k in Link.__slots__ if k != "id"}
        with self.transaction() as c:
            new_id = c.execute(insert(links).values(**values, created_at=now, updated_at=now)
                               .returning(links.c.id)).scalar_one()
            history.record_inserted(c, link, int(new_id), now, self._running)
        self.links_stored += 1
        return replace(link, id=int(new_id))

    def set_link_state(self, conn: Connection, link_id: int, state: str) -> None:
        conn.execute(update(links).where(links.c.id == link_id).values(state=state, updated_at=utcnow()))
        history.record_removed(conn, link_id, state, utcnow(), self._running)

    # -- cursors ---------------------------------------------------------------------------
    def cursor(self, flow: str, side: str, record_type: str) -> dt.datetime | None:
        with self._read() as c:
            value = c.execute(select(cursors.c.value).where(
                cursors.c.flow == flow, cursors.c.side == side, cursors.c.record_type == record_type,
            )).scalar_one_or_none()
        return dt.datetime.fromisoformat(value) if value else None

    def set_cursor(self, conn: Connection, flow: str, side: str, record_type: str,
                   value: dt.datetime) -> None:
        self.set_cursors(conn, flow, {(side, record_type): value})

    def set_cursors(self, conn: Connection | None, flow: str,
                    values: dict[tuple[str, str], dt.datetime]) -> None:
        """Store cursors, (side, record type) -> value, in one upsert: atomic by itself, so
        ``conn`` None runs it on its own (in autocommit on PostgreSQL)."""
        if not values:
            return
        now = utcnow()
        rows = [dict(flow=flow, side=side, record_type=record_type, value=value.isoformat(), updated_at=now)
                for (side, record_type), value in values.items()]
        upsert = _CURSOR_UPSERT[self.engine.dialect.name]
        if conn is not None:
            conn.execute(upsert, rows)
            return
        with self._one_statement() as c:
            c.execute(upsert, rows)

    # -- intents ---------------------------------------------------------------------------
    def intents_for(self, flow: str, record_type: str, target_side: str,
                    source_ids: Sequence[str], conn: Connection | None = None) -> dict[str, str]:
        """source id -> marker of intents still pending."""
        out: dict[str, str] = {}
        with self._lookup(conn, "intents", ((flow, record_type, target_side, i) for i in source_ids)) as c:
            if c.dialect.name == "postgresql":  # as the driver takes it, like ``links_by_ids``
                rows: Iterable[Any] = c.exec_driver_sql(_PG_INTENTS_FOR, _pg_among(
                    flow, record_type, target_side, source_ids))
                return {source_id: marker for source_id, marker in rows}
            for among in among_ids(c, intents.c.source_id, source_ids):
                rows = c.execute(select(intents.c.source_id, intents.c.marker).where(
                    intents.c.flow == flow, intents.c.record_type == record_type,
                    intents.c.target_side == target_side, among))
                out.update({r.source_id: r.marker for r in rows})
        return out

    def intent_with_marker(self, flow: str, record_type: str, target_side: str,
                           marker: str) -> str | None:
        """The source id of the pending intent whose create carries ``marker``, if there is one."""
        with self._read() as c:
            return c.execute(select(intents.c.source_id).where(
                intents.c.flow == flow, intents.c.marker == marker, intents.c.record_type == record_type,
                intents.c.target_side == target_side)).scalar()

    def add_intents(self, flow: str, record_type: str, target_side: str,
                    pairs: Sequence[tuple[str, str]]) -> None:
        """Record (source id, marker) intents and commit, before any create request goes out. An
        intent already pending keeps its marker (a create may be carrying it)."""
        if not pairs:
            return
        now = utcnow()
        columns = ("flow", "record_type", "target_side", "source_id", "marker", "created_at")
        rows = [(flow, record_type, target_side, s, m, now) for s, m in pairs]
        if not self._behind.unaffected("intents", ((flow, record_type, target_side, s) for s, _ in pairs)):
            self.settle()
        try:
            # Callers leave out the intents they found pending, so a plain insert nearly always
            # does (a COPY on PostgreSQL: a third of the time of an insert that skips taken keys).
            # Not waiting for the page written behind: these rows are others than its. One
            # statement, so no BEGIN and COMMIT to wait for while the writer thread runs.
            with self._one_statement(settled=False) as c:
                bulk.insert_rows(c, intents, columns, rows)
        except IntegrityError:
            with self.transaction() as c:
                bulk.insert_skipping_existing(c, intents, columns, rows,
                                              key=("flow", "record_type", "target_side", "source_id"))

    def drop_intents(self, conn: Connection, flow: str, record_type: str, target_side: str,
                     source_ids: Sequence[str]) -> None:
        if conn.dialect.name == "postgresql":
            if source_ids:
                conn.exec_driver_sql(_PG_DROP_INTENTS, _pg_among(flow, record_type, target_side, source_ids))
            return
        for among in among_ids(conn, intents.c.source_id, source_ids):
            conn.execute(delete(intents).where(
                intents.c.flow == flow, intents.c.record_type == record_type,
                intents.c.target_side == target_side, among))

    # -- parked ----------------------------------------------------------------------------
    def park(self, conn: Connection, flow: str, record_type: str, side: str, source_id: str,
             reason: str) -> None:
        now = utcnow()
        key = dict(flow=flow, record_type=record_type, side=side, source_id=source_id)
        updated = conn.execute(update(parked).filter_by(**key).values(
            reason=reason, attempts=parked.c.attempts + 1, updated_at=now))
        if updated.rowcount == 0:
            conn.execute(insert(parked).values(**key, reason=reason, attempts=1, created_at=now,
                                               updated_at=now))

    def unpark(self, conn: Connection, flow: str, record_type: str, side: str,
               source_ids: Sequence[str]) -> None:
        for among in among_ids(conn, parked.c.source_id, source_ids):
            conn.execute(delete(parked).where(
                parked.c.flow == flow, parked.c.record_type == record_type, parked.c.side == side,
                among))

    def parked_records(self, flow: str | None = None) -> list[dict[str, Any]]:
        with self._read() as c:
            return [dict(r._mapping) for r in c.execute(parked_query(flow))]

    def parked_record(self, parked_id: int) -> dict[str, Any] | None:
        with self._read() as c:
            row = c.execute(select(parked).where(parked.c.id == parked_id)).first()
        return dict(row._mapping) if row is not None else None

    def drop_parked(self, parked_id: int) -> bool:
        """Discard one parked record (a person gave up on it); False when there was none."""
        with self.transaction() as c:
            return bool(c.execute(delete(parked).where(parked.c.id == parked_id)).rowcount)

    # -- conflicts -------------------------------------------------------------------------
    def add_conflict(self, conn: Connection, link_id: int, flow: str, record_type: str, field: str,
                     base: Any, a_value: Any, b_value: Any) -> None:
        open_same = conn.execute(select(conflicts.c.id).where(
            conflicts.c.link_id == link_id, conflicts.c.field == field,
            conflicts.c.status == "open")).first()
        values = dict(base_value=json.dumps(base), a_value=json.dumps(a_value),
                      b_value=json.dumps(b_value))
        if open_same:
            conn.execute(update(conflicts).where(conflicts.c.id == open_same.id).values(**values))
        else:
            conn.execute(insert(conflicts).values(link_id=link_id, flow=flow, record_type=record_type,
                                                  field=field, status="open", created_at=utcnow(),
                                                  **values))

    def open_conflicts(self, flow: str | None = None, link_id: int | None = None) -> list[dict[str, Any]]:
        """Open conflicts, oldest first, with their links' ids (a run also reads those a person
        resolved and it has yet to write: ``run_start``)."""
        with self._read() as c:
            return [dict(r._mapping) for r in c.execute(conflicts_query(flow, link_id, ("open",)))]

    def conflict(self, conflict_id: int) -> dict[str, Any] | None:
        with self._read() as c:
            row = c.execute(select(conflicts).where(conflicts.c.id == conflict_id)).first()
        return dict(row._mapping) if row else None

    def resolve_conflict(self, conflict_id: int, winner: str) -> None:
        with self.transaction() as c:
            c.execute(update(conflicts).where(conflicts.c.id == conflict_id).values(
                status="resolved", resolution=winner, resolved_at=utcnow()))

    def close_conflict(self, conn: Connection, conflict_id: int) -> None:
        conn.execute(update(conflicts).where(conflicts.c.id == conflict_id).values(status="applied"))

    # -- runs ------------------------------------------------------------------------------
    def start_run(self, flow: str, dry_run: bool) -> int:
        with self._one_statement() as c:
            run_id = c.execute(insert(runs).values(flow=flow, started_at=utcnow(), status="running",
                                                   dry_run=dry_run).returning(runs.c.id)).scalar_one()
        self._running[flow] = int(run_id)
        return int(run_id)

    def run_start(self, flow: str) -> RunStart:
        """What a run of ``flow`` starts from (``hub.state.starting``): one round trip."""
        with self._read() as c:
            if c.dialect.name == "postgresql":
                return pipelined_start(c, flow, None)[1]
            return read_start(c, flow)

    def start_leased_run(self, flow: str, holder: str, ttl: dt.timedelta) -> StartedRun | None:
        """Take the flow's lease (as ``acquire_lease``), record a run in progress and read what it
        starts from (``run_start``); None when another live holder has the lease. One round trip
        on PostgreSQL (``hub.state.starting``), one transaction on SQLite."""
        now = utcnow()
        with self._one_statement() as c:
            if c.dialect.name == "postgresql":
                run_id, start = pipelined_start(c, flow, Lease(holder, now, now + ttl))
            else:
                taken = c.execute(self._lease_upsert(flow, holder, ttl, now)).first()
                if taken is None:
                    return None
                run_id = c.execute(insert(runs).values(flow=flow, started_at=now, status="running",
                                                       dry_run=False).returning(runs.c.id)).scalar_one()
                start = read_start(c, flow)
        if run_id is None:
            return None
        self._running[flow] = int(run_id)
        return StartedRun(int(run_id), start)

    def finish_run(self, run_id: int, status: str, stats: dict[str, Any], error: str | None = None, *,
                   release: tuple[str, str] | None = None) -> None:
        """Record how a run ended; ``release``: (flow, holder) whose lease to give up with it (one
        statement on PostgreSQL)."""
        ended = {"run_id": run_id, "ended_at": utcnow(), "ended_as": status, "run_stats": json.dumps(stats),
                 "run_error": error}
        with self._one_statement() as c:
            if release is None:
                c.execute(_RUN_END, ended)
            elif c.dialect.name == "postgresql":
                c.execute(_RUN_END_RELEASED, {**ended, "lease_flow": release[0], "lease_holder": release[1]})
            else:
                c.execute(_RUN_END, ended)
                c.execute(self._lease_release(*release))
        self._running = {flow: run for flow, run in self._running.items() if run != run_id}

    def last_runs(self, limit_per_flow: int = 1) -> list[dict[str, Any]]:
        with self._read() as c:
            rows = [dict(r._mapping) for r in c.execute(select(runs).order_by(runs.c.id.desc()).limit(500))]
        seen: dict[str, int] = {}
        out = []
        for row in rows:
            if seen.get(row["flow"], 0) < limit_per_flow:
                seen[row["flow"]] = seen.get(row["flow"], 0) + 1
                row["stats"] = json.loads(row["stats"]) if row["stats"] else {}
                row["started_at"] = aware(row["started_at"])
                row["finished_at"] = aware(row["finished_at"])
                out.append(row)
        return out

    # -- leases ----------------------------------------------------------------------------
    def acquire_lease(self, flow: str, holder: str, ttl: dt.timedelta) -> bool:
        """Take the flow's lease unless another live holder has it. Atomic on both backends: one
        upsert that inserts the row, or takes it over when it expired or is this holder's, and
        returns it only then."""
        with self._one_statement() as c:
            return c.execute(self._lease_upsert(flow, holder, ttl, utcnow())).first() is not None

    def _lease_upsert(self, flow: str, holder: str, ttl: dt.timedelta, now: dt.datetime) -> Any:
        dialect = postgresql if self.engine.dialect.name == "postgresql" else sqlite
        stmt = dialect.insert(leases).values(flow=flow, holder=holder, expires_at=now + ttl)
        return stmt.on_conflict_do_update(
            index_elements=[leases.c.flow],
            set_={"holder": stmt.excluded.holder, "expires_at": stmt.excluded.expires_at},
            where=(leases.c.expires_at < now) | (leases.c.holder == holder),
        ).returning(leases.c.flow)

    @staticmethod
    def _lease_release(flow: str, holder: str) -> Any:
        return delete(leases).where(leases.c.flow == flow, leases.c.holder == holder)

    def lease_holder(self, flow: str) -> str | None:
        with self._read() as c:
            return c.execute(select(leases.c.holder).where(leases.c.flow == flow)).scalar_one_or_none()

    def renew_lease(self, flow: str, holder: str, ttl: dt.timedelta) -> None:
        with self._one_statement() as c:
            c.execute(update(leases).where(leases.c.flow == flow, leases.c.holder == holder).values(
                expires_at=utcnow() + ttl))

    def release_lease(self, flow: str, holder: str) -> None:
        with self._one_statement() as c:
            c.execute(self._lease_release(flow, holder))

    # -- progress notes --------------------------------------------------------------------
    def progress_baseline(self, flow: str) -> dict[str, dict[str, str]]:
        """customer -> {issue key: status} as of the last progress note for that customer."""
        with self._read() as c:
            rows = c.execute(select(progress.c.customer, progress.c.statuses).where(progress.c.flow == flow))
            return {r.customer: json.loads(r.statuses) for r in rows}

    def set_progress_baseline(self, flow: str, customer: str, statuses: dict[str, str]) -> None:
        with self.transaction() as c:
            c.execute(delete(progress).where(progress.c.flow == flow, progress.c.customer == customer))
            c.execute(insert(progress).values(flow=flow, customer=customer, statuses=json.dumps(statuses),
                                              updated_at=utcnow()))

    # -- helpers ---------------------------------------------------------------------------
    @contextmanager
    def _lookup(self, conn: Connection | None, kind: str,
                keys: Iterable[tuple[str, str, str, str]]) -> Iterator[Connection]:
        """``conn`` when given; else a read that waits for the page written behind only when it
        writes one of ``keys`` of ``kind`` (``hub.state.behind``)."""
        if conn is not None:
            yield conn
            return
        with self._read(settled=not self._behind.unaffected(kind, keys)) as c:
            yield c


def _dialect_options(url: str) -> dict[str, Any]:
    """Engine options for the URL's backend, on PostgreSQL:

    - no hstore lookup: SQLAlchemy would look the type up on each new connection (a catalog query
      per run); the store has no hstore columns;
    - no server-side prepared statements (psycopg prepares a statement run five times): the
      server then plans a prepared ``= ANY($1)`` once for any array, and that generic plan walks
      the whole (flow, record type) range of an index and every dead row in it. The intents a
      backfill adds and drops a page at a time made each page's DELETE cost 12 ms instead of 2.
      Planned with its values each time, a lookup costs a parse more and stays on the index.
    """
    if make_url(url).get_backend_name() == "postgresql":
        return {"use_native_hstore": False, "connect_args": {"prepare_threshold": None}}
    return {}


def _postgres_session(_dialect: Any, _record: Any, _cargs: Any, cparams: dict[str, Any]) -> None:
    """Session settings sent with the connection request itself (no round trip of their own):
    no parallel workers. The store's statements are lookups of a page's ids, and the planner,
    finding one a few percent of a growing table, would start two workers for a seq scan whose
    start-up cost more than the whole scan (9-11 ms instead of 4 on a 25k-link table)."""
    if "service" in cparams:
        return  # the service file's options would be replaced, not extended
    # An explicit ``options`` replaces PGOPTIONS, so the user's settings are carried over.
    mine = os.environ.get("PGOPTIONS", "") if cparams.get("options") is None else cparams["options"]
    cparams["options"] = f"{mine} -c max_parallel_workers_per_gather=0".strip()


#: The columns a ``Link`` is made of, in its field order (not the timestamps, which it does not hold).
_LINK_COLUMNS = tuple(links.c[name] for name in Link.__slots__)
#: What a link stores besides its id, and a new link's columns (those and its timestamps).
_LINK_FIELDS = tuple(name for name in Link.__slots__ if name != "id")
_NEW_LINK_COLUMNS = (*_LINK_FIELDS, "created_at", "updated_at")
#: ``links_by_ids`` on PostgreSQL, by side: the ids as one array (psycopg sends a list as one).
_PG_LINKS_BY = {side: f"SELECT {', '.join(Link.__slots__)} FROM links WHERE flow = %(flow)s "
                      f"AND record_type = %(record_type)s AND {side}_id = ANY(%(ids)s::text[])"
                for side in ("a", "b")}
#: ``intents_for`` and ``drop_intents`` on PostgreSQL (parameters from ``_pg_among``).
_PG_AMONG_INTENTS = ("FROM intents WHERE flow = %(flow)s AND record_type = %(record_type)s "
                     "AND target_side = %(side)s AND source_id = ANY(%(ids)s::text[])")
_PG_INTENTS_FOR = f"SELECT source_id, marker {_PG_AMONG_INTENTS}"
_PG_DROP_INTENTS = f"DELETE {_PG_AMONG_INTENTS}"


def _cursor_upsert(dialect: Any) -> Any:
    stmt = dialect.insert(cursors)
    return stmt.on_conflict_do_update(
        index_elements=[cursors.c.flow, cursors.c.side, cursors.c.record_type],
        set_={"value": stmt.excluded.value, "updated_at": stmt.excluded.updated_at})


# The statements every run ends with, built once and bound at each run (no parameter is named
# after a column of runs, which an UPDATE would take for a value to set): a multi-row VALUES of
# inlined values was compiled again at each run (0.8 ms of a daemon's no-op), and building the
# statements took as long again.
#: The upsert of a flow's cursors by backend, executed with a row of values per cursor.
_CURSOR_UPSERT = {"postgresql": _cursor_upsert(postgresql), "sqlite": _cursor_upsert(sqlite)}
#: A run's end recorded (``finish_run``); on PostgreSQL with its lease released in one statement.
_RUN_END = update(runs).where(runs.c.id == bindparam("run_id")).values(
    finished_at=bindparam("ended_at"), status=bindparam("ended_as"), stats=bindparam("run_stats"),
    error=bindparam("run_error"))
_RUN_END_RELEASED = delete(leases).where(
    leases.c.flow == bindparam("lease_flow"), leases.c.holder == bindparam("lease_holder"),
).add_cte(_RUN_END.cte("done"))


def _pg_among(flow: str, record_type: str, side: str, ids: Sequence[str]) -> dict[str, Any]:
    return {"flow": flow, "record_type": record_type, "side": side, "ids": text_array(ids)}


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets `pmhub status` read while a sync writes; NORMAL is durable at each commit under WAL
    # except on power loss, which loses at most the last batch: the intents make that batch safe.
    # The busy timeout first: switching a fresh file to WAL waits for a process migrating it.
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
