"""postings and journals: exactly-once ledger writes

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

from payledger.adapters.db.types import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "postings",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("gateway_txn_id", sa.String(length=64), nullable=False),
        sa.Column("operation", sa.String(length=32), nullable=False),
        sa.Column("reference", sa.String(length=80), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("company", sa.String(length=10), nullable=False),
        sa.Column("business_day", sa.String(length=10), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount", sa.String(length=32), nullable=False),
        sa.Column("customer_account", sa.String(length=40), server_default="", nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("target_reference", sa.String(length=80), server_default="", nullable=False),
        sa.Column("journal_batch_number", sa.String(length=20), nullable=True),
        sa.Column("line_number", sa.Integer(), nullable=True),
        sa.Column("inbox_id", sa.BigInteger(), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("posted_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_postings")),
        sa.UniqueConstraint(
            "gateway_txn_id", "operation", name=op.f("uq_postings_gateway_txn_id_operation")
        ),
        sa.UniqueConstraint("reference", name=op.f("uq_postings_reference")),
    )
    op.create_index("ix_postings_state_company", "postings", ["state", "company", "id"])
    op.create_table(
        "journals",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("company", sa.String(length=10), nullable=False),
        sa.Column("business_day", sa.String(length=10), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("journal_name", sa.String(length=20), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("batch_number", sa.String(length=20), nullable=True),
        sa.Column("next_line", sa.Integer(), nullable=False),
        sa.Column("closed", sa.Integer(), server_default="0", nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journals")),
        sa.UniqueConstraint(
            "company",
            "business_day",
            "currency",
            "journal_name",
            "generation",
            name="uq_journals_key",
        ),
    )


def downgrade() -> None:
    op.drop_table("journals")
    op.drop_index("ix_postings_state_company", table_name="postings")
    op.drop_table("postings")
