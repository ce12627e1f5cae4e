"""risk: rule-set versions, tier overrides, risk assessments

Revision ID: 0003_risk
Revises: 0001_core
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from tierwatch.core.db import UTCDateTime

revision = "0003_risk"
down_revision = "0001_core"
branch_labels = None
depends_on = "0002_registry"


def _where(condition: str) -> dict[str, object]:
    clause = sa.text(condition)
    return {"sqlite_where": clause, "postgresql_where": clause}


def upgrade() -> None:
    op.create_table(
        "rule_set_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("jurisdiction", sa.String(40), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("edition", sa.String(40), nullable=False),
        sa.Column("title", sa.JSON(), nullable=False),
        sa.Column("filename", sa.String(300), nullable=False),
        sa.Column("source_text", sa.Text(), nullable=False),
        sa.Column("checksum", sa.String(64), nullable=False),
        sa.Column("rule_count", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("activated_at", UTCDateTime(), nullable=True),
        sa.Column("activated_by", sa.String(200), nullable=True),
        sa.Column("retired_at", UTCDateTime(), nullable=True),
        sa.CheckConstraint("status IN ('draft', 'active', 'retired')",
                           name=op.f("ck_rule_set_versions_status_known")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rule_set_versions")),
        sa.UniqueConstraint("jurisdiction", "version", name="uq_rule_set_versions_jurisdiction_version"),
    )
    op.create_index("uq_rule_set_versions_active", "rule_set_versions", ["jurisdiction"], unique=True,
                    **_where("status = 'active'"))
    op.create_table(
        "tier_overrides",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("jurisdiction", sa.String(40), nullable=False),
        sa.Column("tier", sa.String(20), nullable=False),
        sa.Column("computed_tier", sa.String(20), nullable=True),
        sa.Column("justification", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("in_force", sa.Boolean(), nullable=False),
        sa.Column("ended_at", UTCDateTime(), nullable=True),
        sa.Column("ended_by", sa.String(200), nullable=True),
        sa.Column("end_reason", sa.Text(), nullable=True),
        sa.CheckConstraint("length(justification) >= 20",
                           name=op.f("ck_tier_overrides_justification_written")),
        sa.ForeignKeyConstraint(["application_id"], ["applications.id"],
                                name=op.f("fk_tier_overrides_application_id_applications")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tier_overrides")),
    )
    op.create_index(op.f("ix_tier_overrides_application_id"), "tier_overrides", ["application_id"])
    op.create_index("uq_tier_overrides_in_force", "tier_overrides", ["application_id", "jurisdiction"],
                    unique=True, **_where("in_force"))
    op.create_table(
        "risk_assessments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("application_version_id", sa.Integer(), nullable=False),
        sa.Column("rule_set_version_id", sa.Integer(), nullable=False),
        sa.Column("jurisdiction", sa.String(40), nullable=False),
        sa.Column("computed_tier", sa.String(20), nullable=False),
        sa.Column("tier", sa.String(20), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("fired_rules", sa.JSON(), nullable=False),
        sa.Column("obligations", sa.JSON(), nullable=False),
        sa.Column("override_id", sa.Integer(), nullable=True),
        sa.Column("disagrees_with_override", sa.Boolean(), nullable=False),
        sa.Column("is_current", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["application_id"], ["applications.id"],
                                name=op.f("fk_risk_assessments_application_id_applications")),
        sa.ForeignKeyConstraint(["application_version_id"], ["application_versions.id"],
                                name=op.f("fk_risk_assessments_application_version_id_application_versions")),
        sa.ForeignKeyConstraint(["rule_set_version_id"], ["rule_set_versions.id"],
                                name=op.f("fk_risk_assessments_rule_set_version_id_rule_set_versions")),
        sa.ForeignKeyConstraint(["override_id"], ["tier_overrides.id"],
                                name=op.f("fk_risk_assessments_override_id_tier_overrides")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risk_assessments")),
    )
    op.create_index(op.f("ix_risk_assessments_application_id"), "risk_assessments", ["application_id"])
    op.create_index(op.f("ix_risk_assessments_rule_set_version_id"), "risk_assessments",
                    ["rule_set_version_id"])
    op.create_index("ix_risk_assessments_jurisdiction_tier", "risk_assessments", ["jurisdiction", "tier"])
    op.create_index("uq_risk_assessments_current", "risk_assessments", ["application_id", "jurisdiction"],
                    unique=True, **_where("is_current"))


def downgrade() -> None:
    op.drop_table("risk_assessments")
    op.drop_table("tier_overrides")
    op.drop_table("rule_set_versions")
