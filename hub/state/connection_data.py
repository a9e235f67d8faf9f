"""What each connection keeps in the state store between runs: its connector's secrets (encrypted
by their owner), the HTTP validators of its conditional requests, and the webhook deliveries it
has seen (so that a replay is recognised after a restart too).

Part of ``StateStore``, which provides its connections: none of it touches the sync's own tables.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING

from sqlalchemy import Connection, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from hub.state.clock import aware, utcnow
from hub.state.schema import http_validators, secrets, webhook_deliveries


class ConnectionData:
    """The store's methods for these records (``StateStore`` inherits them)."""

    if TYPE_CHECKING:  # provided by ``StateStore``
        def _read(self, *, settled: bool = True) -> AbstractContextManager[Connection]: ...
        def transaction(self) -> AbstractContextManager[Connection]: ...

    # -- connector secrets (already encrypted by their owner) -------------------------------
    def get_secret(self, connection: str, key: str) -> str | None:
        with self._read() as c:
            return c.execute(select(secrets.c.value).where(
                secrets.c.connection == connection, secrets.c.key == key)).scalar_one_or_none()

    def put_secret(self, connection: str, key: str, value: str) -> None:
        with self.transaction() as c:
            c.execute(delete(secrets).where(secrets.c.connection == connection, secrets.c.key == key))
            c.execute(insert(secrets).values(connection=connection, key=key, value=value,
                                             updated_at=utcnow()))

    def delete_secret(self, connection: str, key: str) -> None:
        with self.transaction() as c:
            c.execute(delete(secrets).where(secrets.c.connection == connection, secrets.c.key == key))

    # -- HTTP validators per connection and listing (conditional requests across runs) -----
    def get_validators(self, connection: str, key: str) -> dict[str, str | None] | None:
        """``{"etag": ..., "last_modified": ..., "body": ...}`` stored under ``key``, or None."""
        table = http_validators
        with self._read() as c:
            row = c.execute(select(table.c.etag, table.c.last_modified, table.c.body).where(
                table.c.connection == connection, table.c.key == _validator_key(key))).first()
        return dict(row._mapping) if row else None

    def put_validators(self, connection: str, key: str, *, etag: str | None,
                       last_modified: str | None, body: str | None) -> None:
        """Store (or replace) the validators under ``key``; committed at once."""
        table, key = http_validators, _validator_key(key)
        values = dict(etag=etag, last_modified=last_modified, body=body, updated_at=utcnow())
        with self.transaction() as c:
            updated = c.execute(update(table).where(
                table.c.connection == connection, table.c.key == key).values(**values))
            if updated.rowcount:
                return
            try:
                with c.begin_nested():
                    c.execute(insert(table).values(connection=connection, key=key, **values))
            except IntegrityError:
                pass  # another process stored this key a moment ago: its validators do as well

    def delete_validators(self, connection: str, key: str) -> None:
        with self.transaction() as c:
            c.execute(delete(http_validators).where(http_validators.c.connection == connection,
                                                    http_validators.c.key == _validator_key(key)))

    # -- webhook deliveries (replays are recognised, after a restart too) -------------------
    def remember_delivery(self, connection: str, delivery_id: str, keep: dt.timedelta) -> bool:
        """Record a delivery; False when it was already recorded (and has not expired): a replay."""
        table, now = webhook_deliveries, utcnow()
        delivery_id = _validator_key(delivery_id)
        with self.transaction() as c:
            seen = c.execute(select(table.c.expires_at).where(
                table.c.connection == connection, table.c.delivery_id == delivery_id)).first()
            if seen is not None and aware(seen.expires_at) > now:  # type: ignore[operator]
                return False
            if seen is not None:  # expired: this is a new delivery that happens to reuse the id
                c.execute(delete(table).where(table.c.connection == connection,
                                              table.c.delivery_id == delivery_id))
            try:
                with c.begin_nested():
                    c.execute(insert(table).values(connection=connection, delivery_id=delivery_id,
                                                   received_at=now, expires_at=now + keep))
            except IntegrityError:
                return False  # the same delivery arriving twice at once: the other one counts
        return True

    def last_deliveries(self) -> dict[str, dt.datetime]:
        """connection -> when its latest remembered delivery arrived."""
        table = webhook_deliveries
        with self._read() as c:
            rows = c.execute(select(table.c.connection, func.max(table.c.received_at))
                             .group_by(table.c.connection))
            return {row[0]: aware(row[1]) for row in rows if row[1] is not None}  # type: ignore[misc]

    def forget_expired_deliveries(self) -> int:
        """Delete deliveries past their expiry; return how many."""
        with self.transaction() as c:
            gone = c.execute(delete(webhook_deliveries).where(webhook_deliveries.c.expires_at < utcnow()))
            return int(gone.rowcount or 0)


def _validator_key(key: str) -> str:
    # The column holds 255 characters; a longer key (a URL with a long query) is stored by its hash.
    if len(key) <= 255:
        return key
    return "sha256:" + hashlib.sha256(key.encode()).hexdigest()
