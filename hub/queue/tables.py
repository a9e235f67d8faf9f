"""Queue mode's own tables (migrations 0006, 0007): what waits, how tasks ended, write slots, budgets."""

from __future__ import annotations

from sqlalchemy import Column, DateTime, Float, Integer, MetaData, String, Table

metadata = MetaData()

#: A flow run that is queued and not started yet: a second one queued meanwhile is dropped.
queue_waiting = Table(
    "queue_waiting", metadata,
    Column("flow", String(200), primary_key=True),
    Column("enqueued_at", DateTime(timezone=True), nullable=False),
)

#: How queued tasks ended, counted by the workers (``/metrics`` of ``pmhub serve`` reads them).
queue_outcomes = Table(
    "queue_outcomes", metadata,
    Column("task", String(40), primary_key=True),
    Column("outcome", String(20), primary_key=True),
    Column("count", Integer, nullable=False),
)

#: Per connection: the earliest moment (epoch seconds) the next write may go out, cluster-wide.
write_slots = Table(
    "write_slots", metadata,
    Column("connection", String(200), primary_key=True),
    Column("next_at", Float, nullable=False),
)

#: Per connection, for every worker: until when the tool said its quota is spent (epoch seconds;
#: 0 when nobody saw it spent), and the ceiling's next free request slot (``requests_per_minute``).
request_budget = Table(
    "request_budget", metadata,
    Column("connection", String(200), primary_key=True),
    Column("spent_until", Float, nullable=False),
    Column("next_at", Float, nullable=False),
)
