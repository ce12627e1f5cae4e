"""monitoring: companies' replies to the reports (and alerts) naming their applications

Revision ID: 0021_monitoring_replies
Revises: 0005_monitoring
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from tierwatch.core.db import UTCDateTime

revision = "0021_monitoring_replies"
down_revision = "0005_monitoring"
branch_labels = None
depends_on = "0002_registry"


def upgrade() -> None:
    op.create_table(
        "company_replies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(20), nullable=False),
        sa.Column("subject_ref", sa.String(60), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["application_id"], ["applications.id"],
                                name=op.f("fk_company_replies_application_id_applications")),
        sa.ForeignKeyConstraint(["company_id"], ["companies.id"], name=op.f("fk_company_replies_company_id_companies")),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], name=op.f("fk_company_replies_created_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_company_replies")),
    )
    op.create_index("ix_company_replies_application_id_created_at", "company_replies", ["application_id", "created_at"])
    op.create_index(op.f("ix_company_replies_company_id"), "company_replies", ["company_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_company_replies_company_id"), table_name="company_replies")
    op.drop_index("ix_company_replies_application_id_created_at", table_name="company_replies")
    op.drop_table("company_replies")
