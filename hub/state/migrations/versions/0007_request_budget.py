"""Queue mode: each connection's request budget shared by the workers (spent quota, ceiling slot)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 11:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "request_budget",
        sa.Column("connection", sa.String(length=200), primary_key=True),
        sa.Column("spent_until", sa.Float(), nullable=False),
        sa.Column("next_at", sa.Float(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("request_budget")
