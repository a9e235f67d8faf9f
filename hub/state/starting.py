"""A run's start in one round trip: its lease and run record, and what the run starts from.

Every run of a flow begins the same way: it takes the flow's lease and records itself, then reads
the flow's parked records, the conflicts waiting on it and its cursors. On a worker's kept-open hub
a run of one record (a webhook's targeted sync) is mostly these statements. On PostgreSQL they go
to the server as one pipeline (psycopg's pipeline mode: each statement is sent before the answer to
the one before it arrives, and the server answers them all at once), as fixed SQL the driver takes
as it is (SQLAlchemy would compile each of them on a fresh hub's first run). The pipeline is one
implicit transaction: a run that could not read what it starts from has not started either.

On SQLite, which answers in this process, they are the same statements through SQLAlchemy, in one
transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Select, select

from hub.state.failures import driver_failure
from hub.state.schema import conflicts, cursors, links, parked

#: The conflicts a run starts from: open ones, and those a person resolved that are not written yet.
WAITING = ("open", "resolved")


@dataclass(frozen=True, slots=True)
class RunStart:
    """What a run of a flow starts from, read at once: its parked records (oldest first), the
    conflicts waiting on it (``WAITING``, oldest first, with their links' ids) and its cursors,
    (side, record type) -> value."""

    parked: list[dict[str, Any]]
    conflicts: list[dict[str, Any]]
    cursors: dict[tuple[str, str], dt.datetime]


@dataclass(frozen=True, slots=True)
class StartedRun:
    """A run that took its flow's lease: its id in the run history, and what it starts from."""

    id: int
    start: RunStart


@dataclass(frozen=True, slots=True)
class Lease:
    """The lease a run takes as it starts: held by ``holder`` until ``expires_at``; taken over from
    another holder only once theirs expired before ``now``."""

    holder: str
    now: dt.datetime
    expires_at: dt.datetime


def parked_query(flow: str | None) -> Select[Any]:
    query = select(parked).order_by(parked.c.id)
    return query if flow is None else query.where(parked.c.flow == flow)


def conflicts_query(flow: str | None, link_id: int | None, waiting: Sequence[str]) -> Select[Any]:
    query = select(conflicts, links.c.a_id, links.c.b_id).join(links).where(
        conflicts.c.status.in_(waiting)).order_by(conflicts.c.id)
    if flow is not None:
        query = query.where(conflicts.c.flow == flow)
    if link_id is not None:
        query = query.where(conflicts.c.link_id == link_id)
    return query


def cursors_query(flow: str) -> Select[Any]:
    return select(cursors.c.side, cursors.c.record_type, cursors.c.value).where(cursors.c.flow == flow)


def cursor_values(rows: Sequence[Any]) -> dict[tuple[str, str], dt.datetime]:
    return {(side, record_type): dt.datetime.fromisoformat(value) for side, record_type, value in rows}


def read_start(conn: Connection, flow: str) -> RunStart:
    """``RunStart`` through SQLAlchemy, on ``conn`` (SQLite's way; any backend's)."""
    return RunStart(parked=[dict(r._mapping) for r in conn.execute(parked_query(flow))],
                    conflicts=[dict(r._mapping) for r in conn.execute(conflicts_query(flow, None, WAITING))],
                    cursors=cursor_values(conn.execute(cursors_query(flow)).all()))


def pipelined_start(conn: Connection, flow: str, lease: Lease | None) -> tuple[int | None, RunStart]:
    """On PostgreSQL, in one round trip: take the lease and record the run (when ``lease`` is
    given; the run's id, or None when another live holder has the lease), and read ``RunStart``."""
    driver = conn.connection.driver_connection
    assert driver is not None
    run_id: int | None = None
    try:
        with driver.pipeline():
            started = None
            if lease is not None:
                started = driver.execute(_PG_LEASED_RUN, {
                    "flow": flow, "holder": lease.holder, "now": lease.now, "expires_at": lease.expires_at})
            parked_rows, conflict_rows, cursor_rows = (driver.execute(query, {"flow": flow})
                                                       for query in _PG_START_READS)
        if started is not None:
            row = started.fetchone()
            run_id = None if row is None else int(row[0])
        start = RunStart(parked=_dicts(parked_rows), conflicts=_dicts(conflict_rows),
                         cursors=cursor_values(cursor_rows.fetchall()))
    except Exception as error:
        sent = (_PG_LEASED_RUN, *_PG_START_READS) if lease is not None else _PG_START_READS
        raise driver_failure(conn.engine, "; ".join(sent), error) from error
    return run_id, start


def _dicts(cursor: Any) -> list[dict[str, Any]]:
    names = [column.name for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _columns(table: Any) -> str:
    return ", ".join(f"{table.name}.{column.name}" for column in table.c)


#: The lease taken (inserted, or taken over when it expired or is this holder's) and the run
#: recorded only then, as ``StateStore.start_leased_run`` does through SQLAlchemy.
_PG_LEASED_RUN = (
    "WITH taken AS (INSERT INTO leases (flow, holder, expires_at) VALUES (%(flow)s, %(holder)s, "
    "%(expires_at)s) ON CONFLICT (flow) DO UPDATE SET holder = excluded.holder, expires_at = "
    "excluded.expires_at WHERE leases.expires_at < %(now)s OR leases.holder = %(holder)s "
    "RETURNING flow) "
    "INSERT INTO runs (flow, started_at, status, dry_run) "
    "SELECT flow, %(now)s, 'running', false FROM taken RETURNING id")
#: ``parked_query``, ``conflicts_query`` (``WAITING``) and ``cursors_query`` of one flow.
_PG_START_READS = (
    f"SELECT {_columns(parked)} FROM parked WHERE parked.flow = %(flow)s ORDER BY parked.id",
    f"SELECT {_columns(conflicts)}, links.a_id, links.b_id FROM conflicts "
    "JOIN links ON links.id = conflicts.link_id "
    f"WHERE conflicts.status IN ({', '.join(repr(status) for status in WAITING)}) "
    "AND conflicts.flow = %(flow)s ORDER BY conflicts.id",
    "SELECT side, record_type, value FROM cursors WHERE flow = %(flow)s",
)
