"""Write spacing for a whole cluster: each connection's writes take turns through one row.

A write reserves the next free slot (``SELECT ... FOR UPDATE`` on the connection's row, then moves
it on by the spacing) and sleeps until its slot, outside the transaction. Every worker process
sharing the state store shares the row, so four workers write no faster than one.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert

from hub.queue.tables import write_slots
from hub.state.store import StateStore


class SharedWritePacer:
    """``ConnectorState.pacer`` in queue mode: ``wait_turn(spacing)`` before each write."""

    def __init__(self, store: StateStore, connection: str, *,
                 clock: Callable[[], float] = time.time, sleep: Callable[[float], None] = time.sleep) -> None:
        self.store, self.connection, self.clock, self.sleep = store, connection, clock, sleep

    def reserve(self, spacing: float) -> float:
        """Take the next write slot of the connection; return when it is (epoch seconds)."""
        with self.store.engine.begin() as c:
            c.execute(insert(write_slots).values(connection=self.connection, next_at=0.0)
                      .on_conflict_do_nothing(index_elements=[write_slots.c.connection]))
            next_at = c.execute(select(write_slots.c.next_at).where(
                write_slots.c.connection == self.connection).with_for_update()).scalar_one()
            slot = max(self.clock(), float(next_at))
            c.execute(update(write_slots).where(write_slots.c.connection == self.connection)
                      .values(next_at=slot + spacing))
        return slot

    def wait_turn(self, spacing: float) -> None:
        if spacing <= 0:
            return
        wait = self.reserve(spacing) - self.clock()
        if wait > 0:
            self.sleep(wait)
