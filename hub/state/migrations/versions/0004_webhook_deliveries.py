"""Webhook deliveries remembered for a while, so a replayed one is recognised after a restart too

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 09:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "webhook_deliveries",
        sa.Column("connection", sa.String(length=200), nullable=False),
        sa.Column("delivery_id", sa.String(length=255), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("connection", "delivery_id"),
    )
    op.create_index("ix_webhook_deliveries_expiry", "webhook_deliveries", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_webhook_deliveries_expiry", table_name="webhook_deliveries")
    op.drop_table("webhook_deliveries")
