"""Statements sized for each backend: "this column is one of these values",
inserts that skip rows whose unique key is taken, and keeping PostgreSQL's statistics current."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import ARRAY, ColumnElement, Connection, Insert, Table, any_, bindparam, text
from sqlalchemy.dialects import postgresql, sqlite

#: Values per ``IN`` list on SQLite, well under its limit on bound parameters.
_SQLITE_CHUNK = 500

#: New rows below which a table's statistics are left to autovacuum.
ANALYZE_AT_LEAST = 1000


def among_ids(conn: Connection, column: ColumnElement[Any],
              values: Sequence[Any]) -> Iterator[ColumnElement[bool]]:
    """Conditions that together say "``column`` is one of ``values``", one per statement to run.

    PostgreSQL takes them all as one array (``= ANY(:ids)``): one statement, whose text does not
    change with the number of values, so psycopg prepares it once and the server plans it once.
    SQLite has no arrays; it gets ``IN`` lists of at most ``_SQLITE_CHUNK`` values.
    """
    values = list(dict.fromkeys(values))
    if not values:
        return
    if conn.dialect.name == "postgresql":
        yield column == any_(bindparam(None, values, type_=ARRAY(column.type)))
        return
    for start in range(0, len(values), _SQLITE_CHUNK):
        yield column.in_(values[start:start + _SQLITE_CHUNK])


def insert_skipping_existing(conn: Connection, table: Table, key: Sequence[str]) -> Insert:
    """``INSERT ... ON CONFLICT (key) DO NOTHING`` in the connection's dialect (both have it)."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(table).on_conflict_do_nothing(index_elements=list(key))


def analyze_when_outgrown(conn: Connection, table: str, inserted: int) -> bool:
    """ANALYZE ``table`` once ``inserted`` rows (added since this process last analyzed it) are
    as many as it held when it was last analyzed; True when it did.

    A table filled in one run (a backfill) has no statistics until autovacuum's next round: the
    planner then takes ``flow = ...`` for a rare value and reads links by id through the
    ``(flow, record_type)`` prefix of the unique index, every link of the flow for each page, so
    each page costs more as the table grows. Once analyzed it finds them by the whole key.
    Analyzing each time the table doubles keeps the passes few. SQLite needs none of this.
    """
    if conn.dialect.name != "postgresql" or inserted < ANALYZE_AT_LEAST:
        return False
    # reltuples is the row count the last ANALYZE (or VACUUM) saw; -1 for a table never analyzed.
    known = conn.execute(text("SELECT reltuples FROM pg_class WHERE oid = CAST(:name AS regclass)"),
                         {"name": table}).scalar()
    if known is not None and inserted < known:
        return False
    conn.exec_driver_sql(f'ANALYZE "{table}"')
    return True
