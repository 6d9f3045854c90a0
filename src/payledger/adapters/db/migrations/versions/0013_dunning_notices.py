"""dunning_notices and dunning_card_links: customer notices and card-update links (#17)

A notice is stored once per (case_id, kind, attempt_no) and sent by the ``dunning.notices``
job; a card-update link's single-use row is keyed by the nonce its token carries.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

from payledger.adapters.db.types import UTCDateTime

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "dunning_notices",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("case_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("attempt_no", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("message_id", sa.String(length=200), nullable=False),
        sa.Column("link_nonce", sa.String(length=64), nullable=True),
        sa.Column("tries", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_try_at", UTCDateTime(), nullable=False),
        sa.Column("lease_owner", sa.String(length=80), nullable=True),
        sa.Column("lease_until", UTCDateTime(), nullable=True),
        sa.Column("recipient", sa.String(length=320), server_default="", nullable=False),
        sa.Column("error", sa.Text(), server_default="", nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("sent_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dunning_notices")),
        sa.UniqueConstraint(
            "case_id",
            "kind",
            "attempt_no",
            name=op.f("uq_dunning_notices_case_id_kind_attempt_no"),
        ),
    )
    op.create_index(
        "ix_dunning_notices_status_next_try_at", "dunning_notices", ["status", "next_try_at"]
    )
    op.create_table(
        "dunning_card_links",
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("case_id", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("posts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("used_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("nonce", name=op.f("pk_dunning_card_links")),
    )


def downgrade() -> None:
    op.drop_table("dunning_card_links")
    op.drop_index("ix_dunning_notices_status_next_try_at", table_name="dunning_notices")
    op.drop_table("dunning_notices")
