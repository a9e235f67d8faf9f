"""Statements sized for each backend: "this column is one of these values", and keeping
PostgreSQL's statistics current."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Connection,
    Select,
    Text,
    any_,
    bindparam,
    func,
    literal_column,
    select,
    text,
)


def text_array(values: Sequence[str]) -> str:
    """``values`` (without repeats) as a PostgreSQL array literal, for a parameter cast to
    ``text[]``. A list goes to psycopg's array dumper, which adapts each element in Python: for a
    page's 500 ids, 0.6 ms more than this one string, three times a page."""
    quoted = (value.replace("\\", "\\\\").replace('"', '\\"') for value in dict.fromkeys(values))
    return "{" + ",".join(f'"{value}"' for value in quoted) + "}"


#: New rows below which a table's statistics are left to autovacuum.
ANALYZE_AT_LEAST = 1000


def among_ids(conn: Connection, column: ColumnElement[Any],
              values: Sequence[Any]) -> Iterator[ColumnElement[bool]]:
    """Conditions that together say "``column`` is one of ``values``", one per statement to run.

    One condition, whose statement text does not change with the number of values: SQLAlchemy
    compiles it once (an ``IN`` list is re-rendered for each call, 500 placeholders at a time).
    PostgreSQL takes the values as one array (``= ANY(:ids)``), SQLite as one JSON array it
    unpacks itself (``IN (SELECT value FROM json_each(:ids))``, looked up by the column's index
    like a list).
    Kept a generator so that callers need not change when a backend needs several statements.
    """
    values = list(dict.fromkeys(values))
    if not values:
        return
    if conn.dialect.name == "postgresql":
        yield column == any_(bindparam(None, values, type_=ARRAY(column.type)))
        return
    unpacked: Select[tuple[Any]] = select(literal_column("value")).select_from(
        func.json_each(bindparam(None, json.dumps(values), type_=Text())))
    yield column.in_(unpacked)


class TableGrowth:
    """Rows this process added to one table, and the ANALYZE on PostgreSQL that their number calls for.

    A table filled in one run (a backfill) has no statistics until autovacuum's next round: the
    planner then takes ``flow = ...`` for a rare value and reads links by id through the
    ``(flow, record_type)`` prefix of the unique index, every link of the flow for each page, so
    each page costs more as the table grows. Once analyzed it finds them by the whole key.
    Analyzing each time the table doubles keeps the passes few. SQLite needs none of this.
    """

    def __init__(self, table: str, columns: Sequence[str]) -> None:
        self.table = table
        #: The columns lookups filter on: only theirs are computed (a link's snapshots, the
        #: widest columns, took more than half of each ANALYZE and no query filters on them).
        self.columns = tuple(columns)
        #: Rows added since this process last analyzed the table.
        self.added = 0
        #: The row count the statistics held at the last look (None: not looked yet, or analyzed
        #: since): while fewer rows than that were added, there is nothing to look at.
        self._counted: float | None = None

    def due(self) -> bool:
        return self.added >= ANALYZE_AT_LEAST and (self._counted is None or self.added >= self._counted)

    def analyze_if_outgrown(self, conn: Connection) -> bool:
        """ANALYZE the table once the rows added are as many as it held when it was last
        analyzed (PostgreSQL only); True when it did."""
        if conn.dialect.name != "postgresql" or not self.due():
            return False
        # reltuples is the row count the last ANALYZE (or VACUUM) saw; -1 for a table never analyzed.
        counted = conn.execute(text("SELECT reltuples FROM pg_class WHERE oid = CAST(:name AS regclass)"),
                               {"name": self.table}).scalar()
        if counted is not None and self.added < counted:
            self._counted = float(counted)
            return False
        names = ", ".join(f'"{name}"' for name in self.columns)
        conn.exec_driver_sql(f'ANALYZE "{self.table}" ({names})')
        self.added, self._counted = 0, None
        return True
