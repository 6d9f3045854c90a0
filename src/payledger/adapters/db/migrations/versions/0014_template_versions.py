"""template_versions, template_activations, template_active; postings.template_version (#18)

A template version is saved once and never changed: (template, version) is unique, version 0
is the seed (the default or ``templates_dir`` file) and is not stored. ``template_active``
holds the one version in force per template; ``template_activations`` is its history (who
activated or rolled back what, when), and its highest id is the generation every process
checks to pick up an activation without a restart. A posting records the template version
that mapped it (``d365_payment_journal_line@3``, ``...@default``).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-08
"""

import sqlalchemy as sa
from alembic import op

from payledger.adapters.db.types import UTCDateTime

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "template_versions",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("template", sa.String(length=120), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("author", sa.String(length=120), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("comment", sa.Text(), server_default="", nullable=False),
        sa.Column("based_on", sa.Integer(), nullable=False),
        sa.Column("checksum", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_template_versions")),
        sa.UniqueConstraint(
            "template", "version", name=op.f("uq_template_versions_template_version")
        ),
    )
    op.create_table(
        "template_activations",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("template", sa.String(length=120), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("previous", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("comment", sa.Text(), server_default="", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_template_activations")),
    )
    op.create_index(
        "ix_template_activations_template_id", "template_activations", ["template", "id"]
    )
    op.create_table(
        "template_active",
        sa.Column("template", sa.String(length=120), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("activation_id", sa.BigInteger(), nullable=False),
        sa.Column("activated_by", sa.String(length=120), nullable=False),
        sa.Column("activated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("template", name=op.f("pk_template_active")),
    )
    with op.batch_alter_table("postings") as batch:
        batch.add_column(
            sa.Column("template_version", sa.String(length=160), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table("postings") as batch:
        batch.drop_column("template_version")
    op.drop_table("template_active")
    op.drop_index("ix_template_activations_template_id", table_name="template_activations")
    op.drop_table("template_activations")
    op.drop_table("template_versions")
