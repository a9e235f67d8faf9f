"""The SQLite connection under a reference store: file or shared in-memory, transactions, patience.

Records and faults are tables of one database so that a fault a test injects reaches a sync running in
another process; this module is only the plumbing both share.
"""

from __future__ import annotations

import sqlite3
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

_T = TypeVar("_T")
#: How long a statement waits for another connection's lock before giving up.
_PATIENCE_SECONDS = 30.0


class Database:
    """One connection, usable from several threads: ``path`` is a file or ``memory:NAME``."""

    def __init__(self, path: str) -> None:
        if path.startswith("memory:"):
            name = urllib.parse.quote(path.removeprefix("memory:"), safe="")
            if not name:
                raise ValueError("a memory store needs a name: memory:NAME")
            self._db = sqlite3.connect(
                f"file:{name}?mode=memory&cache=shared", uri=True, isolation_level=None,
                check_same_thread=False,
            )
            # Shared-cache readers otherwise take table locks that make a concurrent writer fail
            # at once. Seeing a writer's rows before its commit is harmless here: one writer at a
            # time hands out increasing timestamps, so a listing never skips past an unseen row.
            self._db.execute("PRAGMA read_uncommitted = true")
        else:
            self._db = sqlite3.connect(
                path, timeout=_PATIENCE_SECONDS, isolation_level=None, check_same_thread=False
            )
            self._db.execute(f"PRAGMA busy_timeout = {int(_PATIENCE_SECONDS * 1000)}")
            self._db.execute("PRAGMA journal_mode = WAL")
            # Commits still survive a killed process (they are in the OS cache); only a power cut
            # could lose the last ones, which no test simulates.
            self._db.execute("PRAGMA synchronous = NORMAL")
        # One connection may serve several engine threads; sqlite3 objects are not re-entrant.
        self._lock = threading.RLock()

    def create(self, schema: str) -> None:
        """Run idempotent schema statements (``CREATE ... IF NOT EXISTS``) separated by ``;``."""
        with self.write() as db:
            for statement in schema.split(";"):
                if statement.strip():
                    db.execute(statement)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction (``BEGIN IMMEDIATE``), committed on leaving, rolled back on an error."""
        with self._lock:
            self._patiently(lambda: self._db.execute("BEGIN IMMEDIATE"))
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._patiently(lambda: self._db.execute("COMMIT"))

    def read(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        """Every row of one query."""
        with self._lock:
            # fetchall: no statement stays open while a caller holds a page, which would block
            # writers on the same shared-cache memory database.
            return self._patiently(lambda: self._db.execute(sql, params).fetchall())

    @staticmethod
    def _patiently(step: Callable[[], _T]) -> _T:
        # Shared-cache memory databases report a lock held by another connection at once
        # (SQLITE_LOCKED) instead of honouring busy_timeout, so wait for it here.
        deadline = time.monotonic() + _PATIENCE_SECONDS
        while True:
            try:
                return step()
            except sqlite3.OperationalError as error:
                if "locked" not in str(error) or time.monotonic() > deadline:
                    raise
                time.sleep(0.001)
