"""The supervision calendar by week, the audit trail with its chain check, and the downloads
(registry and calendar as CSV or XLSX)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from itertools import groupby
from typing import Any

from flask import Response, render_template, request
from flask_babel import gettext as _

from tierwatch.core.clock import CHINA_TZ, utcnow
from tierwatch.registry import audit, exports, supervision
from tierwatch.registry.regions import AREAS, area_label
from tierwatch.web.auth import allow, current_actor, request_uow
from tierwatch.web.i18n import current_language
from tierwatch.web.labels import LABELS
from tierwatch.web.regulator.blueprint import bp

AUDIT_PAGE = 100


def _actor() -> Any:
    actor = current_actor()
    assert actor is not None
    return actor


def _date(name: str) -> date | None:
    try:
        return date.fromisoformat(request.args.get(name, ""))
    except ValueError:
        return None


def _calendar_filter() -> supervision.CalendarFilter:
    args = request.args
    status = args.get("status") if args.get("status") in (supervision.OPEN, supervision.OVERDUE, supervision.DONE) else None
    kind = args.get("kind") if args.get("kind") in LABELS["task"] else None
    area = args.get("area") if args.get("area") in AREAS else None
    return supervision.CalendarFilter(status=status, kind=kind, area=area, due_from=_date("from"), due_until=_date("until"))


@bp.get("/calendar")
@allow("regulator", "admin")
def calendar() -> str:
    f = _calendar_filter()
    entries = supervision.calendar_entries(request_uow(), _actor(), f)
    weeks = [(week, list(items)) for week, items in groupby(entries, key=lambda e: e.week)]
    today = utcnow().astimezone(CHINA_TZ).date()
    language = current_language()
    return render_template("regulator/calendar.html", f=f, weeks=weeks, today=today, total=len(entries),
                           areas=[(c, area_label(c, language)) for c in AREAS], kinds=list(LABELS["task"]),
                           args={k: v for k, v in request.args.items() if v}, limit=supervision.MAX_CALENDAR)


@bp.get("/audit", endpoint="audit")
@allow("regulator", "admin")
def audit_trail() -> str:
    uow = request_uow()
    args = request.args
    family = args.get("action") if args.get("action") in audit.ACTION_FAMILIES else None
    since, until = _date("from"), _date("until")
    entity_id = (args.get("application") or "").strip()
    before = args.get("before", type=int)
    entries = audit.list_entries(
        uow, entity="application" if entity_id.isdigit() else None,
        entity_id=entity_id if entity_id.isdigit() else None, action=f"{family}." if family else None,
        since=datetime.combine(since, time(), CHINA_TZ) if since else None,
        until=datetime.combine(until + timedelta(days=1), time(), CHINA_TZ) if until else None,
        before_id=before, limit=AUDIT_PAGE)
    check = audit.verify_chain(uow) if args.get("verify", "1") != "0" else None
    args_kept = {k: v for k, v in args.items() if v and k != "before"}
    return render_template("regulator/audit.html", entries=entries, shown=audit.shown_actors(uow, entries, _actor()),
                           check=check, families=audit.ACTION_FAMILIES, family=family, since=since, until=until,
                           application=entity_id, args=args_kept,
                           next_before=entries[-1].id if len(entries) == AUDIT_PAGE else None)




@bp.get("/exports", endpoint="exports")
@allow("regulator", "admin")
def exports_page() -> str:
    return render_template("regulator/exports.html")


def _download(data: bytes, filename: str, mimetype: str) -> Response:
    response = Response(data, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.get("/exports/registry.<any(csv, xlsx):fmt>")
@allow("regulator", "admin")
def export_registry(fmt: str) -> Response:
    rows = exports.registry_rows(request_uow(), _actor())
    stamp = utcnow().astimezone(CHINA_TZ).strftime("%Y%m%d")
    if fmt == "csv":
        return _download(exports.as_csv(exports.REGISTRY_COLUMNS, rows), f"registry-{stamp}.csv", "text/csv")
    return _download(exports.as_xlsx("registry", exports.REGISTRY_COLUMNS, rows), f"registry-{stamp}.xlsx", XLSX)


@bp.get("/exports/calendar.<any(csv, xlsx):fmt>")
@allow("regulator", "admin")
def export_calendar(fmt: str) -> Response:
    entries = supervision.calendar_entries(request_uow(), _actor(), _calendar_filter(), limit=100_000)
    rows = exports.calendar_rows(entries)
    stamp = utcnow().astimezone(CHINA_TZ).strftime("%Y%m%d")
    if fmt == "csv":
        return _download(exports.as_csv(exports.CALENDAR_COLUMNS, rows), f"calendar-{stamp}.csv", "text/csv")
    return _download(exports.as_xlsx("calendar", exports.CALENDAR_COLUMNS, rows), f"calendar-{stamp}.xlsx", XLSX)
