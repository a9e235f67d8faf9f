"""progress baseline per flow and customer (progress notes)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 08:50:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "progress",
        sa.Column("flow", sa.String(length=200), nullable=False),
        sa.Column("customer", sa.String(length=255), nullable=False),
        sa.Column("statuses", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("flow", "customer"),
    )


def downgrade() -> None:
    op.drop_table("progress")
