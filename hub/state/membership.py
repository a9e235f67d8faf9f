"""Statements sized for each backend: "this column is one of these values",
inserts that skip rows whose unique key is taken, and keeping PostgreSQL's statistics current."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import ARRAY, ColumnElement, Connection, Insert, Table, any_, bindparam, text
from sqlalchemy.dialects import postgresql, sqlite

#: Values per ``IN`` list on SQLite, well under its limit on bound parameters.
_SQLITE_CHUNK = 500


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


def refresh_statistics(conn: Connection, tables: Sequence[str]) -> None:
    """ANALYZE each table that has changed by half of its rows since it was last analyzed.

    A table filled in one run (a backfill) has no statistics until autovacuum's next round: the
    planner then takes ``flow = ...`` for a rare value and reads a link by id through the
    ``(flow, record_type)`` prefix of the unique index, every link of the flow for each page, so
    each page costs more as the table grows. Once analyzed it finds them by the whole key. Half
    the rows keeps the ANALYZE passes few (one each time the table doubles).
    """
    if conn.dialect.name != "postgresql":
        return
    due = conn.execute(text(
        "SELECT relname FROM pg_stat_user_tables WHERE relid = ANY(CAST(:tables AS regclass[])) "
        "AND n_mod_since_analyze >= 1000 AND n_mod_since_analyze * 2 >= n_live_tup"),
        {"tables": list(tables)}).scalars().all()
    for name in due:
        conn.exec_driver_sql(f'ANALYZE "{name}"')
