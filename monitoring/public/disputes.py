"""Disputes of a checked identifier: "this is not a scam" or "this is my number".

Anyone may open one (the right of reply that lookup sites lack); the identifier is then shown as
disputed until a regulator decides. Upheld: the reports about it are set aside on the public
pages (not deleted: analysts still see them). Rejected: the reports stand, and the page says a
dispute was reviewed. Deciding settles every open dispute of that identifier at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from tierwatch.core.actors import Actor
from tierwatch.core.clock import utcnow
from tierwatch.core.db import UnitOfWork
from tierwatch.core.errors import Conflict, Forbidden, Invalid, NotFound
from tierwatch.monitoring.contacts import ContactCipher
from tierwatch.monitoring.public.checking import recognise
from tierwatch.monitoring.public.models import OPEN, Dispute
from tierwatch.monitoring.public.schemas import DecisionIn, DisputeIn
from tierwatch.registry import audit

DECIDERS = ("regulator", "admin")
_ENTITY = "identifier_dispute"


@dataclass(frozen=True)
class DisputeState:
    status: str  # "open", "upheld" or "rejected"
    since: datetime  # opened (open) or decided


def open_dispute(uow: UnitOfWork, data: DisputeIn, submitter_key: str | None) -> Dispute:
    """Put the identifier under review. The same person disputing the same identifier again
    while it is open gets the open dispute back, not a second one."""
    found = recognise(data.identifier)
    if found is None:
        raise Invalid.one("identifier", "not a phone number, link or account we can recognise")
    if submitter_key is not None:
        again = uow.session.scalars(sa.select(Dispute).where(
            Dispute.kind == found.kind, Dispute.value == found.value, Dispute.status == OPEN,
            Dispute.submitter_key == submitter_key)).first()
        if again is not None:
            return again
    contact = data.contact.model_dump(exclude_none=True) if data.contact else None
    sealed = _cipher(uow).seal(contact) if contact else None
    dispute = Dispute(kind=found.kind, value=found.value, relation=data.relation, reason=data.reason,
                      sealed_contact=sealed, submitter_key=submitter_key, status=OPEN)
    uow.session.add(dispute)
    uow.session.flush()
    # The reason and contact stay out of the trail: the trail is kept forever, and they are personal.
    audit.record(uow, "public", "dispute.open", _ENTITY, dispute.id,
                 {"identifier": f"{found.kind}:{found.value}", "relation": data.relation})
    return dispute


def contact_of(uow: UnitOfWork, dispute: Dispute) -> dict[str, Any] | None:
    """The contact left with the dispute, opened for the regulator deciding it (get() checked the role)."""
    return None if dispute.sealed_contact is None else _cipher(uow).open(dispute.sealed_contact)


def _cipher(uow: UnitOfWork) -> ContactCipher:
    if uow.keys is None:
        raise RuntimeError("dispute contacts are sealed with the key ring: use a unit of work built with keys "
                           "(tierwatch.bootstrap.Container.uow)")
    return ContactCipher.from_ring(uow.keys)


def state(uow: UnitOfWork, kind: str, value: str) -> DisputeState | None:
    """An open dispute wins; else the latest decision; None when never disputed."""
    rows = uow.session.execute(
        sa.select(Dispute.status, Dispute.created_at, Dispute.decided_at)
        .where(Dispute.kind == kind, Dispute.value == value)
        .order_by(Dispute.id.desc())
    ).all()
    opened = [r for r in rows if r.status == OPEN]
    if opened:
        return DisputeState(OPEN, min(r.created_at for r in opened))
    decided = [r for r in rows if r.decided_at is not None]
    if decided:
        latest = max(decided, key=lambda r: r.decided_at)
        return DisputeState(latest.status, latest.decided_at)
    return None


def list_open(uow: UnitOfWork, actor: Actor) -> list[Dispute]:
    """Open disputes, oldest first (the first to decide)."""
    _check(actor)
    return list(uow.session.scalars(sa.select(Dispute).where(Dispute.status == OPEN)
                                    .order_by(Dispute.created_at, Dispute.id)))


def get(uow: UnitOfWork, actor: Actor, dispute_id: int) -> Dispute:
    _check(actor)
    dispute = uow.session.get(Dispute, dispute_id)
    if dispute is None:
        raise NotFound(f"dispute {dispute_id} not found")
    return dispute


def decide(uow: UnitOfWork, actor: Actor, dispute_id: int, data: DecisionIn) -> list[Dispute]:
    """Uphold or reject; every open dispute of the same identifier gets the same decision."""
    dispute = get(uow, actor, dispute_id)
    if dispute.status != OPEN:
        raise Conflict(f"dispute {dispute_id} is already {dispute.status}")
    same = list(uow.session.scalars(sa.select(Dispute).where(
        Dispute.kind == dispute.kind, Dispute.value == dispute.value, Dispute.status == OPEN).with_for_update()))
    now = utcnow()
    for d in same:
        d.status, d.decided_at, d.decided_by, d.decision_note = data.decision, now, actor.label, data.note
        audit.record(uow, actor, f"dispute.{data.decision}", _ENTITY, d.id, {"status": data.decision},
                     reason=data.note)
    return same


def _check(actor: Actor) -> None:
    if actor.role not in DECIDERS:
        raise Forbidden(f"role {actor.role!r} may not handle disputes")
