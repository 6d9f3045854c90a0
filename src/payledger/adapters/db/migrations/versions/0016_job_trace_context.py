"""jobs.trace_context: the W3C traceparent of the span that enqueued a job (#20)

The worker that runs the job, in whatever process, continues that trace, so one payment's
path from its webhook to its D365 line is one trace. Nullable: jobs enqueued outside any
span (or with tracing off) carry none.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("trace_context", sa.String(length=55), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("trace_context")
