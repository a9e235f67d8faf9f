"""The schema revision, checked without Alembic: a cron no-op must not pay to load the migrations.

The head is read from the migration files' ``revision``/``down_revision`` lines (a text scan, no
import); ``tests/test_startup.py`` checks it equals Alembic's own head.
"""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import Connection, Engine, inspect, text

from hub.state.failures import driver_failure

VERSIONS = Path(__file__).parent / "migrations" / "versions"
#: PostgreSQL's SQLSTATE for "relation does not exist".
UNDEFINED_TABLE = "42P01"

_ASSIGNMENT = re.compile(r"""^(revision|down_revision)\s*(?::[^=]*)?=\s*["']([^"']+)["']""", re.MULTILINE)


def known_revisions(versions: Path = VERSIONS) -> dict[str, str | None]:
    """Every revision the migration files define -> the revision it revises (None for the first)."""
    known: dict[str, str | None] = {}
    for script in versions.glob("*.py"):
        found = dict(_ASSIGNMENT.findall(script.read_text(encoding="utf-8")))
        if "revision" in found:
            known[found["revision"]] = found.get("down_revision")
    return known


def head_revision(versions: Path = VERSIONS) -> str:
    """The one revision no other migration revises."""
    known = known_revisions(versions)
    heads = set(known) - set(known.values())
    if len(heads) != 1:
        raise RuntimeError(f"migrations in {versions} have {len(heads)} heads: {sorted(heads)}")
    return heads.pop()


def current_revision(conn: Connection) -> str | None:
    """The revision recorded in ``alembic_version``, or None (no table, empty, or several rows)."""
    if not _has_version_table(conn):
        return None
    rows = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    return rows[0] if len(rows) == 1 else None


def recorded_revision(engine: Engine) -> str | None:
    """``current_revision`` as a run's first look: on PostgreSQL one statement in autocommit (no
    BEGIN and ROLLBACK around it, no catalog lookup first). It goes to the driver itself, where a
    missing table (a new store) is an error to expect rather than the store's failure."""
    if engine.dialect.name != "postgresql":
        with engine.connect() as conn:
            return current_revision(conn)
    sql = "SELECT version_num FROM alembic_version"
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        driver = conn.connection.driver_connection
        assert driver is not None
        try:
            rows = [row[0] for row in driver.execute(sql).fetchall()]
        except Exception as error:
            if getattr(error, "sqlstate", None) == UNDEFINED_TABLE:
                return None
            raise driver_failure(engine, sql, error) from error
    return rows[0] if len(rows) == 1 else None


def _has_version_table(conn: Connection) -> bool:
    # Asked directly rather than through SQLAlchemy's inspector, whose catalog query PostgreSQL
    # takes a few milliseconds to plan on every run's first connection.
    if conn.dialect.name == "postgresql":
        return conn.execute(text("SELECT to_regclass('alembic_version') IS NOT NULL")).scalar() is True
    if conn.dialect.name == "sqlite":
        return conn.execute(text("SELECT 1 FROM sqlite_master WHERE type = 'table' "
                                 "AND name = 'alembic_version'")).first() is not None
    return inspect(conn).has_table("alembic_version")
