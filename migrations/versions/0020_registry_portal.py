"""registry: evidence files of supervision tasks, company sign-ups awaiting e-mail confirmation

Revision ID: 0020_registry_portal
Revises: 0006_registry_hardening
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from tierwatch.core.db import UTCDateTime

revision = "0020_registry_portal"
down_revision = "0006_registry_hardening"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "task_evidence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(32), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(200), nullable=False),
        sa.Column("content_type", sa.String(100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("storage_key", sa.String(80), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["task_id"], ["supervision_tasks.id"], name=op.f("fk_task_evidence_task_id_supervision_tasks")),
        sa.ForeignKeyConstraint(["company_id"], ["companies.id"], name=op.f("fk_task_evidence_company_id_companies")),
        sa.ForeignKeyConstraint(["uploaded_by_id"], ["users.id"], name=op.f("fk_task_evidence_uploaded_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task_evidence")),
        sa.UniqueConstraint("public_id", name=op.f("uq_task_evidence_public_id")),
        sa.UniqueConstraint("storage_key", name=op.f("uq_task_evidence_storage_key")),
    )
    op.create_index(op.f("ix_task_evidence_task_id"), "task_evidence", ["task_id"])
    op.create_index(op.f("ix_task_evidence_company_id"), "task_evidence", ["company_id"])
    op.create_table(
        "signup_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("email", sa.String(200), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("confirmed_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signup_requests")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_signup_requests_token_hash")),
    )
    op.create_index(op.f("ix_signup_requests_email"), "signup_requests", ["email"])


def downgrade() -> None:
    op.drop_index(op.f("ix_signup_requests_email"), table_name="signup_requests")
    op.drop_table("signup_requests")
    op.drop_index(op.f("ix_task_evidence_company_id"), table_name="task_evidence")
    op.drop_index(op.f("ix_task_evidence_task_id"), table_name="task_evidence")
    op.drop_table("task_evidence")
