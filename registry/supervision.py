"""Supervision schedule: due tasks from each tier's obligations, and the statutory filing
deadlines counted in Chinese working days.

Periodic obligations (`{kind: self_assessment, every: P3M}`) become one task per calendar period,
due on the period's last day; deadlines (`change_filing` within 10 working days of a change,
`deregistration_filing` within 20 of a shutdown) are opened by the workflow. Working days follow
the State Council's holiday notices, adjusted working weekends (调休) included, via the
`chinese_calendar` package.
"""

from __future__ import annotations

import calendar
import hashlib
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Callable, Iterable, Iterator

import chinese_calendar
import sqlalchemy as sa

from tierwatch.core.clock import CHINA_TZ, utcnow
from tierwatch.core.db import UnitOfWork
from tierwatch.registry import audit
from tierwatch.core.actors import Actor
from tierwatch.core.errors import Conflict, Forbidden, NotFound
from tierwatch.registry.models import Application, Company, SupervisionTask

OPEN, OVERDUE, DONE = "open", "overdue", "done"
# Statutory deadlines (working days) for filing a change / a deregistration, per the algorithm
# recommendation and deep synthesis provisions' filing rules.
DEADLINE_WORKDAYS = {"change_filing": 10, "deregistration_filing": 20}
# Kinds the company closes itself (by handing in the report); the rest are the regulator's.
COMPANY_KINDS = frozenset({"self_assessment", "incident_report"})
EU_MEMBERS = frozenset("AT BE BG HR CY CZ DK EE FI FR DE GR IE IT LV LT LU MT NL PL PT RO SK SI ES SE".split())
REGIME_COUNTRIES = {"cn": frozenset({"CN"}), "eu": EU_MEMBERS}
_ISO_DURATION = re.compile(r"^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?)?$")


@dataclass(frozen=True)
class Duty:
    """One scheduled duty of a tier (the rule files' obligations that recur or have deadlines)."""

    kind: str
    every: str | None = None  # ISO 8601 duration: a recurring task
    within: str | None = None  # ISO 8601 duration: a deadline after an event
    sample: float | None = None  # share of applications picked (spot checks)


@dataclass(frozen=True)
class TierDuties:
    jurisdiction: str
    tier: str
    duties: tuple[Duty, ...]


# The tiering package answers this (tierwatch.risk.service.supervision_duties); the composition
# root hands it in, so the registry does not import the tiering package.
TierSource = Callable[[UnitOfWork, int], Iterable[TierDuties]]


# --- working days -------------------------------------------------------------------------

def is_workday(day: date) -> tuple[bool, bool]:
    """(is a working day, known from the official calendar). Years the package does not cover
    yet fall back to Monday-Friday and say so."""
    try:
        return chinese_calendar.is_workday(day), True
    except NotImplementedError:
        return day.weekday() < 5, False


def add_workdays(start: date, workdays: int) -> tuple[date, bool]:
    """The `workdays`-th working day after `start` (the start day itself does not count),
    and whether every day on the way was on the official calendar."""
    day, counted, official = start, 0, True
    while counted < workdays:
        day += timedelta(days=1)
        working, known = is_workday(day)
        official = official and known
        counted += working
    return day, official


def china_today(now: datetime) -> date:
    return now.astimezone(CHINA_TZ).date()


# --- deadlines opened by the workflow -----------------------------------------------------

def open_deadline(uow: UnitOfWork, app: Application, kind: str, key: str, start: date) -> SupervisionTask:
    due, official = add_workdays(start, DEADLINE_WORKDAYS[kind])
    details = {"start": start.isoformat(), "workdays": DEADLINE_WORKDAYS[kind], "official_calendar": official}
    return _upsert(uow, app, kind, key, due, details=details)[0]


def complete_deadline(uow: UnitOfWork, app: Application, kind: str, key: str, actor: Actor) -> None:
    task = uow.session.scalars(
        sa.select(SupervisionTask).where(
            SupervisionTask.application_id == app.id,
            SupervisionTask.kind == kind,
            SupervisionTask.period_key == key,
            SupervisionTask.status != DONE,
        )
    ).first()
    if task is not None:
        _close(uow, task, actor, note=None)


def open_incident_deadline(
    uow: UnitOfWork, app: Application, incident_key: str, occurred_at: datetime, within: str
) -> SupervisionTask:
    """An incident happened: its report is due `within` (PT24H, PT72H ...) of it (the tier's
    incident_report obligation; the company portal lists it among its tasks)."""
    due_at = occurred_at + _duration(within)
    details = {"occurred_at": occurred_at.isoformat(), "due_at": due_at.isoformat(), "within": within}
    return _upsert(uow, app, "incident_report", incident_key, china_today(due_at), details=details)[0]


# --- scheduled jobs ---------------------------------------------------------------------

def generate_due_tasks(uow: UnitOfWork, now: datetime, tiers: TierSource) -> int:
    """Create this period's tasks for every filed, active application; idempotent."""
    today, created = china_today(now), 0
    for app, country in _supervised(uow):
        for duties in tiers(uow, app.id):
            if not regime_applies(duties.jurisdiction, country):
                continue
            for ob in duties.duties:
                if ob.every is None or (ob.sample is not None and not _sampled(app.id, ob, today)):
                    continue
                key, due = period_of(today, ob.every)
                details = {"every": ob.every, "tier_obligation": ob.kind}
                _task, new = _upsert(uow, app, ob.kind, f"{duties.jurisdiction}:{key}", due,
                                     details=details, jurisdiction=duties.jurisdiction, tier=duties.tier)
                created += new
    uow.session.flush()
    return created


def mark_overdue(uow: UnitOfWork, now: datetime) -> int:
    """Open tasks past their due day (China time) become overdue; returns how many."""
    today = china_today(now)
    ids = list(uow.session.scalars(
        sa.select(SupervisionTask.id).where(SupervisionTask.status == OPEN, SupervisionTask.due_on < today)
    ))
    if ids:
        uow.session.execute(
            sa.update(SupervisionTask).where(SupervisionTask.id.in_(ids)).values(status=OVERDUE)
        )
        audit.record(uow, Actor.system("supervision"), "supervision.mark_overdue", "supervision_task",
                     "*", changes={"task_ids": ids, "status": {"before": OPEN, "after": OVERDUE}})
    return len(ids)


# --- listing and completing ----------------------------------------------------------------

def list_tasks(
    uow: UnitOfWork,
    actor: Actor,
    *,
    status: str | None = None,
    company_id: int | None = None,
    application_id: int | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[SupervisionTask]:
    stmt = sa.select(SupervisionTask).order_by(SupervisionTask.due_on, SupervisionTask.id)
    if not actor.is_regulator:
        stmt = stmt.where(SupervisionTask.company_id == (actor.company_id or -1))
    if status:
        stmt = stmt.where(SupervisionTask.status == status)
    if company_id:
        stmt = stmt.where(SupervisionTask.company_id == company_id)
    if application_id:
        stmt = stmt.where(SupervisionTask.application_id == application_id)
    return list(uow.session.scalars(stmt.limit(limit).offset(offset)))


@dataclass(frozen=True)
class CalendarFilter:
    status: str | None = None  # open, overdue, done; None: open and overdue
    kind: str | None = None
    company_id: int | None = None
    area: str | None = None  # registry.regions code of the company
    due_from: date | None = None
    due_until: date | None = None


@dataclass(frozen=True)
class CalendarEntry:
    task: SupervisionTask
    application_name: str
    company_name: str
    week: str  # ISO week of the due day, "2026-W07"


MAX_CALENDAR = 2000


def calendar_entries(uow: UnitOfWork, actor: Actor, filters: CalendarFilter, limit: int = MAX_CALENDAR) -> list[CalendarEntry]:
    """Tasks across companies (a company: its own) by due day, with names, for the calendar."""
    from tierwatch.registry.regions import area_filter

    stmt = (sa.select(SupervisionTask, Application.name, Company.name)
            .join(Application, Application.id == SupervisionTask.application_id)
            .join(Company, Company.id == SupervisionTask.company_id)
            .order_by(SupervisionTask.due_on, SupervisionTask.id).limit(limit))
    if not actor.is_regulator:
        stmt = stmt.where(SupervisionTask.company_id == (actor.company_id or -1))
    stmt = stmt.where(SupervisionTask.status == filters.status) if filters.status else \
        stmt.where(SupervisionTask.status.in_((OPEN, OVERDUE)))
    if filters.kind:
        stmt = stmt.where(SupervisionTask.kind == filters.kind)
    if filters.company_id:
        stmt = stmt.where(SupervisionTask.company_id == filters.company_id)
    if filters.area:
        stmt = stmt.where(area_filter(Company.credit_code, filters.area))
    if filters.due_from:
        stmt = stmt.where(SupervisionTask.due_on >= filters.due_from)
    if filters.due_until:
        stmt = stmt.where(SupervisionTask.due_on <= filters.due_until)
    out = []
    for task, app_name, company_name in uow.session.execute(stmt):
        year, week, _ = task.due_on.isocalendar()
        out.append(CalendarEntry(task, app_name, company_name, f"{year}-W{week:02d}"))
    return out


def get_task(uow: UnitOfWork, actor: Actor, task_id: int) -> SupervisionTask:
    task = uow.session.get(SupervisionTask, task_id)
    if task is None or (not actor.is_regulator and task.company_id != actor.company_id):
        raise NotFound(f"task {task_id} not found")
    return task


def complete_task(uow: UnitOfWork, actor: Actor, task_id: int, note: str | None) -> SupervisionTask:
    task = uow.session.get(SupervisionTask, task_id)
    if task is None or (not actor.is_regulator and task.company_id != actor.company_id):
        raise NotFound(f"task {task_id} not found")
    if task.kind in DEADLINE_WORKDAYS:
        raise Conflict("a filing deadline closes itself when the filing is made")
    if task.kind in COMPANY_KINDS and actor.role not in ("company", "admin"):
        raise Forbidden("the company hands this in")
    if task.kind not in COMPANY_KINDS and actor.role not in ("regulator", "admin"):
        raise Forbidden("the regulator carries this out")
    if task.status == DONE:
        raise Conflict("task already done")
    _close(uow, task, actor, note)
    return task


# --- helpers ------------------------------------------------------------------------------

def period_of(today: date, every: str) -> tuple[str, date]:
    """The calendar period of length `every` containing `today`: (key, last day)."""
    years, months, weeks, days, _hours = _parts(every)
    months += 12 * years
    if months and not (weeks or days) and 12 % months == 0:
        index = (today.month - 1) // months
        last_month = (index + 1) * months
        last_day = calendar.monthrange(today.year, last_month)[1]
        return f"{today.year}-P{months}M-{index + 1}", date(today.year, last_month, last_day)
    span = 7 * weeks + days + 30 * months
    if span <= 0:
        raise ValueError(f"recurrence {every!r} is shorter than a day")
    index = today.toordinal() // span
    return f"P{span}D-{index}", date.fromordinal((index + 1) * span - 1)


def _parts(value: str) -> tuple[int, int, int, int, int]:
    match = _ISO_DURATION.match(value or "")
    if not match or value in ("P", "PT"):
        raise ValueError(f"not an ISO 8601 duration: {value!r}")
    return tuple(int(g or 0) for g in match.groups())  # type: ignore[return-value]


def _duration(value: str) -> timedelta:
    years, months, weeks, days, hours = _parts(value)
    return timedelta(days=365 * years + 30 * months + 7 * weeks + days, hours=hours)


def _sampled(app_id: int, ob: Duty, today: date) -> bool:
    # Deterministic per (application, kind, year): the pick is stable across runs, new each year.
    digest = hashlib.sha256(f"{app_id}:{ob.kind}:{today.year}".encode()).digest()
    return int.from_bytes(digest[:4], "big") / 2**32 < (ob.sample or 0)


def regime_applies(jurisdiction: str, country: str) -> bool:
    """Whether a rule set's duties bind a provider from `country`. Every registry is tiered
    under each active rule set (to compare regimes), but only the provider's own regime
    schedules work; a jurisdiction not listed here binds everyone."""
    countries = REGIME_COUNTRIES.get(jurisdiction.split("-")[0].lower())
    return countries is None or country in countries


def _supervised(uow: UnitOfWork) -> Iterator[tuple[Application, str]]:
    stmt = (
        sa.select(Application, Company.country).join(Company, Company.id == Application.company_id)
        .where(Application.filing_number.is_not(None), Application.deregistered_at.is_(None))
        .order_by(Application.id).execution_options(yield_per=1000)
    )
    for app, country in uow.session.execute(stmt):
        yield app, country


def _upsert(
    uow: UnitOfWork, app: Application, kind: str, key: str, due: date, *,
    details: dict[str, Any], jurisdiction: str | None = None, tier: str | None = None,
) -> tuple[SupervisionTask, bool]:
    task = uow.session.scalars(
        sa.select(SupervisionTask).where(
            SupervisionTask.application_id == app.id,
            SupervisionTask.kind == kind,
            SupervisionTask.period_key == key,
        )
    ).first()
    created = task is None
    if task is None:
        task = SupervisionTask(application_id=app.id, company_id=app.company_id, kind=kind,
                               period_key=key, status=OPEN)
        uow.session.add(task)
    elif task.status == DONE:
        return task, False
    task.due_on, task.details, task.jurisdiction, task.tier = due, details, jurisdiction, tier
    return task, created


def _close(uow: UnitOfWork, task: SupervisionTask, actor: Actor, note: str | None) -> None:
    uow.session.flush()
    before = task.status
    task.status, task.completed_at, task.completed_by_id, task.note = DONE, utcnow(), actor.user_id, note
    audit.record(uow, actor, "supervision.complete", "supervision_task", task.id,
                 changes={"status": {"before": before, "after": DONE}}, reason=note)
