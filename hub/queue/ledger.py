"""What the queue's tasks leave in PostgreSQL: the waiting marker per flow (so queued runs of one
flow collapse whatever the broker) and the count of task outcomes."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert

from hub.queue.tables import queue_outcomes, queue_waiting
from hub.state.store import StateStore


def mark_waiting(store: StateStore, flow: str, stale_after: dt.timedelta) -> bool:
    """Note that a run of ``flow`` is queued; False when one is already waiting (drop this one).

    A marker older than ``stale_after`` is taken for a lost message (a broker flushed, a send that
    failed after marking) and replaced, so a flow is never kept out of the queue for good.
    """
    now = dt.datetime.now(dt.UTC)
    statement = insert(queue_waiting).values(flow=flow, enqueued_at=now)
    statement = statement.on_conflict_do_update(
        index_elements=[queue_waiting.c.flow], set_={"enqueued_at": now},
        where=queue_waiting.c.enqueued_at < now - stale_after)
    with store.engine.begin() as c:
        return c.execute(statement.returning(queue_waiting.c.flow)).first() is not None


def clear_waiting(store: StateStore, flow: str) -> None:
    """A queued run of ``flow`` has started: the next one queued is no longer a duplicate."""
    with store.engine.begin() as c:
        c.execute(delete(queue_waiting).where(queue_waiting.c.flow == flow))


def waiting(store: StateStore) -> dict[str, dt.datetime]:
    """The flows with a run queued and not started, and since when."""
    with store.engine.connect() as c:
        return {row.flow: row.enqueued_at for row in c.execute(select(queue_waiting))}


def count_outcome(store: StateStore, task: str, outcome: str) -> None:
    statement = insert(queue_outcomes).values(task=task, outcome=outcome, count=1)
    statement = statement.on_conflict_do_update(
        index_elements=[queue_outcomes.c.task, queue_outcomes.c.outcome],
        set_={"count": queue_outcomes.c.count + 1})
    with store.engine.begin() as c:
        c.execute(statement)


def outcomes(store: StateStore) -> dict[tuple[str, str], int]:
    """Tasks finished so far by every worker: (task, outcome) -> count."""
    with store.engine.connect() as c:
        rows = c.execute(select(queue_outcomes.c.task, queue_outcomes.c.outcome,
                                func.sum(queue_outcomes.c.count)).group_by(
                                    queue_outcomes.c.task, queue_outcomes.c.outcome))
        return {(task, outcome): int(total) for task, outcome, total in rows}
