"""Transactional outbox: messages written in the transaction of the change they announce, sent
afterwards by a dispatcher, retried with backoff, every attempt logged.

A row exists if and only if its change committed, so nothing is lost across a crash and nothing
is announced that was rolled back. Kinds: ``email`` and ``webhook`` (alert notifications),
``index`` (an alert to re-index; one pending row per alert), ``bus`` (registry application
events relayed onto the bus). ``dedup_key`` is unique: writing the same message twice keeps one.

Dispatching claims due rows with a conditional UPDATE (any number of dispatchers, on SQLite or
PostgreSQL: a row another dispatcher claimed is skipped), sends without holding a transaction,
then records the outcome. A dispatcher that dies after the peer accepted a message and before
recording it leaves the claim to expire and the message is sent again: every message carries
its id (``Message-ID``, ``X-Tierwatch-Delivery``) so receivers drop the repeat.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from tierwatch.core.db import Base, created_at
from tierwatch.core.ids import new_id
from tierwatch.monitoring.bulk import insert_rows

log = logging.getLogger(__name__)
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
PENDING, SENT, FAILED = "pending", "sent", "failed"


class OutboxMessage(Base):
    __tablename__ = "outbox"
    __table_args__ = (sa.Index("ix_outbox_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(sa.String(10))
    target: Mapped[str] = mapped_column(sa.String(500))
    dedup_key: Mapped[str] = mapped_column(sa.String(200), unique=True)
    payload: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(sa.String(10), default=PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime]
    claimed_by: Mapped[str | None] = mapped_column(sa.String(40))
    claimed_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[created_at]
    sent_at: Mapped[datetime | None]


class OutboxDelivery(Base):
    """The delivery log: one row per attempt."""

    __tablename__ = "outbox_deliveries"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    outbox_id: Mapped[int] = mapped_column(sa.ForeignKey("outbox.id", ondelete="CASCADE"), index=True)
    attempt: Mapped[int]
    at: Mapped[datetime]
    ok: Mapped[bool]
    detail: Mapped[str] = mapped_column(sa.Text)
    took_ms: Mapped[int]


_TABLE: sa.Table = OutboxMessage.__table__


def enqueue(session: Session, kind: str, target: str, dedup_key: str, payload: Mapping[str, Any],
            now: datetime) -> None:
    """Add a message in the caller's transaction; a message with this dedup key already
    written is left as it is."""
    insert_rows(session, _TABLE, [_row(kind, target, dedup_key, payload, now)], conflict=["dedup_key"])


def enqueue_latest(session: Session, kind: str, target: str, messages: Sequence[tuple[str, Mapping[str, Any]]],
                   now: datetime) -> None:
    """One message per dedup key that always carries the latest payload: an already sent one
    is due again (an alert re-indexed after each change). ``messages``: (dedup key, payload)."""
    if not messages:
        return
    rows = [_row(kind, target, key, payload, now) for key, payload in dict(messages).items()]
    insert_rows(session, _TABLE, rows, conflict=["dedup_key"],
                update={"payload": "excluded.payload", "status": f"'{PENDING}'",
                        "next_attempt_at": "excluded.next_attempt_at", "attempts": "0"})


def _row(kind: str, target: str, dedup_key: str, payload: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    return {"kind": kind, "target": target, "dedup_key": dedup_key[:200], "payload": dict(payload),
            "status": PENDING, "attempts": 0, "next_attempt_at": now, "created_at": now}


@dataclass(frozen=True)
class Backoff:
    first: timedelta = timedelta(seconds=30)
    most: timedelta = timedelta(hours=1)
    give_up_after: timedelta = timedelta(hours=24)

    def delay(self, attempts: int) -> timedelta:
        """30 s, 1 min, 2 min, 4 min ... up to an hour, +-10% so retries of a burst spread out."""
        base = min(self.first * 2 ** max(attempts - 1, 0), self.most)
        return base * random.uniform(0.9, 1.1)  # nosec B311 # retry jitter, not security


# kind -> sends one message (raises on failure); what it returns goes to the delivery log
Sender = Callable[[OutboxMessage], str]


@dataclass
class Dispatched:
    sent: int = 0
    retried: int = 0
    failed: int = 0


def dispatch(session_factory: Callable[[], Session], senders: Mapping[str, Sender], now: datetime, *,
             limit: int = 200, claim_for: timedelta = timedelta(minutes=2),
             backoff: Backoff = Backoff()) -> Dispatched:
    """Send the due messages of the given kinds once each; returns what happened."""
    token = new_id()
    with session_factory() as session:
        due = (sa.select(_TABLE.c.id).where(
            _TABLE.c.status == PENDING, _TABLE.c.next_attempt_at <= now, _TABLE.c.kind.in_(list(senders)),
            sa.or_(_TABLE.c.claimed_until.is_(None), _TABLE.c.claimed_until < now),
        ).order_by(_TABLE.c.id).limit(limit))
        # The conditions are repeated on the row being updated: PostgreSQL re-checks them after
        # waiting for a concurrent claimer, so a row is claimed once.
        session.execute(sa.update(_TABLE).where(
            _TABLE.c.id.in_(due.scalar_subquery()), _TABLE.c.status == PENDING,
            sa.or_(_TABLE.c.claimed_until.is_(None), _TABLE.c.claimed_until < now),
        ).values(claimed_by=token, claimed_until=now + claim_for))
        session.commit()
        claimed = list(session.scalars(sa.select(OutboxMessage).where(OutboxMessage.claimed_by == token)
                                       .order_by(OutboxMessage.id)))
        session.expunge_all()
    result = Dispatched()
    for message in claimed:
        started = time.perf_counter()
        try:
            detail, ok = senders[message.kind](message), True
        except Exception as exc:  # noqa: BLE001 - a failed delivery is recorded and retried
            detail, ok = f"{type(exc).__name__}: {exc}"[:1000], False
        took = int((time.perf_counter() - started) * 1000)
        _record(session_factory, message, ok, detail, took, now, backoff, result)
    return result


def _record(session_factory: Callable[[], Session], message: OutboxMessage, ok: bool, detail: str,
            took_ms: int, now: datetime, backoff: Backoff, result: Dispatched) -> None:
    attempt = message.attempts + 1
    values: dict[str, Any] = {"attempts": attempt, "claimed_by": None, "claimed_until": None}
    if ok:
        values.update(status=SENT, sent_at=now, last_error=None)
        result.sent += 1
    elif now - message.created_at >= backoff.give_up_after:
        values.update(status=FAILED, last_error=detail)
        result.failed += 1
        log.warning("outbox message %s (%s) failed for good: %s", message.id, message.kind, detail)
    else:
        values.update(next_attempt_at=now + backoff.delay(attempt), last_error=detail)
        result.retried += 1
    with session_factory() as session:
        session.execute(sa.update(_TABLE).where(_TABLE.c.id == message.id, _TABLE.c.claimed_by == message.claimed_by)
                        .values(**values))
        session.add(OutboxDelivery(outbox_id=message.id, attempt=attempt, at=now, ok=ok, detail=detail,
                                   took_ms=took_ms))
        session.commit()


def resend(session: Session, message_id: int, now: datetime) -> bool:
    """A failed message is due again (an administrator's retry after fixing the receiver)."""
    done = session.execute(sa.update(_TABLE).where(_TABLE.c.id == message_id, _TABLE.c.status == FAILED)
                           .values(status=PENDING, next_attempt_at=now, attempts=0))
    return bool(done.rowcount)  # type: ignore[attr-defined]
