"""Queue mode: waiting flow runs, task outcomes, cluster-wide write slots per connection

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 10:05:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "queue_waiting",
        sa.Column("flow", sa.String(length=200), primary_key=True),
        sa.Column("enqueued_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "queue_outcomes",
        sa.Column("task", sa.String(length=40), primary_key=True),
        sa.Column("outcome", sa.String(length=20), primary_key=True),
        sa.Column("count", sa.Integer(), nullable=False),
    )
    op.create_table(
        "write_slots",
        sa.Column("connection", sa.String(length=200), primary_key=True),
        sa.Column("next_at", sa.Float(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("write_slots")
    op.drop_table("queue_outcomes")
    op.drop_table("queue_waiting")
