"""monitoring: what citizens see and say — published warnings and case stories (with the reports
that fed them) and disputes of a checked identifier

Revision ID: 0031_monitoring_public
Revises: 0030_monitoring_reports
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from tierwatch.core.db import UTCDateTime

revision = "0031_monitoring_public"
down_revision = "0030_monitoring_reports"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "publications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("title_zh", sa.String(200), nullable=False),
        sa.Column("title_en", sa.String(200), nullable=True),
        sa.Column("summary_zh", sa.String(500), nullable=False),
        sa.Column("summary_en", sa.String(500), nullable=True),
        sa.Column("body_zh", sa.Text(), nullable=False),
        sa.Column("body_en", sa.Text(), nullable=True),
        sa.Column("scam_type", sa.String(60), nullable=True),
        sa.Column("ai_techniques", sa.JSON(), nullable=False),
        sa.Column("identifiers", sa.JSON(), nullable=False),
        sa.Column("occurred_on", sa.Date(), nullable=True),
        sa.Column("source_alert_id", sa.String(100), nullable=True),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("published_at", UTCDateTime(), nullable=True),
        sa.Column("published_by", sa.String(200), nullable=True),
        sa.Column("withdrawn_at", UTCDateTime(), nullable=True),
        sa.Column("withdrawn_by", sa.String(200), nullable=True),
        sa.Column("withdraw_reason", sa.Text(), nullable=True),
        sa.CheckConstraint("kind IN ('warning', 'case_story')", name=op.f("ck_publications_kind")),
        sa.CheckConstraint("status IN ('draft', 'published', 'withdrawn')", name=op.f("ck_publications_status")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_publications")),
    )
    op.create_index("ix_publications_status_kind_published_at", "publications", ["status", "kind", "published_at"])
    op.create_table(
        "publication_reports",
        sa.Column("publication_id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.String(100), nullable=False),
        sa.ForeignKeyConstraint(["publication_id"], ["publications.id"],
                                name=op.f("fk_publication_reports_publication_id_publications"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("publication_id", "report_id", name=op.f("pk_publication_reports")),
    )
    op.create_index(op.f("ix_publication_reports_report_id"), "publication_reports", ["report_id"])
    op.create_table(
        "identifier_disputes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("value", sa.String(300), nullable=False),
        sa.Column("relation", sa.String(20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("contact", sa.JSON(), nullable=True),
        sa.Column("submitter_key", sa.String(32), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("decided_at", UTCDateTime(), nullable=True),
        sa.Column("decided_by", sa.String(200), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=True),
        sa.CheckConstraint("relation IN ('owner', 'not_scam')", name=op.f("ck_identifier_disputes_relation")),
        sa.CheckConstraint("status IN ('open', 'upheld', 'rejected')", name=op.f("ck_identifier_disputes_status")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identifier_disputes")),
    )
    op.create_index("ix_identifier_disputes_kind_value_status", "identifier_disputes", ["kind", "value", "status"])


def downgrade() -> None:
    op.drop_index("ix_identifier_disputes_kind_value_status", table_name="identifier_disputes")
    op.drop_table("identifier_disputes")
    op.drop_index(op.f("ix_publication_reports_report_id"), table_name="publication_reports")
    op.drop_table("publication_reports")
    op.drop_index("ix_publications_status_kind_published_at", table_name="publications")
    op.drop_table("publications")
