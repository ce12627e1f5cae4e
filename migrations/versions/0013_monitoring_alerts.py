"""monitoring: alerts (links, timeline, suppressions, silences), subscriptions, webhook endpoints,
the evaluator's state (watermarks, run records, threshold inbox, embedded lease), and the outbox

Revision ID: 0013_monitoring_alerts
Revises: 0005_monitoring
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from tierwatch.core.db import UTCDateTime

revision = "0013_monitoring_alerts"
down_revision = "0005_monitoring"
branch_labels = None
depends_on = "0002_registry"

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table('alert_inbox',
        sa.Column('rule_id', sa.String(length=80), nullable=False),
        sa.Column('report_id', sa.String(length=100), nullable=False),
        sa.Column('group_key', sa.String(length=320), nullable=False),
        sa.Column('match', sa.JSON(), nullable=False),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.Column('drained_at', UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint('rule_id', 'report_id', 'group_key', name=op.f('pk_alert_inbox'))
    )
    op.create_index(op.f('ix_alert_inbox_drained_at'), 'alert_inbox', ['drained_at'], unique=False)
    op.create_table('alert_lease',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('holder', sa.String(length=100), nullable=False),
        sa.Column('epoch', sa.Integer(), nullable=False),
        sa.Column('expires_at', UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_lease'))
    )
    op.create_table('alert_rule_state',
        sa.Column('rule_id', sa.String(length=80), nullable=False),
        sa.Column('checksum', sa.String(length=64), nullable=False),
        sa.Column('evaluated_until', UTCDateTime(), nullable=True),
        sa.Column('errors_in_a_row', sa.Integer(), nullable=False),
        sa.Column('retry_at', UTCDateTime(), nullable=True),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.Column('updated_at', UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('rule_id', name=op.f('pk_alert_rule_state'))
    )
    op.create_table('alert_runs',
        sa.Column('id', BigId, autoincrement=True, nullable=False),
        sa.Column('cycle_id', sa.String(length=40), nullable=False),
        sa.Column('evaluator', sa.String(length=100), nullable=False),
        sa.Column('source', sa.String(length=10), nullable=False),
        sa.Column('rule_id', sa.String(length=80), nullable=False),
        sa.Column('rule_checksum', sa.String(length=64), nullable=False),
        sa.Column('window_start', UTCDateTime(), nullable=True),
        sa.Column('window_end', UTCDateTime(), nullable=False),
        sa.Column('matches', sa.Integer(), nullable=False),
        sa.Column('opened', sa.Integer(), nullable=False),
        sa.Column('updated', sa.Integer(), nullable=False),
        sa.Column('suppressed', sa.Integer(), nullable=False),
        sa.Column('requests', sa.Integer(), nullable=False),
        sa.Column('took_ms', sa.Integer(), nullable=False),
        sa.Column('error', sa.Text(), nullable=True),
        sa.Column('at', UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_runs'))
    )
    op.create_index(op.f('ix_alert_runs_at'), 'alert_runs', ['at'], unique=False)
    op.create_index(op.f('ix_alert_runs_cycle_id'), 'alert_runs', ['cycle_id'], unique=False)
    op.create_index('ix_alert_runs_rule_end', 'alert_runs', ['rule_id', 'window_end'], unique=False)
    op.create_table('outbox',
        sa.Column('id', BigId, autoincrement=True, nullable=False),
        sa.Column('kind', sa.String(length=10), nullable=False),
        sa.Column('target', sa.String(length=500), nullable=False),
        sa.Column('dedup_key', sa.String(length=200), nullable=False),
        sa.Column('payload', sa.JSON(), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', UTCDateTime(), nullable=False),
        sa.Column('claimed_by', sa.String(length=40), nullable=True),
        sa.Column('claimed_until', UTCDateTime(), nullable=True),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.Column('sent_at', UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox')),
        sa.UniqueConstraint('dedup_key', name=op.f('uq_outbox_dedup_key'))
    )
    op.create_index('ix_outbox_due', 'outbox', ['status', 'next_attempt_at'], unique=False)
    op.create_table('outbox_deliveries',
        sa.Column('id', BigId, autoincrement=True, nullable=False),
        sa.Column('outbox_id', BigId, nullable=False),
        sa.Column('attempt', sa.Integer(), nullable=False),
        sa.Column('at', UTCDateTime(), nullable=False),
        sa.Column('ok', sa.Boolean(), nullable=False),
        sa.Column('detail', sa.Text(), nullable=False),
        sa.Column('took_ms', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['outbox_id'], ['outbox.id'], name=op.f('fk_outbox_deliveries_outbox_id_outbox'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_deliveries'))
    )
    op.create_index(op.f('ix_outbox_deliveries_outbox_id'), 'outbox_deliveries', ['outbox_id'], unique=False)
    op.create_table('alert_silences',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('rule_id', sa.String(length=80), nullable=True),
        sa.Column('group_key', sa.String(length=320), nullable=True),
        sa.Column('owner_id', sa.Integer(), nullable=True),
        sa.Column('owner', sa.String(length=200), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('starts_at', UTCDateTime(), nullable=False),
        sa.Column('expires_at', UTCDateTime(), nullable=False),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.Column('revoked_at', UTCDateTime(), nullable=True),
        sa.Column('revoked_by', sa.String(length=200), nullable=True),
        sa.CheckConstraint('expires_at > starts_at', name=op.f('ck_alert_silences_expires_after_start')),
        sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_alert_silences_owner_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_silences'))
    )
    op.create_index(op.f('ix_alert_silences_expires_at'), 'alert_silences', ['expires_at'], unique=False)
    op.create_table('alert_webhook_endpoints',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('url', sa.String(length=500), nullable=False),
        sa.Column('secret_version', sa.Integer(), nullable=False),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.Column('revoked_at', UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_alert_webhook_endpoints_user_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_webhook_endpoints'))
    )
    op.create_index(op.f('ix_alert_webhook_endpoints_user_id'), 'alert_webhook_endpoints', ['user_id'], unique=False)
    op.create_table('alerts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('rule_id', sa.String(length=80), nullable=False),
        sa.Column('rule_checksum', sa.String(length=64), nullable=False),
        sa.Column('dedup_key', sa.String(length=80), nullable=False),
        sa.Column('group_key', sa.String(length=320), nullable=False),
        sa.Column('group_field', sa.String(length=60), nullable=True),
        sa.Column('state', sa.String(length=20), nullable=False),
        sa.Column('severity', sa.String(length=10), nullable=False),
        sa.Column('tier', sa.String(length=20), nullable=True),
        sa.Column('owner', sa.String(length=60), nullable=False),
        sa.Column('rule_group', sa.String(length=60), nullable=False),
        sa.Column('title', sa.JSON(), nullable=False),
        sa.Column('summary', sa.JSON(), nullable=False),
        sa.Column('reason', sa.JSON(), nullable=False),
        sa.Column('value', sa.Float(), nullable=True),
        sa.Column('threshold', sa.Float(), nullable=False),
        sa.Column('counts', sa.JSON(), nullable=False),
        sa.Column('facets', sa.JSON(), nullable=False),
        sa.Column('window_start', UTCDateTime(), nullable=False),
        sa.Column('window_end', UTCDateTime(), nullable=False),
        sa.Column('first_match_at', UTCDateTime(), nullable=False),
        sa.Column('last_match_at', UTCDateTime(), nullable=False),
        sa.Column('match_count', sa.Integer(), nullable=False),
        sa.Column('report_count', sa.Integer(), nullable=False),
        sa.Column('linked_until', UTCDateTime(), nullable=True),
        sa.Column('identifiers', sa.JSON(), nullable=False),
        sa.Column('application_ids', sa.JSON(), nullable=False),
        sa.Column('campaign_ids', sa.JSON(), nullable=False),
        sa.Column('pending_since', UTCDateTime(), nullable=True),
        sa.Column('opened_at', UTCDateTime(), nullable=True),
        sa.Column('acknowledged_at', UTCDateTime(), nullable=True),
        sa.Column('escalated_at', UTCDateTime(), nullable=True),
        sa.Column('cleared_at', UTCDateTime(), nullable=True),
        sa.Column('condition_false_since', UTCDateTime(), nullable=True),
        sa.Column('closed_at', UTCDateTime(), nullable=True),
        sa.Column('verdict', sa.String(length=20), nullable=True),
        sa.Column('reopen_count', sa.Integer(), nullable=False),
        sa.Column('realert_seconds', sa.Integer(), nullable=False),
        sa.Column('assignee_id', sa.Integer(), nullable=True),
        sa.Column('ack_due_at', UTCDateTime(), nullable=True),
        sa.Column('resolve_due_at', UTCDateTime(), nullable=True),
        sa.Column('overdue_ack', sa.Boolean(), nullable=False),
        sa.Column('overdue_resolve', sa.Boolean(), nullable=False),
        sa.Column('tier_review_id', sa.Integer(), nullable=True),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.Column('updated_at', UTCDateTime(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.CheckConstraint("state IN ('pending', 'open', 'acknowledged', 'escalated', 'cleared', 'resolved', 'false_positive', 'withdrawn')", name=op.f('ck_alerts_state_known')),
        sa.ForeignKeyConstraint(['assignee_id'], ['users.id'], name=op.f('fk_alerts_assignee_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_alerts'))
    )
    op.create_index(op.f('ix_alerts_assignee_id'), 'alerts', ['assignee_id'], unique=False)
    op.create_index('ix_alerts_key_latest', 'alerts', ['dedup_key', 'group_key', 'id'], unique=False)
    op.create_index(op.f('ix_alerts_owner'), 'alerts', ['owner'], unique=False)
    op.create_index(op.f('ix_alerts_rule_id'), 'alerts', ['rule_id'], unique=False)
    op.create_index('ix_alerts_state_severity', 'alerts', ['state', 'severity'], unique=False)
    op.create_index('uq_alerts_live_key', 'alerts', ['dedup_key', 'group_key'], unique=True, sqlite_where=sa.text("state IN ('pending', 'open', 'acknowledged', 'escalated', 'cleared')"), postgresql_where=sa.text("state IN ('pending', 'open', 'acknowledged', 'escalated', 'cleared')"))
    op.create_table('alert_events',
        sa.Column('id', BigId, autoincrement=True, nullable=False),
        sa.Column('alert_id', sa.Integer(), nullable=False),
        sa.Column('at', UTCDateTime(), nullable=False),
        sa.Column('actor', sa.String(length=200), nullable=False),
        sa.Column('actor_id', sa.Integer(), nullable=True),
        sa.Column('action', sa.String(length=40), nullable=False),
        sa.Column('data', sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(['alert_id'], ['alerts.id'], name=op.f('fk_alert_events_alert_id_alerts'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_events'))
    )
    op.create_index(op.f('ix_alert_events_alert_id'), 'alert_events', ['alert_id'], unique=False)
    op.create_table('alert_reports',
        sa.Column('alert_id', sa.Integer(), nullable=False),
        sa.Column('report_id', sa.String(length=100), nullable=False),
        sa.Column('linked_at', UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['alert_id'], ['alerts.id'], name=op.f('fk_alert_reports_alert_id_alerts'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('alert_id', 'report_id', name=op.f('pk_alert_reports'))
    )
    op.create_index(op.f('ix_alert_reports_report_id'), 'alert_reports', ['report_id'], unique=False)
    op.create_table('alert_subscriptions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('channel', sa.String(length=10), nullable=False),
        sa.Column('endpoint_id', sa.Integer(), nullable=True),
        sa.Column('min_severity', sa.String(length=10), nullable=False),
        sa.Column('rule_groups', sa.JSON(), nullable=False),
        sa.Column('owners', sa.JSON(), nullable=False),
        sa.Column('digest_only', sa.Boolean(), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.CheckConstraint("channel IN ('email', 'webhook')", name=op.f('ck_alert_subscriptions_channel_known')),
        sa.ForeignKeyConstraint(['endpoint_id'], ['alert_webhook_endpoints.id'], name=op.f('fk_alert_subscriptions_endpoint_id_alert_webhook_endpoints')),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_alert_subscriptions_user_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_subscriptions'))
    )
    op.create_index(op.f('ix_alert_subscriptions_user_id'), 'alert_subscriptions', ['user_id'], unique=False)
    op.create_table('alert_suppressions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('rule_id', sa.String(length=80), nullable=False),
        sa.Column('group_key', sa.String(length=320), nullable=False),
        sa.Column('reason', sa.String(length=30), nullable=False),
        sa.Column('target', sa.String(length=40), nullable=False),
        sa.Column('alert_id', sa.Integer(), nullable=True),
        sa.Column('silence_id', sa.Integer(), nullable=True),
        sa.Column('first_at', UTCDateTime(), nullable=False),
        sa.Column('last_at', UTCDateTime(), nullable=False),
        sa.Column('count', sa.Integer(), nullable=False),
        sa.Column('until', UTCDateTime(), nullable=True),
        sa.Column('sample_report_ids', sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(['alert_id'], ['alerts.id'], name=op.f('fk_alert_suppressions_alert_id_alerts'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['silence_id'], ['alert_silences.id'], name=op.f('fk_alert_suppressions_silence_id_alert_silences')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_suppressions')),
        sa.UniqueConstraint('rule_id', 'group_key', 'reason', 'target', name='uq_alert_suppressions_what')
    )
    op.create_index(op.f('ix_alert_suppressions_alert_id'), 'alert_suppressions', ['alert_id'], unique=False)


def downgrade() -> None:
    op.drop_table("alert_suppressions")
    op.drop_table("alert_subscriptions")
    op.drop_table("alert_reports")
    op.drop_table("alert_events")
    op.drop_table("alerts")
    op.drop_table("alert_webhook_endpoints")
    op.drop_table("alert_silences")
    op.drop_table("outbox_deliveries")
    op.drop_table("outbox")
    op.drop_table("alert_runs")
    op.drop_table("alert_rule_state")
    op.drop_table("alert_lease")
    op.drop_table("alert_inbox")
