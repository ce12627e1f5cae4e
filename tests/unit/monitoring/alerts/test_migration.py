"""The alerting migrations create exactly the tables the models declare, with the database
keeping one live alert per key."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import tierwatch.models  # noqa: F401  (every table on Base.metadata)
from tierwatch.core.db import Base, make_engine

OURS = {"alerts", "alert_reports", "alert_events", "alert_suppressions", "alert_silences", "alert_subscriptions",
        "alert_webhook_endpoints", "alert_rule_state", "alert_runs", "alert_inbox", "alert_lease", "outbox",
        "outbox_deliveries", "tier_reviews"}


def _table_of(diff: tuple | list) -> str | None:
    """The table a compare_metadata difference is about."""
    if isinstance(diff, list):  # modify_* differences come as a list of tuples
        return str(diff[0][2])
    op, obj = diff[0], diff[1]
    if op in ("add_column", "remove_column"):
        return str(diff[2])
    table = getattr(obj, "table", None)
    return str(table.name) if table is not None else getattr(obj, "name", None)


def test_migrations_match_the_models(migrated_sqlite: str) -> None:
    engine = make_engine(migrated_sqlite)
    try:
        with engine.connect() as conn:
            diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        assert OURS <= set(sa.inspect(engine).get_table_names())
        assert [d for d in diffs if _table_of(d) in OURS] == []
    finally:
        engine.dispose()


def test_one_live_alert_per_key(migrated_sqlite: str) -> None:
    engine = make_engine(migrated_sqlite)
    now = datetime(2026, 3, 2, tzinfo=UTC).isoformat()
    row = ("INSERT INTO alerts (rule_id, rule_checksum, dedup_key, group_key, state, severity, owner, rule_group,"
           " title, summary, reason, threshold, counts, facets, window_start, window_end, first_match_at,"
           " last_match_at, match_count, report_count, identifiers, application_ids, campaign_ids, reopen_count,"
           " realert_seconds, overdue_ack, overdue_resolve, created_at, updated_at, version) VALUES"
           " ('r', 'c', 'r', :key, :state, 'high', 'o', 'g', '{}', '{}', '{}', 1, '{}', '{}', :t, :t, :t, :t,"
           " 1, 0, '[]', '[]', '[]', 0, 0, 0, 0, :t, :t, 1)")
    try:
        with engine.begin() as conn:
            conn.execute(sa.text(row), {"key": "k", "state": "resolved", "t": now})
            conn.execute(sa.text(row), {"key": "k", "state": "open", "t": now})
            conn.execute(sa.text(row), {"key": "other", "state": "cleared", "t": now})
        with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
            conn.execute(sa.text(row), {"key": "k", "state": "cleared", "t": now})
        with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
            conn.execute(sa.text(row), {"key": "x", "state": "sleeping", "t": now})
    finally:
        engine.dispose()
