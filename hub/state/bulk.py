"""A page's rows written in as few statements as each backend allows.

A backfill writes a link, an intent and a history row per record. Through SQLAlchemy's executemany
each row pays for its parameters being built and processed one by one, and on PostgreSQL each is
a statement of its own that the server parses, plans and runs. Here rows arrive as tuples in
column order, are converted once per distinct value where the column needs it, and go as:

- PostgreSQL: one ``COPY ... FROM STDIN`` per table and page (ids drawn from the table's sequence
  first when the caller needs them);
- SQLite: the driver's own executemany of one prepared INSERT (in-process, no round trips), or a
  multi-row ``INSERT ... RETURNING`` when the caller needs the ids.

Failures read as they do for every other statement (``hub.state.failures``): a unique violation
is SQLAlchemy's ``IntegrityError`` (the callers expect it), anything else the store's error.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Connection, Table

from hub.state.failures import driver_failure

#: Rows per multi-row INSERT on SQLite: 500 rows of a link's 13 columns stay far below its limit of
#: 32,766 bound parameters.
_SQLITE_ROWS = 500

Row = tuple[Any, ...]


def insert_rows(conn: Connection, table: Table, columns: Sequence[str], rows: Sequence[Row]) -> None:
    """Insert ``rows`` (tuples in ``columns`` order)."""
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        _copy(conn, table, columns, rows)
        return
    conn.exec_driver_sql(_insert_sql(conn, table, columns, 1), _converted(conn, table, columns, rows))


def insert_skipping_existing(conn: Connection, table: Table, columns: Sequence[str], rows: Sequence[Row],
                             key: Sequence[str]) -> None:
    """Insert ``rows``, skipping each whose ``key`` (a unique constraint's columns) is taken.
    PostgreSQL gets one statement over arrays of the columns (COPY cannot skip a row)."""
    if not rows:
        return
    skip = f" ON CONFLICT ({', '.join(_quoted(conn, c) for c in key)}) DO NOTHING"
    if conn.dialect.name == "postgresql":
        sql, parameters = _unnest_select(conn, table, columns, rows)
        names = ", ".join(_quoted(conn, c) for c in columns)
        conn.exec_driver_sql(f"INSERT INTO {_table(conn, table)} ({names}) {sql}{skip}", parameters)
        return
    conn.exec_driver_sql(_insert_sql(conn, table, columns, 1) + skip, _converted(conn, table, columns, rows))


def insert_returning_ids(conn: Connection, table: Table, columns: Sequence[str], rows: Sequence[Row],
                         key: Sequence[str]) -> list[int]:
    """Insert ``rows`` and return their new ids in the same order. ``key`` names columns that are
    unique among the rows (a unique constraint's): RETURNING promises no order, so ids are
    matched back to the rows by it."""
    if not rows:
        return []
    if conn.dialect.name == "postgresql":
        # Drawn from the serial's sequence in one statement, then written with the rows: the
        # sequence hands these ids to nobody else, so a COPY can carry them. The sequence is
        # looked up once, in FROM: as nextval's argument it was looked up again for every row.
        # One array back rather than a row per id (fetched one by one: 1.3 ms more a page).
        ids = [int(i) for i in conn.exec_driver_sql(
            "SELECT array_agg(nextval(s)) FROM CAST(pg_get_serial_sequence(%s, 'id') AS regclass) AS s, "
            "generate_series(1, %s)", (table.name, len(rows))).scalar_one()]
        _copy(conn, table, ("id", *columns), [(new_id, *row) for new_id, row in zip(ids, rows, strict=True)])
        return ids
    where = [columns.index(name) for name in key]
    found: dict[Row, int] = {}
    for start in range(0, len(rows), _SQLITE_ROWS):
        page = rows[start:start + _SQLITE_ROWS]
        sql = _insert_sql(conn, table, columns, len(page)) + " RETURNING id, " + ", ".join(
            _quoted(conn, name) for name in key)
        flat = tuple(value for row in _converted(conn, table, columns, page) for value in row)
        for returned in conn.exec_driver_sql(sql, flat):
            found[tuple(returned[1:])] = int(returned[0])
    return [found[tuple(row[i] for i in where)] for row in rows]


def _unnest_select(conn: Connection, table: Table, columns: Sequence[str],
                   rows: Sequence[Row]) -> tuple[str, tuple[Any, ...]]:
    """``SELECT`` of the rows from arrays of their columns, for PostgreSQL. A column with one value
    in every row (a page's flow, record type, timestamp) is sent once, not as an array of copies:
    each array element is dumped, escaped and parsed again."""
    selected: list[str] = []
    scalars: list[Any] = []
    unnested: list[str] = []
    arrays: list[list[Any]] = []
    for name, values in zip(columns, zip(*rows, strict=True), strict=True):
        kind = table.c[name].type.compile(conn.dialect)
        if all(value == values[0] for value in values):
            selected.append(f"%s::{kind}")
            scalars.append(values[0])
        else:
            selected.append(f"u.c{len(arrays)}")
            unnested.append(f"%s::{kind}[]")
            arrays.append(list(values))
    sql = "SELECT " + ", ".join(selected)
    if arrays:
        names = ", ".join(f"c{i}" for i in range(len(arrays)))
        sql += f" FROM unnest({', '.join(unnested)}) AS u({names})"
    return sql, (*scalars, *arrays)


def _copy(conn: Connection, table: Table, columns: Sequence[str], rows: Sequence[Row]) -> None:
    sql = f"COPY {_table(conn, table)} ({', '.join(_quoted(conn, c) for c in columns)}) FROM STDIN"
    driver = conn.connection.driver_connection
    assert driver is not None
    try:
        with driver.cursor() as cursor, cursor.copy(sql) as copy:
            for row in rows:
                copy.write_row(row)
    except Exception as error:
        raise driver_failure(conn.engine, sql, error) from error


def _insert_sql(conn: Connection, table: Table, columns: Sequence[str], count: int) -> str:
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    one = "(" + ", ".join([mark] * len(columns)) + ")"
    names = ", ".join(_quoted(conn, c) for c in columns)
    return f"INSERT INTO {_table(conn, table)} ({names}) VALUES " + ", ".join([one] * count)


def _converted(conn: Connection, table: Table, columns: Sequence[str], rows: Sequence[Row]) -> list[Row]:
    """The rows as the driver takes them: what SQLAlchemy's type would make of each value (SQLite
    stores datetimes as text in its own format), computed once per distinct value."""
    processors: list[tuple[int, Callable[[Any], Any]]] = []
    for i, name in enumerate(columns):
        found = table.c[name].type.dialect_impl(conn.dialect).bind_processor(conn.dialect)
        if found is not None:
            processors.append((i, _memoized(found)))
    if not processors:
        return list(rows)
    out = []
    for row in rows:
        values = list(row)
        for i, convert in processors:
            values[i] = convert(values[i])
        out.append(tuple(values))
    return out


def _memoized(process: Callable[[Any], Any]) -> Callable[[Any], Any]:
    # A page's rows share their timestamps: one conversion per page instead of one per row.
    seen: dict[Any, Any] = {}

    def convert(value: Any) -> Any:
        if value is None:
            return None
        if value not in seen:
            seen[value] = process(value)
        return seen[value]

    return convert


def _table(conn: Connection, table: Table) -> str:
    return conn.dialect.identifier_preparer.format_table(table)


def _quoted(conn: Connection, name: str) -> str:
    return conn.dialect.identifier_preparer.quote(name)
