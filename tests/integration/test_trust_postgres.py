"""On PostgreSQL: reputation by trust-weighted independent reporters, contacts encrypted at rest,
and the migration that seals contacts stored in clear (tests/unit/monitoring/test_trust.py has
the same on SQLite)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tierwatch.core.db import UnitOfWork, make_engine, make_session_factory
from tests.pg import fresh_database
from tests.unit.monitoring.test_trust import (
    check_contacts_sealed_at_rest,
    check_migration_seals_contacts,
    check_one_reporter_is_not_fifty,
)

pytestmark = pytest.mark.postgres


@pytest.fixture
def uow(postgres_url: str) -> Iterator:
    with fresh_database(postgres_url, "tw_trust") as url:
        engine = make_engine(url)
        yield lambda: UnitOfWork(make_session_factory(engine))
        engine.dispose()


def test_one_anonymous_reporter_cannot_weigh_like_fifty_trusted_ones(uow):
    check_one_reporter_is_not_fifty(uow, "pg")


def test_contacts_are_encrypted_at_rest(uow):
    # The column's text as PostgreSQL holds it, not as SQLAlchemy hands it back.
    check_contacts_sealed_at_rest(uow, "pg", "sealed::text")


def test_the_migration_seals_contacts_stored_in_clear(postgres_url, tmp_path):
    import secrets

    from tierwatch.core.db import make_engine as engine_for

    name = f"tw_trust_mig_{secrets.token_hex(4)}"
    admin = engine_for(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        check_migration_seals_contacts(postgres_url.rsplit("/", 1)[0] + f"/{name}", tmp_path)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE "{name}" WITH (FORCE)')
        admin.dispose()
