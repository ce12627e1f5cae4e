"""risk: tier reviews (a regulator asked to look at an application's tier again)

Revision ID: 0013_risk_tier_reviews
Revises: 0003_risk
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from tierwatch.core.db import UTCDateTime

revision = "0013_risk_tier_reviews"
down_revision = "0003_risk"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('tier_reviews',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('application_id', sa.Integer(), nullable=False),
        sa.Column('jurisdiction', sa.String(length=40), nullable=True),
        sa.Column('tier_at_request', sa.String(length=20), nullable=True),
        sa.Column('raised_from_alert_id', sa.Integer(), nullable=True),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('raised_by', sa.String(length=200), nullable=False),
        sa.Column('raised_by_id', sa.Integer(), nullable=True),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('decision', sa.String(length=20), nullable=True),
        sa.Column('decided_tier', sa.String(length=20), nullable=True),
        sa.Column('override_id', sa.Integer(), nullable=True),
        sa.Column('decided_by', sa.String(length=200), nullable=True),
        sa.Column('decided_by_id', sa.Integer(), nullable=True),
        sa.Column('decided_at', UTCDateTime(), nullable=True),
        sa.Column('comment', sa.Text(), nullable=True),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.CheckConstraint("decision IS NULL OR decision IN ('keep', 'override')", name=op.f('ck_tier_reviews_decision_known')),
        sa.CheckConstraint("status IN ('open', 'decided')", name=op.f('ck_tier_reviews_status_known')),
        sa.ForeignKeyConstraint(['application_id'], ['applications.id'], name=op.f('fk_tier_reviews_application_id_applications')),
        sa.ForeignKeyConstraint(['override_id'], ['tier_overrides.id'], name=op.f('fk_tier_reviews_override_id_tier_overrides')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_tier_reviews'))
    )
    op.create_index(op.f('ix_tier_reviews_application_id'), 'tier_reviews', ['application_id'], unique=False)
    op.create_index('ix_tier_reviews_status', 'tier_reviews', ['status', 'created_at'], unique=False)


def downgrade() -> None:
    op.drop_table("tier_reviews")
