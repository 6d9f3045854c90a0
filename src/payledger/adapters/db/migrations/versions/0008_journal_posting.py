"""journals: posting state, so payledger can post its payment journals exactly once

``post_state`` is ``unposted``, ``approved`` (an operator said post it), ``posting`` (the
request is out, its outcome not yet read back), ``posted`` or ``refused`` (D365 said no;
``post_error`` says why, and the journal is tried again once the cause is fixed).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

from payledger.adapters.db.types import UTCDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("journals") as batch:
        batch.add_column(sa.Column("closed_at", UTCDateTime(), nullable=True))
        batch.add_column(
            sa.Column("post_state", sa.String(length=16), nullable=False, server_default="unposted")
        )
        batch.add_column(sa.Column("approved_by", sa.String(length=80), nullable=True))
        batch.add_column(sa.Column("approved_at", UTCDateTime(), nullable=True))
        batch.add_column(
            sa.Column("post_attempts", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("post_error", sa.Text(), nullable=True))
        batch.add_column(sa.Column("posted_at", UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("journals") as batch:
        for column in (
            "posted_at",
            "post_error",
            "post_attempts",
            "approved_at",
            "approved_by",
            "post_state",
            "closed_at",
        ):
            batch.drop_column(column)
