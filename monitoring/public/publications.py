"""Warnings and case stories: drafted by an analyst (from an alert) or a regulator, published by
a regulator, withdrawn when wrong or outdated. Only published ones reach the public.

Use cases take ``(uow, actor, ...)`` and leave the commit to the caller (as registry.service).
Every change is written to the audit trail. Publishing refuses text that names a person: a case
story may carry no phone number, account, card, e-mail or ID number at all, and a warning only
the scam identifiers it declares (monitoring.public.deidentify).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from tierwatch.core.actors import Actor
from tierwatch.core.clock import utcnow
from tierwatch.core.db import UnitOfWork
from tierwatch.core.errors import Conflict, Forbidden, Invalid, NotFound
from tierwatch.monitoring.public.deidentify import masked, personal_data
from tierwatch.monitoring.public.models import (
    CASE_STORY, DRAFT, PUBLISHED, WARNING, WITHDRAWN, Publication, PublicationReport,
)
from tierwatch.monitoring.public.schemas import PublicationIn
from tierwatch.registry import audit

DRAFTERS = ("analyst", "regulator", "admin")  # the analyst console drafts a warning from an alert
PUBLISHERS = ("regulator", "admin")
_TEXT_FIELDS = ("title_zh", "title_en", "summary_zh", "summary_en", "body_zh", "body_en")
_ENTITY = "publication"


def _require(actor: Actor, roles: Sequence[str], what: str) -> None:
    if actor.role not in roles:
        raise Forbidden(f"role {actor.role!r} may not {what}")


def _get(uow: UnitOfWork, publication_id: int, *, lock: bool = False) -> Publication:
    stmt = sa.select(Publication).where(Publication.id == publication_id)
    found = uow.session.scalars(stmt.with_for_update() if lock else stmt).first()
    if found is None:
        raise NotFound(f"publication {publication_id} not found")
    return found


def _fields(data: PublicationIn) -> dict[str, object]:
    return data.model_dump(exclude={"report_ids"})


def draft(uow: UnitOfWork, actor: Actor, data: PublicationIn) -> Publication:
    """A new draft; ``data.report_ids`` are the reports that fed it (an alert's reports)."""
    _require(actor, DRAFTERS, "draft publications")
    publication = Publication(**_fields(data), status=DRAFT, created_by=actor.label)
    uow.session.add(publication)
    uow.session.flush()
    _link_reports(uow, publication.id, data.report_ids)
    audit.record(uow, actor, "publication.draft", _ENTITY, publication.id,
                 {"kind": data.kind, "title_zh": data.title_zh, "source_alert_id": data.source_alert_id,
                  "reports": len(data.report_ids)})
    return publication


def update_draft(uow: UnitOfWork, actor: Actor, publication_id: int, data: PublicationIn) -> Publication:
    _require(actor, DRAFTERS, "edit publications")
    publication = _get(uow, publication_id, lock=True)
    if publication.status != DRAFT:
        raise Conflict(f"publication {publication_id} is {publication.status}; only a draft is edited")
    before = {k: getattr(publication, k) for k in _fields(data)}
    for name, value in _fields(data).items():
        setattr(publication, name, value)
    _link_reports(uow, publication.id, data.report_ids)
    audit.record(uow, actor, "publication.edit", _ENTITY, publication.id,
                 audit.diff(before, {k: getattr(publication, k) for k in _fields(data)}))
    return publication


def _link_reports(uow: UnitOfWork, publication_id: int, report_ids: Sequence[str]) -> None:
    known = set(uow.session.scalars(sa.select(PublicationReport.report_id)
                                    .where(PublicationReport.publication_id == publication_id)))
    uow.session.add_all(PublicationReport(publication_id=publication_id, report_id=r)
                        for r in report_ids if r not in known)


def get(uow: UnitOfWork, actor: Actor, publication_id: int) -> Publication:
    """Any publication, for those who draft and publish them."""
    _require(actor, DRAFTERS, "read unpublished publications")
    return _get(uow, publication_id)


def list_drafts(uow: UnitOfWork, actor: Actor, kind: str | None = None) -> list[Publication]:
    """Drafts waiting for a regulator, newest first."""
    _require(actor, DRAFTERS, "read drafts")
    stmt = sa.select(Publication).where(Publication.status == DRAFT)
    if kind:
        stmt = stmt.where(Publication.kind == kind)
    return list(uow.session.scalars(stmt.order_by(Publication.created_at.desc(), Publication.id.desc())))


def publish(uow: UnitOfWork, actor: Actor, publication_id: int) -> Publication:
    _require(actor, PUBLISHERS, "publish")
    publication = _get(uow, publication_id, lock=True)
    if publication.status != DRAFT:
        raise Conflict(f"publication {publication_id} is {publication.status}; only a draft is published")
    errors = personal_data_errors(publication)
    if errors:
        raise Invalid(errors)
    publication.status = PUBLISHED
    publication.published_at = utcnow()
    publication.published_by = actor.label
    audit.record(uow, actor, "publication.publish", _ENTITY, publication.id, {"status": PUBLISHED})
    return publication


def withdraw(uow: UnitOfWork, actor: Actor, publication_id: int, reason: str) -> Publication:
    _require(actor, PUBLISHERS, "withdraw publications")
    if not reason or len(reason.strip()) < 5:
        raise Invalid.one("reason", "say why it is withdrawn (at least 5 characters)")
    publication = _get(uow, publication_id, lock=True)
    if publication.status != PUBLISHED:
        raise Conflict(f"publication {publication_id} is {publication.status}; only a published one is withdrawn")
    publication.status = WITHDRAWN
    publication.withdrawn_at = utcnow()
    publication.withdrawn_by = actor.label
    publication.withdraw_reason = reason.strip()
    audit.record(uow, actor, "publication.withdraw", _ENTITY, publication.id, {"status": WITHDRAWN},
                 reason=reason.strip())
    return publication


def personal_data_errors(publication: Publication) -> list[dict[str, str]]:
    """Field errors for each piece of personal data in the publication's texts."""
    allowed = publication.identifiers if publication.kind == WARNING else []
    errors = []
    for name in _TEXT_FIELDS:
        text = getattr(publication, name)
        for finding in personal_data(text or "", allowed):
            what = "a case story names no person or account" if publication.kind == CASE_STORY else \
                "a warning names only the identifiers it declares"
            # kind and value (masked) too, for a page to say it in its own language
            errors.append({"field": name, "code": "personal_data", "kind": finding.kind,
                           "value": masked(finding.value), "message": f"{finding.kind} {masked(finding.value)}: {what}"})
    return errors


# --- what the public reads ---------------------------------------------------------------------

def list_published(uow: UnitOfWork, *, kind: str | None = None, scam_type: str | None = None,
                   limit: int = 20, offset: int = 0) -> tuple[list[Publication], int]:
    """Published warnings and case stories, newest first, and how many there are."""
    stmt = sa.select(Publication).where(Publication.status == PUBLISHED)
    if kind:
        stmt = stmt.where(Publication.kind == kind)
    if scam_type:
        stmt = stmt.where(Publication.scam_type == scam_type)
    total = uow.session.scalar(sa.select(sa.func.count()).select_from(stmt.subquery())) or 0
    rows = uow.session.scalars(stmt.order_by(Publication.published_at.desc(), Publication.id.desc())
                               .limit(limit).offset(offset))
    return list(rows), total


def get_published(uow: UnitOfWork, publication_id: int) -> Publication:
    """A published publication; drafts and withdrawn ones are not found."""
    publication = uow.session.scalars(sa.select(Publication).where(
        Publication.id == publication_id, Publication.status == PUBLISHED)).first()
    if publication is None:
        raise NotFound(f"publication {publication_id} not found")
    return publication


def published_for_report(uow: UnitOfWork, report_id: str) -> list[Publication]:
    """Published publications a report fed."""
    stmt = (sa.select(Publication).join(PublicationReport, PublicationReport.publication_id == Publication.id)
            .where(PublicationReport.report_id == report_id, Publication.status == PUBLISHED)
            .order_by(Publication.published_at.desc()))
    return list(uow.session.scalars(stmt))


def published_for_identifiers(uow: UnitOfWork, keys: Sequence[str], limit: int = 5) -> list[Publication]:
    """Published warnings about any of these "kind:value" identifiers, newest first.

    Filtered in Python: the identifiers are a JSON list, and published warnings number in the
    hundreds, not millions."""
    wanted = set(keys)
    if not wanted:
        return []
    stmt = (sa.select(Publication).where(Publication.status == PUBLISHED, Publication.kind == WARNING)
            .order_by(Publication.published_at.desc()))
    return [p for p in uow.session.scalars(stmt) if wanted & set(p.identifiers)][:limit]
