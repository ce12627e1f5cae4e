"""monitoring: reports keep every AI technique they name, how the money was paid and a keyed
pseudonym of their reporter (to count independent reporters)

Revision ID: 0030_monitoring_reports
Revises: 0005_monitoring
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0030_monitoring_reports"
down_revision = "0005_monitoring"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("reports") as batch:
        batch.add_column(sa.Column("ai_techniques", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("payment_method", sa.String(30), nullable=True))
        batch.add_column(sa.Column("reporter_key", sa.String(32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("reports") as batch:
        batch.drop_column("reporter_key")
        batch.drop_column("payment_method")
        batch.drop_column("ai_techniques")
