"""dunning_cases and dunning_attempts: dunning and revenue recovery (#17)

A case follows one missed charge (unique ``source_key``); each charge of it is one row of
``dunning_attempts``, inserted under a unique (case_id, attempt_no) key when a worker claims
it, so a retry is made once.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

from payledger.adapters.db.types import UTCDateTime

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
STARTED = "outcome = 'started'"


def upgrade() -> None:
    op.create_table(
        "dunning_cases",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("source_key", sa.String(length=120), nullable=False),
        sa.Column("invoice_number", sa.String(length=40), nullable=False),
        sa.Column("customer_account", sa.String(length=40), nullable=False),
        sa.Column("vault_customer_id", sa.String(length=80), nullable=False),
        sa.Column("amount", sa.String(length=32), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("opened_at", UTCDateTime(), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=True),
        sa.Column("card_replaced", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("subscription_id", sa.BigInteger(), nullable=True),
        sa.Column("reason", sa.Text(), server_default="", nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dunning_cases")),
        sa.UniqueConstraint("source_key", name=op.f("uq_dunning_cases_source_key")),
    )
    op.create_index("ix_dunning_cases_invoice_number", "dunning_cases", ["invoice_number"])
    op.create_index("ix_dunning_cases_next_attempt_at", "dunning_cases", ["next_attempt_at", "id"])
    op.create_table(
        "dunning_attempts",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("case_id", sa.BigInteger(), nullable=False),
        sa.Column("attempt_no", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("decline_class", sa.String(length=8), nullable=True),
        sa.Column("reason", sa.Text(), server_default="", nullable=False),
        sa.Column("gateway_txn_id", sa.String(length=64), server_default="", nullable=False),
        sa.Column("error", sa.Text(), server_default="", nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("charge_started_at", UTCDateTime(), nullable=True),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.Column("lease_owner", sa.String(length=80), nullable=True),
        sa.Column("lease_until", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dunning_attempts")),
        sa.UniqueConstraint(
            "case_id", "attempt_no", name=op.f("uq_dunning_attempts_case_id_attempt_no")
        ),
    )
    op.create_index("ix_dunning_attempts_finished_at", "dunning_attempts", ["finished_at"])
    op.create_index(
        "ix_dunning_attempts_started",
        "dunning_attempts",
        ["id"],
        sqlite_where=sa.text(STARTED),
        postgresql_where=sa.text(STARTED),
    )


def downgrade() -> None:
    op.drop_index("ix_dunning_attempts_started", table_name="dunning_attempts")
    op.drop_index("ix_dunning_attempts_finished_at", table_name="dunning_attempts")
    op.drop_table("dunning_attempts")
    op.drop_index("ix_dunning_cases_next_attempt_at", table_name="dunning_cases")
    op.drop_index("ix_dunning_cases_invoice_number", table_name="dunning_cases")
    op.drop_table("dunning_cases")
