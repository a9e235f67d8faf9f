"""Intents without their marker index: each page inserts and deletes 500 intents, and the index
cost a third of each insert on PostgreSQL; the rare lookup by marker scans the flow's few pending
intents through the unique key instead

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 15:10:00
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_intents_marker", table_name="intents")


def downgrade() -> None:
    op.create_index("ix_intents_marker", "intents", ["flow", "marker"], unique=False)
