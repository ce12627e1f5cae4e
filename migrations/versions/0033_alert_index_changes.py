"""alerting: a mark of reports changed in place in the search index, so that the evaluator's
windows held in memory are read again

Revision ID: 0033_alert_index_changes
Revises: 0032_monitoring_trust
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from tierwatch.core.db import UTCDateTime

revision = "0033_alert_index_changes"
down_revision = "0032_monitoring_trust"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alert_index_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(40), nullable=False),
        sa.Column("reports", sa.Integer(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_index_changes")),
    )


def downgrade() -> None:
    op.drop_table("alert_index_changes")
