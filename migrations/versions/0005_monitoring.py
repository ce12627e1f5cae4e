"""monitoring: reports, report identifiers, campaigns, private reporter contacts

Revision ID: 0005_monitoring
Revises: 0001_core
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from tierwatch.core.db import UTCDateTime

revision = "0005_monitoring"
down_revision = "0001_core"
branch_labels = None
depends_on = "0002_registry"


def upgrade() -> None:
    op.create_table(
        "campaigns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(320), nullable=False),
        sa.Column("report_count", sa.Integer(), nullable=False),
        sa.Column("first_seen", UTCDateTime(), nullable=False),
        sa.Column("last_seen", UTCDateTime(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaigns")),
        sa.UniqueConstraint("key", name=op.f("uq_campaigns_key")),
    )
    op.create_table(
        "reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.String(100), nullable=False),
        sa.Column("tracking_code", sa.String(40), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("schema_version", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(200), nullable=True),
        sa.Column("reporter_type", sa.String(20), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("channel", sa.String(30), nullable=True),
        sa.Column("amount_lost", sa.Numeric(16, 2, asdecimal=False), nullable=True),
        sa.Column("ai_technique", sa.String(40), nullable=True),
        sa.Column("app_name", sa.String(200), nullable=True),
        sa.Column("region", sa.String(200), nullable=True),
        sa.Column("occurred_at", UTCDateTime(), nullable=True),
        sa.Column("reported_at", UTCDateTime(), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.Column("filing_number", sa.String(200), nullable=True),
        sa.Column("company", sa.String(200), nullable=True),
        sa.Column("incident_type", sa.String(40), nullable=True),
        sa.Column("severity", sa.String(20), nullable=True),
        sa.Column("affected_users", sa.BigInteger(), nullable=True),
        sa.Column("measures", sa.Text(), nullable=True),
        sa.Column("scam_probability", sa.Float(), nullable=True),
        sa.Column("is_scam", sa.Boolean(), nullable=True),
        sa.Column("scam_type", sa.String(60), nullable=True),
        sa.Column("score_reasons", sa.JSON(), nullable=False),
        sa.Column("model_version", sa.String(100), nullable=True),
        sa.Column("application_id", sa.Integer(), nullable=True),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("kind IN ('scam', 'incident')", name=op.f("ck_reports_kind")),
        sa.ForeignKeyConstraint(
            ["application_id"], ["applications.id"], name=op.f("fk_reports_application_id_applications")
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name=op.f("fk_reports_campaign_id_campaigns")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reports")),
        sa.UniqueConstraint("report_id", name=op.f("uq_reports_report_id")),
        sa.UniqueConstraint("tracking_code", name=op.f("uq_reports_tracking_code")),
    )
    op.create_index("ix_reports_kind_reported_at", "reports", ["kind", "reported_at"])
    op.create_index(op.f("ix_reports_application_id"), "reports", ["application_id"])
    op.create_index(op.f("ix_reports_campaign_id"), "reports", ["campaign_id"])
    op.create_table(
        "report_identifiers",
        sa.Column("report_id", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("value", sa.String(300), nullable=False),
        sa.Column("region", sa.String(200), nullable=True),
        sa.Column("reported_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["reports.report_id"],
            name=op.f("fk_report_identifiers_report_id_reports"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("report_id", "kind", "value", name=op.f("pk_report_identifiers")),
    )
    op.create_index(
        "ix_report_identifiers_kind_value", "report_identifiers", ["kind", "value", "reported_at"]
    )
    op.create_table(
        "identifiers",
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("value", sa.String(300), nullable=False),
        sa.Column("report_count", sa.Integer(), nullable=False),
        sa.Column("first_seen", UTCDateTime(), nullable=False),
        sa.Column("last_seen", UTCDateTime(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name=op.f("fk_identifiers_campaign_id_campaigns")
        ),
        sa.PrimaryKeyConstraint("kind", "value", name=op.f("pk_identifiers")),
    )
    op.create_index(op.f("ix_identifiers_campaign_id"), "identifiers", ["campaign_id"])
    op.create_table(
        "identifier_regions",
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("value", sa.String(300), nullable=False),
        sa.Column("region", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("kind", "value", "region", name=op.f("pk_identifier_regions")),
    )
    op.create_table(
        "report_contacts",
        sa.Column("report_id", sa.String(100), nullable=False),
        sa.Column("contact", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["reports.report_id"],
            name=op.f("fk_report_contacts_report_id_reports"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("report_id", name=op.f("pk_report_contacts")),
    )


def downgrade() -> None:
    op.drop_table("report_contacts")
    op.drop_table("identifier_regions")
    op.drop_index(op.f("ix_identifiers_campaign_id"), table_name="identifiers")
    op.drop_table("identifiers")
    op.drop_index("ix_report_identifiers_kind_value", table_name="report_identifiers")
    op.drop_table("report_identifiers")
    op.drop_index(op.f("ix_reports_campaign_id"), table_name="reports")
    op.drop_index(op.f("ix_reports_application_id"), table_name="reports")
    op.drop_index("ix_reports_kind_reported_at", table_name="reports")
    op.drop_table("reports")
    op.drop_table("campaigns")
