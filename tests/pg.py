"""A throw-away PostgreSQL database per test module, migrated from scratch, dropped afterwards."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg.errors
import sqlalchemy as sa

from tierwatch.core.db import make_engine
from tierwatch.core.migrate import upgrade


@contextmanager
def fresh_database(postgres_url: str, prefix: str) -> Iterator[str]:
    name = f"{prefix}_{secrets.token_hex(4)}"
    admin = make_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = postgres_url.rsplit("/", 1)[0] + f"/{name}"
    try:
        upgrade(url)
        yield url
    finally:
        _drop(admin, name)
        admin.dispose()


def _drop(admin: sa.Engine, name: str) -> None:
    # An autovacuum worker that has just started on the database (after a test's busy writes)
    # belongs to the superuser, and FORCE may not end it: wait for it to finish, a few times.
    for attempt in range(20):
        try:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE "{name}" WITH (FORCE)')
            return
        except sa.exc.ProgrammingError as exc:
            if not isinstance(exc.orig, psycopg.errors.InsufficientPrivilege) or attempt == 19:
                raise
            time.sleep(0.25)
