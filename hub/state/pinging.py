"""Testing a pooled connection before use only when it may have gone stale.

SQLAlchemy's ``pool_pre_ping`` sends a query each time a connection leaves the pool; a run takes
one out for every read and commit, so on PostgreSQL a no-op sync spent a round trip per statement
on pings. A connection handed back moments ago by this process is as good as it was then (a
server that went away since fails the statement like any other failure, which the store
reports). One that sat idle longer (a daemon between runs, a server restarted or an idle timeout
in between) is pinged first and replaced when the ping finds it closed, as pre-ping would.
A new connection is never pinged: it has just answered.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import Engine, event, exc

#: Seconds a connection may sit in the pool and still be used without a ping.
TRUSTED_FOR = 10.0


def ping_when_idle(engine: Engine) -> None:
    """Ping the engine's pooled connections on checkout once they have been idle ``TRUSTED_FOR``."""
    dialect = engine.dialect

    def checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info["pmhub_idle_since"] = time.monotonic()

    def checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.pop("pmhub_idle_since", None)
        if since is None or time.monotonic() - since < TRUSTED_FOR:
            return
        try:
            alive = dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as error:
            if not dialect.is_disconnect(error, dbapi_connection, None):
                raise
            alive = False
        if not alive:
            # The pool discards this connection and checks out (or opens) another.
            raise exc.DisconnectionError("a pooled connection was closed while idle")

    event.listen(engine, "checkin", checkin)
    event.listen(engine, "checkout", checkout)
