"""Relational store plumbing: declarative base, shared column types, engine and unit of work."""

from __future__ import annotations

from datetime import UTC, datetime
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Annotated, Any, ClassVar

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, mapped_column, sessionmaker

from tierwatch.core.clock import utcnow
from tierwatch.core.keys import KeyRing

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """Timezone-aware timestamps on both backends; SQLite drops the offset, so we restore UTC."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use core.clock.utcnow()")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: sa.JSON(), list[Any]: sa.JSON()}

    if TYPE_CHECKING:
        # Every model here is mapped to a plain Table; SQLAlchemy types it as any FromClause.
        __table__: ClassVar[sa.Table]


intpk = Annotated[int, mapped_column(primary_key=True)]
# The largest row id: INTEGER columns are 32 bits on PostgreSQL. Inputs naming an id are checked
# against it, so a larger number is "not found" or a field error, never "integer out of range".
ID_MAX = 2**31 - 1
created_at = Annotated[datetime, mapped_column(UTCDateTime(), default=utcnow, nullable=False)]


def make_engine(url: str, **kwargs: Any) -> Engine:
    if url.startswith("sqlite"):
        kwargs.setdefault("connect_args", {"timeout": 30})
        engine = sa.create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return sa.create_engine(url, **kwargs)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # WAL lets the web process read while the worker writes; foreign keys are off by default.
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


Handler = Callable[["UnitOfWork", Any], None]


class UnitOfWork:
    """A session that rolls back unless commit() was called inside the block, and the listeners
    of the events its use cases publish (wired by the composition root, tierwatch.bootstrap)."""

    def __init__(
        self,
        session_factory: Callable[[], Session],
        handlers: Mapping[type, Sequence[Handler]] | None = None,
        keys: KeyRing | None = None,
    ):
        self._factory = session_factory
        self._handlers = handlers or {}
        self.keys = keys  # secrets kept outside the database (the audit trail's HMAC key)
        self.session: Session

    def publish(self, event: object) -> None:
        """Run every listener of the event's type now, in this transaction: what a listener
        writes (a tier, an outbox message) commits or rolls back with the use case."""
        for handler in self._handlers.get(type(event), ()):
            handler(self, event)

    def __enter__(self) -> "UnitOfWork":
        self.session = self._factory()
        return self

    def __exit__(self, *exc: object) -> None:
        self.session.rollback()
        self.session.close()

    def commit(self) -> None:
        self.session.commit()

    def rollback(self) -> None:
        self.session.rollback()
