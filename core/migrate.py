"""Run Alembic migrations from code (the CLI's `tierwatch db upgrade`)."""

from __future__ import annotations

from importlib.resources import files
from typing import Literal

from alembic import command
from alembic.config import Config

from tierwatch.core.keys import KeyRing

MIGRATIONS_DIR = files("tierwatch.migrations")


def alembic_config(url: str, keys: KeyRing | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.attributes["keys"] = keys  # for migrations that re-protect data (the audit chain's HMAC)
    return cfg


def upgrade(url: str, revision: str = "heads", keys: KeyRing | None = None) -> None:
    command.upgrade(alembic_config(url, keys), revision)


def current(url: str) -> str | None:
    from alembic.runtime.migration import MigrationContext

    from tierwatch.core.db import make_engine

    engine = make_engine(url)
    with engine.connect() as conn:
        heads = MigrationContext.configure(conn).get_current_heads()
    engine.dispose()
    return ",".join(heads) if heads else None


SchemaState = Literal["fresh", "current", "behind", "foreign"]


def schema_state(url: str) -> SchemaState:
    """What the database holds: nothing yet ("fresh"), tierwatch at the code's migration heads
    ("current") or before them ("behind"), or tables that are not tierwatch's ("foreign")."""
    import sqlalchemy as sa
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from tierwatch.core.db import make_engine

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            applied = set(MigrationContext.configure(conn).get_current_heads())
            tables = sa.inspect(conn).get_table_names()
    finally:
        engine.dispose()
    if not applied:
        return "foreign" if tables else "fresh"
    heads = set(ScriptDirectory.from_config(alembic_config(url)).get_heads())
    return "current" if applied == heads else "behind"
