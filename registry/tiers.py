"""The registry's view of risk tiers: obligations for the supervision schedule and tiering of
freshly imported applications. The work is done by `risk.service`."""

from __future__ import annotations

from typing import Any, Iterable

from tierwatch.core.db import UnitOfWork
from tierwatch.registry.supervision import Obligation, TierDuties


def duties_of(uow: UnitOfWork, app_id: int) -> list[TierDuties]:
    """Each jurisdiction's effective tier of the application and that tier's obligations."""
    from tierwatch.risk import service as risk_service

    return [
        TierDuties(row.jurisdiction, row.tier, tuple(_obligation(o) for o in row.obligations))
        for row in risk_service.current_assessments(uow, app_id)
    ]


def _obligation(data: dict[str, Any]) -> Obligation:
    # An obligation "on request" is the regulator's to invoke, never a scheduled task.
    every = None if data.get("on_request") else data.get("every")
    return Obligation(kind=data["kind"], every=every, within=data.get("within"), sample=data.get("sample"))


def tier_imported(uow: UnitOfWork, app_ids: Iterable[int]) -> str:
    """Tier each imported application under every active rule set; says so when none is active."""
    from tierwatch.registry.importer import imported_pairs
    from tierwatch.risk import service as risk_service

    active = risk_service.active_versions(uow)
    ids = list(app_ids)
    if not ids:
        return "nothing new to tier"
    if not active:
        return (f"not tiered: no rule set is active yet; run `tierwatch rules activate FILE` "
                f"(activation tiers all {len(ids)} imported applications)")
    for app_id, version_id, fields in imported_pairs(uow, ids):
        risk_service.assess_application(uow, app_id, version_id, fields)
    names = ", ".join(f"{v.jurisdiction} v{v.version}" for v in active)
    return f"tiered {len(ids)} applications under {names}"
