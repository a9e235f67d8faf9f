"""Bringing the schema to the code's revision, one process at a time.

Two first runs at the same moment (cron and a shell, two workers) would otherwise both create the
tables and one would crash. The migrating process holds a lock the others wait on: an exclusive
transaction on SQLite (no extra file next to the database, and it works wherever SQLite does), a
transaction-level advisory lock on PostgreSQL. Whoever gets the lock next reads the revision again
and finds nothing left to do.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Connection, Engine, text

from hub.errors import StateStoreError
from hub.state.location import masked
from hub.state.revision import current_revision, head_revision, known_revisions, recorded_revision

MIGRATIONS = Path(__file__).parent / "migrations"

#: First key of PostgreSQL's two-key advisory lock ("pmhu"); the second is the schema's hash, so
#: stores in different schemas of one database migrate independently.
_PG_LOCK_CLASS = 0x706D6875


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision (no-op, and cheap, when it already is).

    Alembic and its scripts take longer to load than a no-op sync takes to run, so the revision is
    compared first with SQLAlchemy alone and Alembic is imported only to upgrade.
    """
    head = head_revision()
    current = recorded_revision(engine)
    if current == head:
        return
    _refuse_unknown(engine, current)
    from alembic import command
    from alembic.config import Config as AlembicConfig

    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        _hold_migration_lock(conn)
        current = current_revision(conn)
        if current == head:
            return  # another process migrated while this one waited for the lock
        _refuse_unknown(engine, current)
        config.attributes["connection"] = conn
        command.upgrade(config, "head")


def _hold_migration_lock(conn: Connection) -> None:
    """Take the lock for the rest of ``conn``'s transaction (released by its commit or rollback)."""
    if conn.dialect.name == "sqlite":
        # The first statement of the transaction, so pysqlite has not begun one implicitly; waits
        # up to the connection's busy_timeout for a migrating process to commit.
        conn.exec_driver_sql("BEGIN EXCLUSIVE")
    elif conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key, hashtext(coalesce(current_schema(), '')))"),
                     {"key": _PG_LOCK_CLASS})


def _refuse_unknown(engine: Engine, current: str | None) -> None:
    """A revision the migration files do not define was written by a newer pmhub: upgrading from
    it is impossible and running on it would misread its tables."""
    if current is None or current in known_revisions():
        return
    from importlib.metadata import PackageNotFoundError, version

    try:
        ours = f"pmhub {version('pmhub')}"
    except PackageNotFoundError:
        ours = "this pmhub"
    raise StateStoreError(
        masked(engine.url),
        f"its schema is at revision {current}, which {ours} does not know (a newer pmhub "
        f"upgraded it; this one knows up to {head_revision()})",
        "upgrade pmhub (pip install -U pmhub), or point [state] url at another store")
