"""A state store of its own on a shared PostgreSQL server, for tests and benchmarks: a fresh
schema, its URL (``search_path`` set through the connection's ``options``) and, afterwards, the
schema dropped. The defaults are the local server of the development machine and of CI."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

#: Where schemas are made and dropped (libpq's form, for psycopg).
LOCAL_DSN = "host=127.0.0.1 port=5432 dbname=test user=postgres"
#: The same server as a state URL.
LOCAL_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def libpq_dsn(url: str) -> str:
    """The server of a SQLAlchemy state URL in the form psycopg connects with."""
    from sqlalchemy.engine import make_url

    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@contextmanager
def fresh_schema(prefix: str = "pmhub", *, url: str = LOCAL_URL, dsn: str | None = None) -> Iterator[str]:
    """A state URL on a new schema named ``prefix_<random>`` of ``url``'s server (made and dropped
    through ``dsn``, by default the same server), dropped when the block ends."""
    import psycopg  # imported here: the contract kit loads without the PostgreSQL driver

    dsn = dsn or libpq_dsn(url)
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield f"{url}?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")
