"""Exactly one active evaluator per deployment, however many workers run the jobs.

- PostgreSQL: a session-level advisory lock taken on a connection of its own, and the cycle's
  transaction runs on that same connection. A leader whose connection is gone (the process was
  killed, the network cut) has lost the lock and the right to commit together: PostgreSQL frees
  the lock when the backend ends, so another worker takes over at its next try (every few
  seconds); TCP keepalives bound how long a silent partition goes unnoticed (~25 s).
- SQLite (the embedded default): a lease row with an epoch, renewed inside every cycle's
  transaction and refused to a holder whose epoch moved on (fencing). Takeover after expiry.

Either way the watermark's compare-and-set (store.advance) refuses a second writer of the same
windows, should two leaders ever overlap.
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
from datetime import UTC, datetime, timedelta
from typing import Protocol

import sqlalchemy as sa
import sqlalchemy.dialects.postgresql
import sqlalchemy.dialects.sqlite
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from tierwatch.core.clock import utcnow
from tierwatch.core.db import make_engine
from tierwatch.core.ids import new_id
from tierwatch.monitoring.alerts.models import AlertLease

log = logging.getLogger(__name__)
LOCK_NAME = "tierwatch.alerts.evaluator"
LOCK_KEY = int.from_bytes(hashlib.blake2b(LOCK_NAME.encode(), digest_size=8).digest(), "big", signed=True)


class LeaseLost(RuntimeError):
    """This process is no longer the evaluator: its cycle must not commit."""


class EvaluatorLease(Protocol):
    holder: str

    def acquire(self) -> bool:
        """Lead now (True), or someone else does (False). Cheap to call every few seconds."""
        ...

    def session(self) -> Session:
        """A session for one cycle's transaction (on PostgreSQL, on the lock's connection)."""
        ...

    def fence(self, session: Session) -> None:
        """Inside the cycle's transaction: raise LeaseLost unless still the leader."""
        ...

    def release(self) -> None: ...


def holder_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{new_id()[:8]}"


class PostgresLease:
    def __init__(self, url: str, holder: str | None = None):
        self.holder = holder or holder_name()
        # Its own engine: one connection held for the process's life, named so an operator (or a
        # test) can see in pg_stat_activity which process leads, with keepalives.
        self._engine: Engine = make_engine(url, poolclass=NullPool, connect_args={
            "application_name": f"tierwatch-evaluator {self.holder}"[:63],
            "keepalives": 1, "keepalives_idle": 10, "keepalives_interval": 5, "keepalives_count": 3})
        self._conn: Connection | None = None
        self._held = False

    def acquire(self) -> bool:
        try:
            if self._conn is None or self._conn.closed or self._conn.invalidated:
                self._reset()
                self._conn = self._engine.connect()
            if not self._held:
                self._held = bool(self._conn.execute(sa.select(sa.func.pg_try_advisory_lock(LOCK_KEY))).scalar())
                self._conn.commit()
                if self._held:
                    log.info("evaluator lease taken by %s", self.holder)
            else:
                self._conn.execute(sa.text("SELECT 1"))  # still connected, so still holding
                self._conn.commit()
        except sa.exc.DBAPIError as exc:
            log.warning("evaluator lease: connection lost (%s); will retry", str(exc).splitlines()[0])
            self._reset()
        return self._held

    def session(self) -> Session:
        if self._conn is None or not self._held:
            raise LeaseLost("not the evaluator")
        return Session(bind=self._conn, expire_on_commit=False)

    def fence(self, session: Session) -> None:
        # pg_locks shows a bigint advisory key as its two halves (classid, objid), objsubid 1.
        held = session.execute(sa.text(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted"
            " AND classid::bigint = :hi AND objid::bigint = :lo AND objsubid = 1"),
            {"hi": (LOCK_KEY >> 32) & 0xFFFFFFFF, "lo": LOCK_KEY & 0xFFFFFFFF}).scalar()
        if not held:
            self._held = False
            raise LeaseLost("the advisory lock is gone")

    def _reset(self) -> None:
        self._held = False
        if self._conn is not None:
            try:
                self._conn.invalidate()
                self._conn.close()
            except Exception:  # noqa: BLE001 # nosec B110 # a dead connection may fail to close; it is gone anyway
                pass
        self._conn = None

    def release(self) -> None:
        if self._conn is not None and self._held:
            try:
                self._conn.execute(sa.select(sa.func.pg_advisory_unlock(LOCK_KEY)))
                self._conn.commit()
            except sa.exc.DBAPIError:
                pass
        self._reset()
        self._engine.dispose()


class RowLease:
    """The embedded lease: one row, taken when free or expired, renewed by every cycle."""

    def __init__(self, engine: Engine, ttl: timedelta = timedelta(seconds=30), holder: str | None = None):
        self.holder, self.ttl, self._engine = holder or holder_name(), ttl, engine
        self.epoch: int | None = None

    def acquire(self, now: datetime | None = None) -> bool:
        # Writes only, no read first: on SQLite the first write takes the write lock (waiting
        # out other writers), where a read followed by a write could fail on a stale snapshot.
        now = now or utcnow()
        t = AlertLease.__table__
        with self._engine.begin() as conn:
            if self.epoch is not None:
                renewed = conn.execute(sa.update(t).where(t.c.id == 1, t.c.holder == self.holder, t.c.epoch == self.epoch)
                                       .values(expires_at=now + self.ttl))
                if renewed.rowcount == 1:  # type: ignore[attr-defined]
                    return True
                self.epoch = None
            insert = sa.dialects.sqlite.insert if conn.dialect.name == "sqlite" else sa.dialects.postgresql.insert
            created = conn.execute(insert(t).values(id=1, holder=self.holder, epoch=1, expires_at=now + self.ttl)
                                   .on_conflict_do_nothing(index_elements=["id"]))
            taken = created.rowcount == 1 or conn.execute(  # type: ignore[attr-defined]
                sa.update(t).where(t.c.id == 1, t.c.expires_at < now)
                .values(holder=self.holder, epoch=t.c.epoch + 1, expires_at=now + self.ttl)).rowcount == 1
            if not taken:
                return False
            self.epoch = conn.execute(sa.select(t.c.epoch).where(t.c.id == 1)).scalar_one()
        log.info("evaluator lease taken by %s (epoch %s)", self.holder, self.epoch)
        return True

    def session(self) -> Session:
        if self.epoch is None:
            raise LeaseLost("not the evaluator")
        return Session(bind=self._engine, expire_on_commit=False)

    def fence(self, session: Session, now: datetime | None = None) -> None:
        t = AlertLease.__table__
        renewed = session.execute(sa.update(t).where(t.c.id == 1, t.c.holder == self.holder, t.c.epoch == self.epoch)
                                  .values(expires_at=(now or utcnow()) + self.ttl))
        if renewed.rowcount != 1:  # type: ignore[attr-defined]
            self.epoch = None
            raise LeaseLost("the lease moved on to another evaluator")

    def release(self) -> None:
        if self.epoch is None:
            return
        t = AlertLease.__table__
        with self._engine.begin() as conn:
            # expired long ago: free for the next taker at once, whatever its clock says
            conn.execute(sa.update(t).where(t.c.id == 1, t.c.holder == self.holder, t.c.epoch == self.epoch)
                         .values(expires_at=datetime(1970, 1, 1, tzinfo=UTC)))
        self.epoch = None


def lease_for(url: str, engine: Engine, ttl: timedelta) -> EvaluatorLease:
    """PostgreSQL's advisory lock, or the lease row on SQLite."""
    if url.startswith("postgresql"):
        return PostgresLease(url)
    return RowLease(engine, ttl)
