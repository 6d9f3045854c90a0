"""recon_runs and recon_items: settlement reconciliation runs and their items

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

from payledger.adapters.db.types import JsonDoc, UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "recon_runs",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("company", sa.String(length=10), nullable=False),
        sa.Column("first_day", sa.String(length=10), nullable=False),
        sa.Column("last_day", sa.String(length=10), nullable=False),
        sa.Column("trigger", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.Column("exceptions", sa.Integer(), server_default="0", nullable=False),
        sa.Column("counts", JsonDoc, nullable=True),
        sa.Column("report", JsonDoc, nullable=True),
        sa.Column("report_csv", sa.Text(), nullable=True),
        sa.Column("report_html", sa.Text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recon_runs")),
    )
    op.create_index("ix_recon_runs_company_first_day", "recon_runs", ["company", "first_day"])
    op.create_table(
        "recon_items",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("run_id", sa.BigInteger(), nullable=False),
        sa.Column("class", sa.String(length=24), nullable=False),
        sa.Column("exception", sa.Integer(), nullable=False),
        sa.Column("txn_id", sa.String(length=64), server_default="", nullable=False),
        sa.Column("reference", sa.String(length=80), server_default="", nullable=False),
        sa.Column("batch_number", sa.String(length=20), server_default="", nullable=False),
        sa.Column("card_type", sa.String(length=20), server_default="", nullable=False),
        sa.Column("currency", sa.String(length=3), server_default="", nullable=False),
        sa.Column("paytrace_amount", sa.String(length=32), server_default="", nullable=False),
        sa.Column("d365_amount", sa.String(length=32), server_default="", nullable=False),
        sa.Column("d365_lines", sa.String(length=200), server_default="", nullable=False),
        sa.Column("note", sa.Text(), server_default="", nullable=False),
        sa.Column("heal_state", sa.String(length=20), nullable=True),
        sa.Column("heal_checked_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recon_items")),
    )
    op.create_index("ix_recon_items_run_id", "recon_items", ["run_id"])
    op.create_index("ix_recon_items_heal_state", "recon_items", ["heal_state"])


def downgrade() -> None:
    op.drop_index("ix_recon_items_heal_state", table_name="recon_items")
    op.drop_index("ix_recon_items_run_id", table_name="recon_items")
    op.drop_table("recon_items")
    op.drop_index("ix_recon_runs_company_first_day", table_name="recon_runs")
    op.drop_table("recon_runs")
