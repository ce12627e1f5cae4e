"""Registry and tiering changes reach monitoring: announced on the bus, applied to the index.

The listeners (wired by the composition root) turn the registry's and tiering's domain events
into ``ApplicationEvent`` messages in the outbox, in the transaction of the change; the outbox
relays them onto the application topic. The worker, reading that topic, re-indexes the tier of
the affected applications' reports, so tier-dependent alert thresholds follow at the next
evaluation (today's tier, not the tier a report had when it arrived).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tierwatch.core.clock import utcnow
from tierwatch.core.db import UnitOfWork
from tierwatch.core.ids import new_id
from tierwatch.core.search import SearchIndex
from tierwatch.monitoring.bulk import insert_rows
from tierwatch.monitoring.indexing import REPORTS_INDEX
from tierwatch.monitoring.linking import load_tiers
from tierwatch.monitoring.messages import ApplicationEvent, ApplicationEventType
from tierwatch.monitoring.models import Report
from tierwatch.monitoring.outbox import OutboxMessage
from tierwatch.registry.events import ApplicationDeregistered, FilingApproved
from tierwatch.registry.models import Application
from tierwatch.risk.events import TierChanged, TierOverridden

APPLICATION_KIND = "application"  # an outbox "bus" message's target: the intake's application topic
CHUNK = 1000


def on_filing_approved(uow: UnitOfWork, event: FilingApproved) -> None:
    _announce(uow, ApplicationEventType.approved, [(event.application_id, {})])


def on_application_deregistered(uow: UnitOfWork, event: ApplicationDeregistered) -> None:
    _announce(uow, ApplicationEventType.deregistered, [(event.application_id, {})])


def on_tier_changed(uow: UnitOfWork, event: TierChanged) -> None:
    _announce(uow, ApplicationEventType.tier_changed, [
        (app_id, {"tier": after, "previous_tier": before, "jurisdiction": event.jurisdiction})
        for app_id, before, after in event.changes])


def on_tier_overridden(uow: UnitOfWork, event: TierOverridden) -> None:
    _announce(uow, ApplicationEventType.override, [
        (event.application_id, {"tier": event.tier, "previous_tier": event.before,
                                "jurisdiction": event.jurisdiction})])


def _announce(uow: UnitOfWork, kind: ApplicationEventType, items: list[tuple[int, dict[str, Any]]]) -> None:
    """One outbox row per application, all in one statement (an activation moves thousands)."""
    now = utcnow()
    a = Application.__table__
    names: dict[int, tuple[str, str | None]] = {}
    ids = sorted({app_id for app_id, _ in items})
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start:start + CHUNK]
        names.update({i: (n, f) for i, n, f in uow.session.execute(
            sa.select(a.c.id, a.c.name, a.c.filing_number).where(a.c.id.in_(chunk)))})
    rows = []
    for app_id, fields in items:
        name, filing = names.get(app_id, (f"#{app_id}", None))
        message = ApplicationEvent(report_id=f"app-{new_id()}", event=kind, application_id=str(app_id),
                                   name=name[:200], filing_number=filing, occurred_at=now, **fields)
        rows.append({"kind": "bus", "target": APPLICATION_KIND, "dedup_key": f"bus:{message.report_id}",
                     "payload": {"key": str(app_id), "value": message.model_dump(mode="json", exclude_none=True)},
                     "status": "pending", "attempts": 0, "next_attempt_at": now, "created_at": now})
    insert_rows(uow.session, OutboxMessage.__table__, rows, conflict=["dedup_key"])


# --- the worker's side: re-index the tier of an application's reports --------------------------


def strictest_tier(session: Session, application_id: int) -> str | None:
    return load_tiers(session, [application_id]).get(application_id)


def retier_reports(uow: Callable[[], UnitOfWork], search: SearchIndex, application_ids: Iterable[int]) -> int:
    """Write each application's tier in force into its reports' documents; returns how many
    documents changed. An application without a tier keeps what its reports carry (the index
    cannot tell "never tiered" from "tier unknown"; tiers are never taken away)."""
    updated = 0
    for app_id in sorted(set(application_ids)):
        with uow() as unit:
            tier = strictest_tier(unit.session, app_id)
            if tier is None:
                continue
            report_ids = list(unit.session.scalars(
                sa.select(Report.report_id).where(Report.application_id == app_id).order_by(Report.id)))
        for start in range(0, len(report_ids), CHUNK):
            updated += search.set_fields(REPORTS_INDEX, report_ids[start:start + CHUNK], {"tier": tier})
    if updated:
        mark_index_changed(uow, "retier", updated)
    return updated


def mark_index_changed(uow: Callable[[], UnitOfWork], reason: str, reports: int) -> None:
    """Tell the alert evaluator that indexed reports changed in place (after the index write:
    it then reads its windows held in memory again)."""
    from tierwatch.monitoring.alerts.models import AlertIndexChange

    with uow() as unit:
        unit.session.add(AlertIndexChange(reason=reason, reports=reports, at=utcnow()))
        unit.commit()


def reindex_links(search: SearchIndex, links: list[tuple[str, int, str | None]]) -> int:
    """Reports newly linked to an application: their ``application_id`` and ``tier`` in the
    index (relinking used to change the database only)."""
    by_app: dict[tuple[int, str | None], list[str]] = {}
    for report_id, app_id, tier in links:
        by_app.setdefault((app_id, tier), []).append(report_id)
    updated = 0
    for (app_id, tier), report_ids in sorted(by_app.items(), key=lambda kv: kv[0][0]):
        values = {"application_id": str(app_id), **({"tier": tier} if tier else {})}
        for start in range(0, len(report_ids), CHUNK):
            updated += search.set_fields(REPORTS_INDEX, report_ids[start:start + CHUNK], values)
    return updated
