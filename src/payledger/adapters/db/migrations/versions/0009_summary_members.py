"""summary_members: which settled transaction is in which daily-summary line

In ``[posting] granularity = "daily_summary"`` a settlement batch becomes one journal line per
payment method; this table keeps the detail behind each line (a transaction is in one batch,
so once per company), exported as CSV with the reconciliation report. A row is kept from the
payment's first event (batch number and line reference empty until its batch settles, dated
by the payment's business day, marked voided by a void), so the cash picture has it at once.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

from payledger.adapters.db.types import UTCDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "summary_members",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("company", sa.String(length=10), nullable=False),
        sa.Column("batch_number", sa.String(length=20), nullable=False),
        sa.Column("txn_id", sa.String(length=64), nullable=False),
        sa.Column("method", sa.String(length=20), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("amount", sa.String(length=32), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("line_reference", sa.String(length=80), server_default="", nullable=False),
        sa.Column("business_day", sa.String(length=10), nullable=False),
        sa.Column("voided", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_summary_members")),
        sa.UniqueConstraint("company", "txn_id", name=op.f("uq_summary_members_company_txn_id")),
    )
    op.create_index(
        "ix_summary_members_company_batch_number",
        "summary_members",
        ["company", "batch_number"],
    )
    op.create_index(
        "ix_summary_members_company_business_day",
        "summary_members",
        ["company", "business_day"],
    )


def downgrade() -> None:
    op.drop_index("ix_summary_members_company_business_day", table_name="summary_members")
    op.drop_index("ix_summary_members_company_batch_number", table_name="summary_members")
    op.drop_table("summary_members")
