"""Fault injection for the reference store: what a test asks for, and what the connector then meets.

Faults are rows of the store's own database (see ``database``), so a fault injected by a test reaches
a ``pmhub sync`` running in another process, and each is consumed exactly once across processes.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from hub.errors import AuthError, ConnectorError, PermanentError, TransientError
from hub.model import CanonicalRecord
from hub.testing.reference.database import Database

OPERATIONS = frozenset({"list", "get", "create", "update", "delete", "find"})
FAULT_MODES = frozenset(
    {"transient", "rate_limited", "permanent", "not_found", "auth", "lost_reply", "delay"}
)
_WRITES = frozenset({"create", "update", "delete"})
_COLUMNS = "seq, mode, remaining, delay, retry_after, match_title"

SCHEMA = """
CREATE TABLE IF NOT EXISTS faults (
    seq INTEGER PRIMARY KEY,
    operation TEXT NOT NULL,
    mode TEXT NOT NULL,
    remaining INTEGER,
    record_type TEXT,
    delay REAL NOT NULL DEFAULT 0,
    retry_after REAL,
    match_title TEXT
);
"""


@dataclass(frozen=True, slots=True)
class Fault:
    """One injected fault, as stored; ``remaining`` None means until cleared."""

    seq: int
    mode: str
    remaining: int | None
    delay: float
    retry_after: float | None
    match_title: str | None

    def matches(self, item: CanonicalRecord | None) -> bool:
        if self.match_title is None:
            return True
        if item is None:
            return False
        return any(getattr(item, name, None) == self.match_title for name in ("title", "body", "name"))

    def error(self, operation: str) -> ConnectorError:
        what = f"injected {self.mode} fault on {operation}"
        if self.mode == "rate_limited":
            retry_after = 0.1 if self.retry_after is None else self.retry_after
            return TransientError(what, status=429, retry_after=retry_after)
        if self.mode == "transient":
            return TransientError(what, status=503, retry_after=self.retry_after)
        if self.mode == "lost_reply":
            return TransientError(f"{what}: the write was applied, the reply lost")
        if self.mode == "permanent":
            return PermanentError(what, status=422)
        if self.mode == "not_found":
            return PermanentError(what, status=404)
        return AuthError(what, status=401)


class FaultTable:
    """The ``faults`` table of a store's database."""

    def __init__(self, db: Database) -> None:
        self._db = db
        db.create(SCHEMA)

    def inject(
        self, operation: str, mode: str, times: int | None = 1, record_type: str | None = None,
        delay: float = 0.0, *, retry_after: float | None = None, match_title: str | None = None,
    ) -> None:
        """See ``ReferenceStore.inject``."""
        if operation not in OPERATIONS:
            raise ValueError(f"operation must be one of {sorted(OPERATIONS)}, not {operation!r}")
        if mode not in FAULT_MODES:
            raise ValueError(f"mode must be one of {sorted(FAULT_MODES)}, not {mode!r}")
        if mode == "lost_reply" and operation not in _WRITES:
            raise ValueError("lost_reply applies to create, update and delete")
        with self._db.write() as db:
            db.execute(
                "INSERT INTO faults (operation, mode, remaining, record_type, delay, retry_after,"
                " match_title) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (operation, mode, times, record_type, delay, retry_after, match_title),
            )

    def clear(self) -> None:
        with self._db.write() as db:
            db.execute("DELETE FROM faults")

    def pending(self, operation: str, record_type: str) -> list[Fault]:
        """Faults still waiting for a call of ``operation`` on ``record_type``, oldest first."""
        rows = self._db.read(
            f"SELECT {_COLUMNS} FROM faults"
            " WHERE operation = ? AND (record_type IS NULL OR record_type = ?)"
            " AND (remaining IS NULL OR remaining > 0) ORDER BY seq",
            (operation, record_type),
        )
        return [Fault(*row) for row in rows]

    def take(
        self, operation: str, record_type: str, item: CanonicalRecord | None = None,
        pending: list[Fault] | None = None,
    ) -> Fault | None:
        """Consume the faults this call meets: sleep through delays, return the first failure.

        ``pending`` is a recent ``pending`` answer, to skip the lookup when nothing can match.
        """
        if pending is None:
            pending = self.pending(operation, record_type)
        candidates = [fault.seq for fault in pending if fault.matches(item)]
        if not candidates:
            return None
        delays, failure = [], None
        with self._db.write() as db:
            # Read again inside the transaction: another process may have used them up meanwhile.
            marks = ",".join("?" * len(candidates))
            rows = db.execute(
                f"SELECT {_COLUMNS} FROM faults"
                f" WHERE seq IN ({marks}) AND (remaining IS NULL OR remaining > 0) ORDER BY seq",
                candidates,
            ).fetchall()
            for fault in (Fault(*row) for row in rows):
                if fault.mode == "delay":
                    delays.append(fault)
                elif failure is None:
                    failure = fault
                else:
                    continue
                db.execute(
                    "UPDATE faults SET remaining = remaining - 1 WHERE seq = ? AND remaining IS NOT NULL",
                    (fault.seq,),
                )
        # Sleep outside the transaction so the other process can still write meanwhile.
        for fault in delays:
            time.sleep(fault.delay)
        return failure
