"""risk_assessments, risk_reviews and risk_releases: risk screening and its review queue (#19)

One assessment per screened event (transaction, kind), with the subject's fields the history
windows query; one review per held item (a posting, a charge, a refund) with the jobs its
approval releases, each once.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

from payledger.adapters.db.types import JsonDoc, UTCDateTime

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

_WINDOWS = ("customer_id", "card_token", "billing_zip", "ip_address", "kind")


def upgrade() -> None:
    _assessments()
    op.create_table(
        "risk_reviews",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("item_kind", sa.String(length=16), nullable=False),
        sa.Column("item_ref", sa.String(length=120), nullable=False),
        sa.Column("transaction_id", sa.String(length=64), server_default="", nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("reasons", JsonDoc, nullable=False),
        sa.Column("amount", sa.String(length=32), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("customer_id", sa.String(length=80), server_default="", nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("decided_by", sa.String(length=120), nullable=True),
        sa.Column("decided_at", UTCDateTime(), nullable=True),
        sa.Column("comment", sa.Text(), server_default="", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risk_reviews")),
        sa.UniqueConstraint(
            "item_kind", "item_ref", name=op.f("uq_risk_reviews_item_kind_item_ref")
        ),
    )
    op.create_index("ix_risk_reviews_state_created_at", "risk_reviews", ["state", "created_at"])
    op.create_table(
        "risk_releases",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("review_id", sa.BigInteger(), nullable=False),
        sa.Column("job_kind", sa.String(length=80), nullable=False),
        sa.Column("payload", JsonDoc, nullable=False),
        sa.Column("dedupe_key", sa.String(length=200), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risk_releases")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_risk_releases_dedupe_key")),
    )
    op.create_index("ix_risk_releases_review_id", "risk_releases", ["review_id"])


def _assessments() -> None:
    op.create_table(
        "risk_assessments",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("transaction_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("action", sa.String(length=8), nullable=False),
        sa.Column("reasons", JsonDoc, nullable=False),
        sa.Column("model_version", sa.String(length=64), server_default="", nullable=False),
        sa.Column("assessed_at", UTCDateTime(), nullable=False),
        sa.Column("customer_id", sa.String(length=80), server_default="", nullable=False),
        sa.Column("card_token", sa.String(length=120), server_default="", nullable=False),
        sa.Column("billing_zip", sa.String(length=16), server_default="", nullable=False),
        sa.Column("ip_address", sa.String(length=45), server_default="", nullable=False),
        sa.Column("avs_result", sa.String(length=80), server_default="", nullable=False),
        sa.Column("csc_result", sa.String(length=40), server_default="", nullable=False),
        sa.Column("amount", sa.String(length=32), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("occurred_at", UTCDateTime(), nullable=False),
        sa.Column("invoice_ref", sa.String(length=80), server_default="", nullable=False),
        sa.Column(
            "original_transaction_id", sa.String(length=64), server_default="", nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risk_assessments")),
        sa.UniqueConstraint(
            "transaction_id", "kind", name=op.f("uq_risk_assessments_transaction_id_kind")
        ),
    )
    for column in _WINDOWS:
        op.create_index(
            f"ix_risk_assessments_{column}_occurred_at",
            "risk_assessments",
            [column, "occurred_at"],
        )
    op.create_index("ix_risk_assessments_invoice_ref", "risk_assessments", ["invoice_ref"])
    op.create_index("ix_risk_assessments_occurred_at", "risk_assessments", ["occurred_at"])


def downgrade() -> None:
    op.drop_table("risk_releases")
    op.drop_table("risk_reviews")
    op.drop_table("risk_assessments")
