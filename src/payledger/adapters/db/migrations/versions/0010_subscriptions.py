"""subscriptions and subscription_periods: recurring billing (#16)

A subscription is billed period by period; each period (and each upgrade's proration of it)
is one row of ``subscription_periods``, inserted under a unique (subscription_id,
period_index, entry) key when a billing run claims it, so it is invoiced and charged once.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-14
"""

import sqlalchemy as sa
from alembic import op

from payledger.adapters.db.types import JsonDoc, UTCDateTime

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UNFINISHED = "status IN ('planned', 'invoiced')"


def upgrade() -> None:
    op.create_table(
        "subscriptions",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("customer_account", sa.String(length=40), nullable=False),
        sa.Column("vault_customer_id", sa.String(length=80), nullable=False),
        sa.Column("amount", sa.String(length=32), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=False),
        sa.Column("item", sa.String(length=40), server_default="", nullable=False),
        sa.Column("ledger_account", sa.String(length=40), server_default="", nullable=False),
        sa.Column("interval_unit", sa.String(length=8), nullable=False),
        sa.Column("interval_every", sa.Integer(), nullable=False),
        sa.Column("interval_rule", sa.String(length=100), server_default="", nullable=False),
        sa.Column("anchor", sa.String(length=10), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("trial_end", sa.String(length=10), nullable=True),
        sa.Column("end_date", sa.String(length=10), nullable=True),
        sa.Column("max_periods", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("cancel_at_period_end", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("next_period", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_due_at", UTCDateTime(), nullable=True),
        sa.Column("credit", sa.String(length=32), server_default="0", nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=120), nullable=False, server_default=""),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscriptions")),
    )
    op.create_index("ix_subscriptions_next_due_at", "subscriptions", ["next_due_at", "id"])
    op.create_index("ix_subscriptions_customer_account", "subscriptions", ["customer_account"])
    op.create_index("ix_subscriptions_created_by", "subscriptions", ["created_by", "id"])
    op.create_table(
        "subscription_periods",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("subscription_id", sa.BigInteger(), nullable=False),
        sa.Column("period_index", sa.Integer(), nullable=False),
        sa.Column("entry", sa.Integer(), nullable=False),
        sa.Column("starts_on", sa.String(length=10), nullable=False),
        sa.Column("ends_on", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("lines", JsonDoc, nullable=False),
        sa.Column("amount", sa.String(length=32), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("invoice_key", sa.String(length=40), nullable=False),
        sa.Column("invoice_number", sa.String(length=40), server_default="", nullable=False),
        sa.Column("gateway_txn_id", sa.String(length=64), server_default="", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("error", sa.Text(), server_default="", nullable=False),
        sa.Column("charge_started_at", UTCDateTime(), nullable=True),
        sa.Column("lease_owner", sa.String(length=80), nullable=True),
        sa.Column("lease_until", UTCDateTime(), nullable=True),
        sa.Column("claimed_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscription_periods")),
        sa.UniqueConstraint(
            "subscription_id",
            "period_index",
            "entry",
            name=op.f("uq_subscription_periods_subscription_id_period_index_entry"),
        ),
    )
    op.create_index(
        "ix_subscription_periods_unfinished",
        "subscription_periods",
        ["id"],
        sqlite_where=sa.text(UNFINISHED),
        postgresql_where=sa.text(UNFINISHED),
    )


def downgrade() -> None:
    op.drop_index("ix_subscription_periods_unfinished", table_name="subscription_periods")
    op.drop_table("subscription_periods")
    op.drop_index("ix_subscriptions_customer_account", table_name="subscriptions")
    op.drop_index("ix_subscriptions_next_due_at", table_name="subscriptions")
    op.drop_table("subscriptions")
