"""antifraud: model versions and analysts' labels

Revision ID: 0004_antifraud
Revises: 0001_core
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from tierwatch.core.db import UTCDateTime

revision = "0004_antifraud"
down_revision = "0001_core"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "antifraud_model_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.String(80), nullable=False),
        sa.Column("use", sa.String(20), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("data_fingerprint", sa.String(64), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("checksums", sa.JSON(), nullable=False),
        sa.Column("evaluation", sa.JSON(), nullable=False),
        sa.Column("decision", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_antifraud_model_versions")),
        sa.UniqueConstraint("version", name=op.f("uq_antifraud_model_versions_version")),
    )
    op.create_index(
        "uq_antifraud_model_versions_active_use",
        "antifraud_model_versions",
        ["use"],
        unique=True,
        sqlite_where=sa.text("active = 1"),
        postgresql_where=sa.text("active"),
    )
    op.create_table(
        "antifraud_labels",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.String(100), nullable=False),
        sa.Column("is_scam", sa.Boolean(), nullable=False),
        sa.Column("scam_type", sa.String(40), nullable=True),
        sa.Column("ai_technique", sa.String(40), nullable=True),
        sa.Column("analyst", sa.String(120), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_antifraud_labels")),
    )
    op.create_index("ix_antifraud_labels_report_id", "antifraud_labels", ["report_id"])


def downgrade() -> None:
    op.drop_index("ix_antifraud_labels_report_id", table_name="antifraud_labels")
    op.drop_table("antifraud_labels")
    op.drop_index("uq_antifraud_model_versions_active_use", table_name="antifraud_model_versions")
    op.drop_table("antifraud_model_versions")
