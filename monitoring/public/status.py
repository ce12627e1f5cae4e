"""What the holder of a tracking code may learn about that report: that it arrived, that it was
analysed, whether other people reported the same numbers and links, and the public warnings it
fed. Never another reporter's words, contact details or identity: only counts, and those only
from the same minimum of independent reporters as the check page."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa

from tierwatch.core.db import UnitOfWork
from tierwatch.core.search import SearchIndex, SearchQuery
from tierwatch.core.search.common import IndexNotFound
from tierwatch.monitoring import identifiers as ids
from tierwatch.monitoring.campaigns import links_reports
from tierwatch.monitoring.indexing import REPORTS_INDEX
from tierwatch.monitoring.models import Report, ReportIdentifier
from tierwatch.monitoring.public import publications
from tierwatch.monitoring.public.checking import DEFAULT_MINIMUM, MAX_COUNTED_REPORTERS, show_phone
from tierwatch.monitoring.public.models import Publication

MAX_SHOWN_IDENTIFIERS = 5


@dataclass(frozen=True)
class SharedIdentifier:
    kind: str
    shown: str
    others: int | None  # other independent reporters; None: fewer than the minimum in all


@dataclass(frozen=True)
class ReportStatus:
    tracking_code: str
    received_at: datetime
    analysed: bool
    looks_like: str | None  # the detector's scam type, when it judged the report a scam
    in_campaign: bool  # linked with other reports through a shared number, link or account
    identifiers: list[SharedIdentifier] = field(default_factory=list)
    warnings: list[Publication] = field(default_factory=list)


def report_status(uow: UnitOfWork, search: SearchIndex, tracking_code: str, *,
                  minimum: int = DEFAULT_MINIMUM) -> ReportStatus | None:
    """None until the worker has stored the report (or for a code that names none)."""
    row = uow.session.execute(
        sa.select(Report.report_id, Report.kind, Report.received_at, Report.model_version, Report.is_scam,
                  Report.scam_type, Report.campaign_id, Report.reporter_key)
        .where(Report.tracking_code == tracking_code)).first()
    if row is None or row.kind != "scam":
        return None
    stored = [(k, v) for k, v in uow.session.execute(
        sa.select(ReportIdentifier.kind, ReportIdentifier.value).where(ReportIdentifier.report_id == row.report_id)
        .order_by(ReportIdentifier.kind, ReportIdentifier.value)) if links_reports(k, v)]
    # A link is shown by its site when the site is there too (one line, not two, per link).
    has_site = any(k == ids.DOMAIN for k, _ in stored)
    keys = [(k, v) for k, v in stored if not (k == ids.URL and has_site)][:MAX_SHOWN_IDENTIFIERS]
    shared = [SharedIdentifier(k, show_phone(v) if k == ids.PHONE else v,
                               _others(search, f"{k}:{v}", row.reporter_key, minimum)) for k, v in keys]
    warnings = publications.published_for_report(uow, row.report_id)
    seen = {p.id for p in warnings}
    warnings += [p for p in publications.published_for_identifiers(uow, [f"{k}:{v}" for k, v in keys])
                 if p.id not in seen]
    return ReportStatus(
        tracking_code=tracking_code, received_at=row.received_at, analysed=row.model_version is not None,
        looks_like=row.scam_type if row.is_scam and row.scam_type != "other" else None, in_campaign=row.campaign_id is not None,
        identifiers=shared, warnings=warnings)


def _others(search: SearchIndex, key: str, own: str | None, minimum: int) -> int | None:
    query = SearchQuery(filters={"identifiers": key, "kind": "scam"})
    try:
        reporters = {k for k, _ in search.terms(REPORTS_INDEX, "reporter_key", query, size=MAX_COUNTED_REPORTERS)}
    except IndexNotFound:
        return None
    if len(reporters | ({own} if own else set())) < minimum:
        return None
    return len(reporters - {own})
