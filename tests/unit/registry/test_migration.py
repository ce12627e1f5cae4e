from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import tierwatch.models  # noqa: F401  (all tables on Base.metadata)
from tierwatch.core.db import Base, make_engine
from tierwatch.registry.models import ApplicationVersion
from tierwatch.registry.vocab import APPLICATION_FIELDS

TABLES = {"companies", "users", "api_tokens", "applications", "application_versions", "filing_sequences",
          "audit_entries", "audit_head", "supervision_tasks"}


def test_migration_creates_the_registry_tables_as_modelled(migrated_sqlite):
    engine = make_engine(migrated_sqlite)
    with engine.connect() as conn:
        assert TABLES <= set(sa.inspect(conn).get_table_names())
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
        triggers = {r[0] for r in conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    engine.dispose()
    assert [d for d in diff if any(t in str(d) for t in TABLES)] == []
    assert {"audit_entries_no_update", "audit_entries_no_delete"} <= triggers


def test_every_filing_field_has_a_column():
    columns = set(ApplicationVersion.__table__.columns.keys())
    assert set(APPLICATION_FIELDS) <= columns
