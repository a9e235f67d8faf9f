"""Issue history (status changes and scope changes per linked issue), backfilled from the links

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 09:30:00
"""

import datetime as dt
import json

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

CLOSED = ("done", "cancelled")


def upgrade() -> None:
    history = op.create_table(
        "issue_history",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("flow", sa.String(length=200), nullable=False),
        sa.Column("link_id", sa.Integer(), nullable=False),
        sa.Column("event", sa.String(length=12), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=True),
        sa.Column("previous", sa.String(length=20), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("origin", sa.String(length=10), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_issue_history_flow", "issue_history", ["flow", "link_id", "id"])
    _backfill(history)


def _backfill(history: sa.Table) -> None:
    # What the store knows of issues linked before: when the link was made (added, as open work)
    # and, for an issue closed now, its last update as the time it closed. Nothing is fetched.
    links = sa.table("links", sa.column("id"), sa.column("flow"), sa.column("record_type"),
                     sa.column("a_snapshot"), sa.column("b_snapshot"), sa.column("state"),
                     sa.column("created_at"), sa.column("updated_at"))
    bind = op.get_bind()
    rows = []
    for link in bind.execute(sa.select(links).where(links.c.record_type == "issue",
                                                    links.c.state == "active")):
        status = _status(link.b_snapshot) or _status(link.a_snapshot) or "todo"
        closed = status in CLOSED
        rows.append(dict(flow=link.flow, link_id=link.id, event="added",
                         status="todo" if closed else status, previous=None,
                         at=_aware(link.created_at), run_id=None, origin="backfill"))
        if closed:
            rows.append(dict(flow=link.flow, link_id=link.id, event="status", status=status,
                             previous="todo", at=_aware(link.updated_at), run_id=None, origin="backfill"))
    if rows:
        op.bulk_insert(history, rows)


def _status(snapshot: str | None) -> str | None:
    return json.loads(snapshot).get("status") if snapshot else None


def _aware(value: dt.datetime | str) -> dt.datetime:
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def downgrade() -> None:
    op.drop_index("ix_issue_history_flow", table_name="issue_history")
    op.drop_table("issue_history")
