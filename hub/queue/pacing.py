"""Write spacing and request budgets for a whole cluster: one row per connection, shared by every
worker process that shares the state store.

A write (or, under a ``requests_per_minute`` ceiling, any request) reserves the next free slot
(``SELECT ... FOR UPDATE`` on the connection's row, then moves it on by the spacing) and sleeps
until its slot, outside the transaction, so four workers go no faster than one. A spent quota one
worker saw is kept in the same way, as the moment it resets, for the others to read.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from sqlalchemy import Table, func, select, update
from sqlalchemy.dialects.postgresql import insert

from hub.queue.tables import request_budget, write_slots
from hub.state.store import StateStore


def reserve_slot(store: StateStore, table: Table, connection: str, spacing: float, now: float,
                 **new_row: float) -> float:
    """Take the next slot of ``connection`` in ``table`` (its ``next_at`` column), ``spacing``
    seconds after the one before and not before ``now``; return when it is (epoch seconds)."""
    with store.engine.begin() as c:
        c.execute(insert(table).values(connection=connection, next_at=0.0, **new_row)
                  .on_conflict_do_nothing(index_elements=[table.c.connection]))
        taken = c.execute(select(table.c.next_at).where(table.c.connection == connection)
                          .with_for_update()).scalar_one()
        slot = max(now, float(taken))
        c.execute(update(table).where(table.c.connection == connection).values(next_at=slot + spacing))
    return slot


class SharedWritePacer:
    """``ConnectorState.pacer`` in queue mode: ``wait_turn(spacing)`` before each write."""

    def __init__(self, store: StateStore, connection: str, *,
                 clock: Callable[[], float] = time.time, sleep: Callable[[float], None] = time.sleep) -> None:
        self.store, self.connection, self.clock, self.sleep = store, connection, clock, sleep

    def reserve(self, spacing: float) -> float:
        """Take the next write slot of the connection; return when it is (epoch seconds)."""
        return reserve_slot(self.store, write_slots, self.connection, spacing, self.clock())

    def wait_turn(self, spacing: float) -> None:
        if spacing <= 0:
            return
        wait = self.reserve(spacing) - self.clock()
        if wait > 0:
            self.sleep(wait)


class SharedRequestBudget:
    """``hub.engine.request_budget.SharedBudget`` in queue mode: the connection's row of
    ``request_budget``."""

    def __init__(self, store: StateStore, connection: str, *, clock: Callable[[], float] = time.time) -> None:
        self.store, self.connection, self.clock = store, connection, clock

    def spent_until(self) -> float:
        with self.store.engine.connect() as c:
            until = c.execute(select(request_budget.c.spent_until).where(
                request_budget.c.connection == self.connection)).scalar()
        return float(until or 0.0)

    def note_spent(self, until: float) -> None:
        statement = insert(request_budget).values(connection=self.connection, spent_until=until, next_at=0.0)
        statement = statement.on_conflict_do_update(
            index_elements=[request_budget.c.connection],
            set_={"spent_until": func.greatest(request_budget.c.spent_until, until)})
        with self.store.engine.begin() as c:
            c.execute(statement)

    def take_turn(self, spacing: float) -> float:
        return reserve_slot(self.store, request_budget, self.connection, spacing, self.clock(),
                            spent_until=0.0)
