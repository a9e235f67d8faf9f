"""What the tests see state stores send: each statement, and on PostgreSQL each round trip.

SQLAlchemy's statement events miss what the store hands the driver itself (a COPY, a pipeline of
statements), so on PostgreSQL the tests read libpq's protocol trace of every pooled connection
checked out in the block instead: there a round trip ends at the server's ReadyForQuery, the
message the client waits for. On SQLite, which answers in the process, the events tell it all.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from psycopg import pq
from sqlalchemy import Engine, event
from sqlalchemy.pool import Pool

#: A traced message starts a line: direction (F from the client, B from the server), length, type.
_MESSAGE = re.compile(r"\n(?=[FB]\t\d+\t)")
#: A Parse message's text after its type: the statement's name, then its SQL, then its parameters.
_PARSED_SQL = re.compile(r'^ "[^"]*" "(.*)" \d+', re.DOTALL)


@dataclass
class Sent:
    statements: list[str] = field(default_factory=list)
    #: On PostgreSQL: each time a client waited for the server, the statements it had sent.
    trips: list[list[str]] = field(default_factory=list)

    @property
    def round_trips(self) -> int:
        return len(self.trips)

    def of(self, fragment: str) -> list[str]:
        """The statements whose SQL holds ``fragment``."""
        return [sql for sql in self.statements if fragment in sql]

    def trips_with(self, fragment: str) -> list[list[str]]:
        """The round trips that sent a statement holding ``fragment``, each as what it sent."""
        return [trip for trip in self.trips if any(fragment in sql for sql in trip)]

    def trip_of(self, fragment: str) -> list[str]:
        """What the first round trip that sent a statement holding ``fragment`` sent."""
        return self.trips_with(fragment)[0]

    def read_trace(self, text: str) -> None:
        trip: list[str] = []
        for message in _MESSAGE.split(text):
            direction, _, kind, rest = [*message.split("\t", 3), "", "", ""][:4]
            if direction == "B" and kind.startswith("ReadyForQuery"):
                self.trips.append(trip)
                self.statements.extend(trip)
                trip = []
            elif direction == "F" and kind == "Query":
                trip.append(_collapsed(rest.strip()[1:-1]))
            elif direction == "F" and kind == "Parse" and (parsed := _PARSED_SQL.match(rest)):
                trip.append(_collapsed(parsed.group(1)))


def _collapsed(sql: str) -> str:
    return " ".join(sql.split())


@contextmanager
def sent_to_stores() -> Iterator[Sent]:
    """Everything any store sends while in the block (the CLI opens its own store)."""
    sent = Sent()
    traced: dict[int, tuple[Any, Any]] = {}

    def on_sqlite(conn: Any, _cursor: object, statement: str, *_: object) -> None:
        if conn.dialect.name == "sqlite":
            sent.statements.append(_collapsed(statement))

    def checkout(dbapi_connection: Any, *_: object) -> None:
        pgconn = getattr(dbapi_connection, "pgconn", None)
        if pgconn is None or id(dbapi_connection) in traced:
            return
        # Closed by ``_finish``, at check-in or at the block's end.
        trace = tempfile.TemporaryFile(mode="w+", encoding="utf-8", errors="replace")  # noqa: SIM115
        pgconn.trace(trace.fileno())
        pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS)
        traced[id(dbapi_connection)] = (pgconn, trace)

    def checkin(dbapi_connection: Any, *_: object) -> None:
        if (found := traced.pop(id(dbapi_connection), None)) is not None:
            _finish(*found)

    def _finish(pgconn: Any, trace: Any) -> None:
        pgconn.untrace()
        trace.seek(0)
        sent.read_trace(trace.read())
        trace.close()

    event.listen(Engine, "before_cursor_execute", on_sqlite)
    event.listen(Pool, "checkout", checkout)
    event.listen(Pool, "checkin", checkin)
    try:
        yield sent
    finally:
        event.remove(Engine, "before_cursor_execute", on_sqlite)
        event.remove(Pool, "checkout", checkout)
        event.remove(Pool, "checkin", checkin)
        for found in list(traced.values()):  # still checked out: what they sent so far
            _finish(*found)
        traced.clear()
