"""subscriptions.gateway_schedule_id, billed_by_gateway: PayTrace schedules imported (#16)

A subscription imported from a PayTrace recurrence remembers it (unique: importing again
finds it instead of creating a second subscription) and, until it is taken over, that the
recurrence still charges its periods, so payledger does not bill them too.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-15
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("subscriptions") as batch:
        batch.add_column(sa.Column("gateway_schedule_id", sa.String(length=40), nullable=True))
        batch.add_column(
            sa.Column("billed_by_gateway", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    op.create_index(
        "uq_subscriptions_gateway_schedule_id",
        "subscriptions",
        ["gateway_schedule_id"],
        unique=True,
    )


def downgrade() -> None:
    op.drop_index("uq_subscriptions_gateway_schedule_id", table_name="subscriptions")
    with op.batch_alter_table("subscriptions") as batch:
        batch.drop_column("billed_by_gateway")
        batch.drop_column("gateway_schedule_id")
