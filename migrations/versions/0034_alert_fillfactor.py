"""alerting: room on each page for the rows the evaluator rewrites every minute (PostgreSQL)

A live alert matching again, a rule's watermark and a suppression counter are rewritten every
cycle. With full pages each new row version goes to another page and into every index; with room
on the page PostgreSQL updates it in place (a HOT update: no index entry), which halved the
cycle's alert update in bench/bench_alerting.py. SQLite has no such setting.

Revision ID: 0034_alert_fillfactor
Revises: 0033_alert_index_changes, 0013_monitoring_alerts
"""
from __future__ import annotations

from alembic import op

revision = "0034_alert_fillfactor"
down_revision = ("0033_alert_index_changes", "0013_monitoring_alerts")  # the tables it alters
branch_labels = None
depends_on = None

FILLFACTOR = {"alerts": 70, "alert_rule_state": 50, "alert_suppressions": 70}


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, percent in FILLFACTOR.items():
        op.execute(f"ALTER TABLE {table} SET (fillfactor = {percent})")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in FILLFACTOR:
        op.execute(f"ALTER TABLE {table} RESET (fillfactor)")
