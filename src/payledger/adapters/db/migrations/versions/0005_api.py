"""API clients and hashed tokens, payments made through the API, D365 business events

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

from payledger.adapters.db.types import JsonDoc, UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _text(name: str, length: int | None = None) -> sa.Column:  # type: ignore[type-arg]
    kind = sa.String(length=length) if length else sa.Text()
    return sa.Column(name, kind, server_default="", nullable=False)


def upgrade() -> None:
    op.create_table(
        "api_clients",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_clients")),
        sa.UniqueConstraint("name", name=op.f("uq_api_clients_name")),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("client_id", sa.BigInteger(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("scopes", sa.String(length=200), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=True),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.Column("last_used_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    op.create_index("ix_api_tokens_client_id", "api_tokens", ["client_id"])
    op.create_table(
        "api_payments",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("gateway_txn_id", sa.String(length=64), nullable=False),
        sa.Column("client", sa.String(length=80), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("amount", sa.String(length=32), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("captured_amount", sa.String(length=32), server_default="0", nullable=False),
        sa.Column("refunded_amount", sa.String(length=32), server_default="0", nullable=False),
        _text("original_txn_id", 64),
        _text("invoice_number", 40),
        _text("sales_order_number", 40),
        _text("customer_account", 40),
        _text("response_code", 10),
        _text("approval_code", 20),
        _text("masked_card", 32),
        _text("message"),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_payments")),
        sa.UniqueConstraint("gateway_txn_id", name=op.f("uq_api_payments_gateway_txn_id")),
    )
    op.create_index("ix_api_payments_invoice_number", "api_payments", ["invoice_number"])
    op.create_index("ix_api_payments_sales_order_number", "api_payments", ["sales_order_number"])
    op.create_table(
        "business_events",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("control_number", sa.BigInteger(), nullable=True),
        sa.Column("business_event_id", sa.String(length=120), nullable=False),
        _text("legal_entity", 10),
        sa.Column("payload", JsonDoc, nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        _text("outcome"),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.Column("processed_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_business_events")),
        sa.UniqueConstraint("event_id", name=op.f("uq_business_events_event_id")),
        sa.UniqueConstraint("control_number", name=op.f("uq_business_events_control_number")),
    )


def downgrade() -> None:
    op.drop_table("business_events")
    op.drop_index("ix_api_payments_sales_order_number", table_name="api_payments")
    op.drop_index("ix_api_payments_invoice_number", table_name="api_payments")
    op.drop_table("api_payments")
    op.drop_index("ix_api_tokens_client_id", table_name="api_tokens")
    op.drop_table("api_tokens")
    op.drop_table("api_clients")
