"""The state store's boundary: a database failure becomes one ``StateStoreError`` line.

Every statement, commit and connection attempt through the store's engine passes SQLAlchemy's
``handle_error`` event, so one listener covers opening, migrating, reading and each transaction.
Constraint violations (``IntegrityError``) are left alone: the store's callers expect them (two
processes taking a lease at once) and a program error should stay a program error.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event, exc
from sqlalchemy.engine import ExceptionContext

from hub.errors import StateStoreError
from hub.state.location import masked, sqlite_file

#: PostgreSQL error codes (SQLSTATE) whose message a user can act on, beside connection failures.
_PG_REMEDIES = {
    "53100": "free space on the database server's disk, then run again: the next run picks up "
             "where this one stopped",
    "42501": "grant the user in [state] url the rights to create and write tables in its schema",
    "25006": "point [state] url at the primary server, not a read-only replica",
    "3D000": "create the database, or fix its name in [state] url",
    "42P01": "the store lacks pmhub's tables although it records a schema revision: restore it "
             "from a backup, or point [state] url at an empty schema",
}
_PG_RETRYABLE = {"57P01", "57P02", "57P03", "08000", "08003", "08006"}

#: How a damaged SQLite file is recovered; the same for garbage, truncation and corruption.
_RESTORE = ("restore it from a backup, or move it aside to start a fresh state (the next run "
            "finds the twins pmhub made by their markers)")


def translate_failures(engine: Engine) -> None:
    """Turn the engine's database failures into ``StateStoreError``, naming the store masked."""
    location = masked(engine.url)

    def handle_error(context: ExceptionContext) -> None:
        if context.is_pre_ping:  # the pool is testing a connection and will open another
            return
        error = context.original_exception
        if _is_program_error(context.sqlalchemy_exception) and not context.is_disconnect:
            return
        if engine.dialect.name == "sqlite":
            problem, remedy = _sqlite(error, sqlite_file(engine.url))
        else:
            problem, remedy = _server(error, disconnect=context.is_disconnect)
        raise StateStoreError(location, problem, remedy) from error

    event.listen(engine, "handle_error", handle_error)


def driver_failure(engine: Engine, statement: str, error: Exception) -> Exception:
    """What an error raised by the driver itself (a PostgreSQL COPY, which SQLAlchemy does not
    run) becomes: the same as through SQLAlchemy, its wrapper (``IntegrityError`` for a unique
    violation) for the code that sent it, or ``StateStoreError`` for a problem of the store."""
    dbapi = engine.dialect.loaded_dbapi
    if not isinstance(error, dbapi.Error):
        return error
    disconnect = engine.dialect.is_disconnect(error, None, None)
    wrapped = exc.DBAPIError.instance(statement, None, error, dbapi.Error,
                                      connection_invalidated=disconnect)
    if not isinstance(wrapped, exc.DBAPIError):
        return error
    if _is_program_error(wrapped) and not disconnect:
        return wrapped
    if engine.dialect.name == "sqlite":
        problem, remedy = _sqlite(error, sqlite_file(engine.url))
    else:
        problem, remedy = _server(error, disconnect=disconnect)
    return StateStoreError(masked(engine.url), problem, remedy)


def _is_program_error(error: exc.StatementError | None) -> bool:
    """Errors in the statement or its data rather than in the store, left to the code that sent
    them; ``None``: not a database error at all (a bug in Python code run during a statement)."""
    if error is None:
        return True
    if isinstance(error, exc.ProgrammingError):  # PostgreSQL also files a missing right here
        return getattr(error.orig, "sqlstate", None) not in _PG_REMEDIES
    return isinstance(error, (exc.IntegrityError, exc.DataError, exc.NotSupportedError,
                              exc.InterfaceError)) or not isinstance(error, exc.DatabaseError)


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return " ".join(text.splitlines()[0].split()) if text else type(error).__name__


def _sqlite(error: BaseException, file: Path | None) -> tuple[str, str]:
    name = getattr(error, "sqlite_errorname", "") or ""
    detail = _first_line(error)
    if name.startswith("SQLITE_CANTOPEN"):
        if file is not None and not file.parent.is_dir():
            return (f"the directory {file.parent} does not exist",
                    "create it, or point [state] url at one that does")
        return (f"cannot open the file ({detail})",
                "check that this user may read and write the file and its directory")
    if name.startswith("SQLITE_NOTADB"):
        return f"the file is not an SQLite database ({detail}): overwritten, or some other file", _RESTORE
    if name.startswith("SQLITE_CORRUPT"):
        return f"the file is damaged ({detail}), e.g. truncated", _RESTORE
    if name.startswith("SQLITE_FULL"):
        return (f"the disk is full ({detail})",
                "free space on the disk that holds it, then run again: the next run picks up where "
                "this one stopped")
    if name.startswith("SQLITE_READONLY"):
        return (f"the file cannot be written ({detail})",
                "make the file and its directory writable for this user (permissions, chattr -i, "
                "a read-only mount)")
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
        return (f"another process kept it locked too long ({detail})",
                "run again once the other process has finished")
    if name.startswith("SQLITE_IOERR"):
        return f"the disk failed to read or write it ({detail}, {name})", "check the disk, then run again"
    return f"{detail} ({name or type(error).__name__})", "check the file, then run again"


def _server(error: BaseException, *, disconnect: bool) -> tuple[str, str]:
    code: Any = getattr(error, "sqlstate", None)
    detail = _first_line(error).removeprefix("connection failed: ")
    if code in _PG_REMEDIES:
        return detail, _PG_REMEDIES[code]
    if code is None and "does not exist" in detail and "database" in detail:
        return detail, _PG_REMEDIES["3D000"]
    if code is None and ("authentication failed" in detail or "password" in detail):
        return detail, "check the user and password in [state] url (or its PGPASSWORD / .pgpass)"
    if code is None or disconnect or code in _PG_RETRYABLE:
        return (f"cannot reach the database server ({detail})",
                "check that the server is running and that [state] url names the right host, "
                "port, database and user")
    return f"{detail} (SQLSTATE {code})", "check the database server, then run again"
