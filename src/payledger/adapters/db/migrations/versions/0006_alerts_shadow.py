"""alerts: deduplicated operator alerts, one row per alert key

Shadow mode needs no schema change: its would-be writes are postings in the ``shadow`` state.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

from payledger.adapters.db.types import JsonDoc, UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alerts",
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("facts", JsonDoc, nullable=False),
        sa.Column("pending", sa.Integer(), server_default="0", nullable=False),
        sa.Column("first_at", UTCDateTime(), nullable=True),
        sa.Column("last_at", UTCDateTime(), nullable=False),
        sa.Column("due_at", UTCDateTime(), nullable=True),
        sa.Column("sent_at", UTCDateTime(), nullable=True),
        sa.Column("sent", sa.Integer(), server_default="0", nullable=False),
        sa.Column("total", sa.Integer(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_alerts")),
    )
    op.create_index("ix_alerts_due_at", "alerts", ["due_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_alerts_due_at", table_name="alerts")
    op.drop_table("alerts")
