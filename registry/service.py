"""Use cases of the application registry: file, edit, submit, review, amend, deregister.

Every function takes a UnitOfWork and the acting user (`registry.audit.Actor`) and leaves the
commit to the caller. A company actor only ever sees its own company's applications: anything
else is NotFound, so ids of other companies' filings do not leak.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Iterable, Iterator

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from tierwatch.core.clock import CHINA_TZ, utcnow
from tierwatch.core.db import UnitOfWork
from tierwatch.registry import audit, supervision, workflow
from tierwatch.registry.events import ApplicationDeregistered, FilingApproved, FilingSubmitted
from tierwatch.core.actors import Actor
from tierwatch.core.errors import Conflict, Forbidden, Invalid, NotFound
from tierwatch.registry.models import Application, ApplicationVersion, Company, FilingSequence
from tierwatch.registry.schemas import AmendIn, ApplicationFields, CreateApplicationIn, ShutdownIn
from tierwatch.registry.schemas import missing_for_submission
from tierwatch.registry.vocab import FILING_FIELDS, QUESTIONS

FIELD_NAMES = tuple(FILING_FIELDS)
QUESTION_NAMES = tuple(QUESTIONS)
FILING_PREFIX = "粤AI备"


def version_fields(version: ApplicationVersion) -> dict[str, Any]:
    """The filing as use cases, events and the tier engine see it: the profile's fields, then
    `answers` (question -> answer, unanswered questions left out) and `justifications`."""
    fields = {name: getattr(version, name) for name in FIELD_NAMES}
    fields["answers"] = {q: v for q in QUESTION_NAMES if (v := getattr(version, q)) is not None}
    fields["justifications"] = dict(version.justifications or {})
    return fields


def set_fields(version: ApplicationVersion, fields: dict[str, Any]) -> None:
    """Write given fields onto a version: profile fields replace; `answers` and `justifications`
    merge question by question, a None clearing one (the question is unanswered again)."""
    for name, value in fields.items():
        if name == "answers":
            for question, answer in value.items():
                setattr(version, question, answer)
        elif name == "justifications":
            merged = dict(version.justifications or {})
            for question, text in value.items():
                if text:
                    merged[question] = text
                else:
                    merged.pop(question, None)
            version.justifications = merged or None
        else:
            setattr(version, name, value)


def latest_version(app: Application) -> ApplicationVersion:
    return max(app.versions, key=lambda v: v.number)


def effective_version(app: Application) -> ApplicationVersion | None:
    """The approved version in force, if any (an amendment under review does not replace it)."""
    approved = [v for v in app.versions if v.status in (workflow.APPROVED, workflow.DEREGISTERED)]
    return max(approved, key=lambda v: v.number) if approved else None


def _visible(stmt: sa.Select[Any], actor: Actor) -> sa.Select[Any]:
    if actor.is_regulator:
        return stmt
    if actor.role == "company" and actor.company_id is not None:
        return stmt.where(Application.company_id == actor.company_id)
    return stmt.where(sa.false())


def get_application(uow: UnitOfWork, actor: Actor, app_id: int, *, lock: bool = False) -> Application:
    stmt = _visible(sa.select(Application).where(Application.id == app_id), actor)
    if lock:
        stmt = stmt.with_for_update()
    app = uow.session.scalars(stmt).first()
    if app is None:
        raise NotFound(f"application {app_id} not found")
    return app


def applications_by_id(uow: UnitOfWork, actor: Actor, app_ids: Iterable[int]) -> list[Application]:
    """Those of ``app_ids`` the actor may see (a list page naming the applications of its rows)."""
    wanted = sorted(set(app_ids))
    if not wanted:
        return []
    return list(uow.session.scalars(_visible(sa.select(Application).where(Application.id.in_(wanted)), actor)))


def list_applications(
    uow: UnitOfWork,
    actor: Actor,
    *,
    status: str | None = None,
    company_id: int | None = None,
    q: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Application], int]:
    stmt = _visible(sa.select(Application), actor)
    if status:
        stmt = stmt.where(Application.status == status)
    if company_id:
        stmt = stmt.where(Application.company_id == company_id)
    if q:
        # The text is literal: "%" and "_" typed by a user match themselves, not everything.
        stmt = stmt.where(sa.or_(Application.name.contains(q, autoescape=True),
                                 Application.filing_number.contains(q, autoescape=True)))
    total = uow.session.scalar(sa.select(sa.func.count()).select_from(stmt.subquery())) or 0
    rows = uow.session.scalars(stmt.order_by(Application.id.desc()).limit(limit).offset(offset))
    return list(rows), total


def count_by_status(uow: UnitOfWork, actor: Actor) -> dict[str, int]:
    """Applications the actor may see, per workflow status (every status, zeros included)."""
    visible = _visible(sa.select(Application.status), actor).subquery()
    rows = uow.session.execute(sa.select(visible.c.status, sa.func.count()).group_by(visible.c.status))
    counts = dict.fromkeys(workflow.STATUSES, 0)
    counts.update({status: int(n) for status, n in rows})
    return counts


def create_application(uow: UnitOfWork, actor: Actor, data: CreateApplicationIn) -> Application:
    if actor.role == "company":
        company_id = actor.company_id
        if data.company_id not in (None, company_id):
            raise Invalid.one("company_id", "a company files only for itself")
    elif actor.role == "admin":
        if data.company_id is None:
            raise Invalid.one("company_id", "required when an administrator files for a company")
        company_id = data.company_id
    else:
        raise Forbidden("only companies (or an administrator on their behalf) file applications")
    if uow.session.get(Company, company_id) is None:
        raise Invalid.one("company_id", f"no company {company_id}")
    fields = data.given()
    fields.pop("company_id", None)
    app = Application(company_id=company_id, name=fields["name"], status=workflow.DRAFT)
    version = _new_version(app, 1, fields, actor)
    uow.session.add_all([app, version])
    uow.session.flush()
    audit.record(uow, actor, "application.create", "application", app.id,
                 changes=audit.diff({}, version_fields(version)))
    return app


def update_application(uow: UnitOfWork, actor: Actor, app_id: int, data: ApplicationFields) -> Application:
    app = get_application(uow, actor, app_id, lock=True)
    version = latest_version(app)
    workflow.check_edit(version.status, actor.role)
    if version.status == workflow.RETURNED:
        version = _revise(uow, actor, app, version)
    before = version_fields(version)
    set_fields(version, data.given())
    app.name = version.name
    changes = audit.diff(before, version_fields(version))
    if changes:
        audit.record(uow, actor, "application.update", "application", app.id, changes=changes)
    return app


def _revise(uow: UnitOfWork, actor: Actor, app: Application, returned: ApplicationVersion) -> ApplicationVersion:
    """The first edit after a return opens a new version: the returned one stays as the
    regulator saw it, so the next review can compare the two."""
    version = _new_version(app, returned.number + 1, version_fields(returned), actor)
    app.status = workflow.DRAFT
    uow.session.add(version)
    uow.session.flush()
    audit.record(uow, actor, "application.revise", "application", app.id,
                 changes={"version": {"before": returned.number, "after": version.number},
                          "status": {"before": returned.status, "after": workflow.DRAFT}})
    return version


def delete_draft(uow: UnitOfWork, actor: Actor, app_id: int) -> None:
    """A filing never submitted may be thrown away; anything submitted stays on record."""
    app = get_application(uow, actor, app_id, lock=True)
    workflow.check_edit(app.status, actor.role)
    if len(app.versions) != 1 or app.status != workflow.DRAFT:
        raise Conflict("only a draft that was never submitted can be deleted")
    before = version_fields(app.versions[0])
    uow.session.delete(app.versions[0])
    uow.session.delete(app)
    audit.record(uow, actor, "application.delete", "application", app_id, changes=audit.diff(before, {}))


def transition(
    uow: UnitOfWork, actor: Actor, app_id: int, action: str, reason: str | None = None
) -> Application:
    app = get_application(uow, actor, app_id, lock=True)
    version = latest_version(app)
    target = workflow.next_status(action, version.status, actor.role, reason)
    workflow.check_decider(action, actor.user_id, {version.created_by_id, version.submitted_by_id})
    if action == "submit":
        missing = missing_for_submission(version_fields(version))
        if missing:
            raise Invalid(missing)
    now = utcnow()
    changes: dict[str, Any] = {"status": {"before": version.status, "after": target}}
    version.status = app.status = target
    if action == "submit":
        version.submitted_at, version.submitted_by_id = now, actor.user_id
    elif action in ("approve", "return", "reject"):
        version.decided_at, version.decided_by_id, version.decision_reason = now, actor.user_id, reason
    if action == "approve":
        audit.lock_trail(uow)  # lock order: application row, audit trail, filing sequence
        _approve(uow.session, app, version, now, changes)
    elif action == "deregister":
        app.deregistered_at = now
        supervision.complete_deadline(uow, app, "deregistration_filing", "shutdown", actor)
    audit.record(uow, actor, f"application.{action}", "application", app.id, changes=changes, reason=reason)
    uow.session.flush()
    if action == "submit":
        if version.number > 1:
            supervision.complete_deadline(uow, app, "change_filing", f"v{version.number}", actor)
        uow.publish(FilingSubmitted(app.id, version.id, version_fields(version)))
    elif action == "approve":
        uow.publish(FilingApproved(app.id, version.id, app.filing_number or ""))
    elif action == "deregister":
        uow.publish(ApplicationDeregistered(app.id))
    return app


def _approve(
    session: Session, app: Application, version: ApplicationVersion, now: datetime, changes: dict[str, Any]
) -> None:
    for older in app.versions:
        if older is not version and older.status == workflow.APPROVED:
            older.status = workflow.SUPERSEDED
    if app.filing_number is None:
        app.filing_number, app.filing_year, app.filing_seq = issue_filing_number(session, now)
        app.approved_at = now
        changes["filing_number"] = {"before": None, "after": app.filing_number}


def amend(uow: UnitOfWork, actor: Actor, app_id: int, data: AmendIn) -> Application:
    """Open a new draft version copied from the approved one; the approved one stays in force."""
    app = get_application(uow, actor, app_id, lock=True)
    current = latest_version(app)
    workflow.check_amend(current.status, actor.role)
    version = _new_version(app, current.number + 1, version_fields(current), actor)
    version.change_note, version.changed_on = data.change_note, data.changed_on
    app.status = workflow.DRAFT
    uow.session.add(version)
    uow.session.flush()
    audit.record(
        uow, actor, "application.amend", "application", app.id,
        changes={"version": {"before": current.number, "after": version.number},
                 "status": {"before": current.status, "after": workflow.DRAFT}},
        reason=data.change_note,
    )
    if data.changed_on is not None:
        supervision.open_deadline(uow, app, "change_filing", f"v{version.number}", data.changed_on)
    return app


def declare_shutdown(uow: UnitOfWork, actor: Actor, app_id: int, data: ShutdownIn) -> Application:
    """The service stopped: deregistration must be filed within 20 working days."""
    app = get_application(uow, actor, app_id, lock=True)
    if actor.role not in workflow.COMPANY_SIDE:
        raise Forbidden("only the company declares that its service stopped")
    if app.filing_number is None or app.status == workflow.DEREGISTERED:
        raise Conflict("only a filed, not yet deregistered application can be shut down")
    before = app.service_stopped_on
    app.service_stopped_on = data.stopped_on
    audit.record(uow, actor, "application.shutdown", "application", app.id,
                 changes=audit.diff({"service_stopped_on": before}, {"service_stopped_on": data.stopped_on}))
    supervision.open_deadline(uow, app, "deregistration_filing", "shutdown", data.stopped_on)
    return app


def issue_filing_number(session: Session, when: datetime) -> tuple[str, int, int]:
    """Next `粤AI备-<year>-<6 digits>`. The UPDATE holds the year's row lock until commit, so
    concurrent approvals queue instead of reading the same value."""
    year = when.astimezone(CHINA_TZ).year
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    session.execute(insert(FilingSequence).values(year=year, last=0).on_conflict_do_nothing())
    seq = session.execute(
        sa.update(FilingSequence)
        .where(FilingSequence.year == year)
        .values(last=FilingSequence.last + 1)
        .returning(FilingSequence.last)
    ).scalar_one()
    return f"{FILING_PREFIX}-{year}-{seq:06d}", year, seq


def _new_version(app: Application, number: int, fields: dict[str, Any], actor: Actor) -> ApplicationVersion:
    version = ApplicationVersion(application=app, number=number, status=workflow.DRAFT,
                                 created_by_id=actor.user_id)
    for name in FIELD_NAMES:
        value = fields.get(name)
        if value is None and FILING_FIELDS[name][0] in ("set", "list"):
            value = []
        setattr(version, name, value)
    set_fields(version, {"answers": fields.get("answers") or {}, "justifications": fields.get("justifications") or {}})
    return version


def iter_current_applications(uow: UnitOfWork, batch: int = 2000) -> Iterator[tuple[int, int, dict[str, Any]]]:
    """(application id, version id, fields) of every application's latest submitted version:
    what re-tiering evaluates. Drafts that were never submitted are skipped."""
    latest = (
        sa.select(ApplicationVersion.application_id, sa.func.max(ApplicationVersion.number).label("n"))
        .where(ApplicationVersion.status != workflow.DRAFT)
        .group_by(ApplicationVersion.application_id)
        .subquery()
    )
    names = FIELD_NAMES + QUESTION_NAMES
    columns = [getattr(ApplicationVersion, name) for name in names] + [ApplicationVersion.justifications]
    profile, questions = len(FIELD_NAMES), len(names)
    stmt = (
        sa.select(ApplicationVersion.application_id, ApplicationVersion.id, *columns)
        .join(latest, sa.and_(ApplicationVersion.application_id == latest.c.application_id,
                              ApplicationVersion.number == latest.c.n))
        .order_by(ApplicationVersion.application_id)
        .execution_options(yield_per=batch)
    )
    for row in uow.session.execute(stmt):
        values = row[2:]
        fields = dict(zip(FIELD_NAMES, values[:profile]))
        fields["answers"] = {q: v for q, v in zip(QUESTION_NAMES, values[profile:questions]) if v is not None}
        fields["justifications"] = values[questions] or {}
        yield row[0], row[1], fields
