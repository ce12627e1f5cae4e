"""The 0003_risk migration creates the risk tables and their invariants on a fresh SQLite."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tierwatch.core.db import make_engine


def test_upgrade_creates_the_risk_tables(migrated_sqlite: str) -> None:
    engine = make_engine(migrated_sqlite)
    try:
        inspector = sa.inspect(engine)
        assert {"rule_set_versions", "risk_assessments", "tier_overrides"} <= set(inspector.get_table_names())
        indexes = {i["name"]: i for i in inspector.get_indexes("risk_assessments")}
        assert indexes["uq_risk_assessments_current"]["unique"]
        with engine.begin() as conn:
            row = ("INSERT INTO rule_set_versions (jurisdiction, version, edition, title, filename, "
                   "source_text, checksum, rule_count, status, created_at, created_by) VALUES "
                   "('eu', :v, 'e', '{}', 'f', 's', 'c', 1, :status, '2026-01-01', 'test')")
            conn.execute(sa.text(row), {"v": 1, "status": "retired"})
            conn.execute(sa.text(row), {"v": 2, "status": "active"})
        with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
            conn.execute(sa.text(row), {"v": 3, "status": "active"})  # a second active version
        with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
            conn.execute(sa.text(row), {"v": 4, "status": "pending"})
    finally:
        engine.dispose()
