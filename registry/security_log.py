"""The aggregated security log: failed sign-ins, refusals and look-ups of what is not yours.

One row per minute, kind, actor, source and route, with a count, so a password-guessing run
is a few rows, not millions. Nothing personal is stored: the actor is a role and user id (or
"anonymous", or a keyed hash of the e-mail tried), the source a keyed hash of the address.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from tierwatch.registry.models import SecurityEvent

KINDS = ("signin_failed", "bad_token", "forbidden", "not_found", "rate_limited", "csrf_refused",
         "password_change_failed")


def pseudonym(key: bytes, value: str, length: int = 16) -> str:
    """A keyed hash of ``value`` (an address, an e-mail): the same input gives the same text,
    which cannot be turned back without the key."""
    return hmac.new(key, value.strip().lower().encode(), hashlib.sha256).hexdigest()[:length]


def note(session: Session, kind: str, actor: str, source: str, route: str, at: datetime) -> None:
    """Count one event in its minute's row (caller commits, in a transaction of its own: the
    request that was refused rolls back)."""
    if kind not in KINDS:
        raise ValueError(f"unknown security event {kind!r}")
    minute = at.replace(second=0, microsecond=0)
    table = SecurityEvent.__table__
    insert = (postgresql if session.get_bind().dialect.name == "postgresql" else sqlite).insert(table)
    session.execute(
        insert.values(minute=minute, kind=kind, actor=actor[:60], source=source[:16], route=route[:200],
                      count=1, last_at=at)
        .on_conflict_do_update(
            index_elements=["minute", "kind", "actor", "source", "route"],
            set_={"count": table.c.count + 1, "last_at": at},
        )
    )



def recent(session: Session, since: datetime, kind: str | None = None, limit: int = 200) -> list[SecurityEvent]:
    """The log since ``since``, newest minute first (the regulator's security page reads it)."""
    stmt = sa.select(SecurityEvent).where(SecurityEvent.minute >= since)
    if kind:
        stmt = stmt.where(SecurityEvent.kind == kind)
    return list(session.scalars(stmt.order_by(SecurityEvent.minute.desc(), SecurityEvent.count.desc()).limit(limit)))
