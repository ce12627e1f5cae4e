"""The check page's answer: the identifier recognised, what the reports say about it (only from
``minimum`` independent reporters on), its risk level, any dispute, the registered applications
the reports name, and published warnings about it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from tierwatch.core.db import UnitOfWork
from tierwatch.core.search import SearchIndex
from tierwatch.monitoring import identifiers as ids
from tierwatch.monitoring.public import disputes, publications
from tierwatch.monitoring.public.checking import (
    CLEARED, DEFAULT_MINIMUM, Facts, Recognised, facts, recognise, risk_level,
)
from tierwatch.monitoring.public.disputes import DisputeState
from tierwatch.monitoring.public.models import Publication
from tierwatch.risk import register
from tierwatch.risk.register import RegisteredApp

FactsSource = Callable[[Recognised], Facts]


@dataclass(frozen=True)
class CheckAnswer:
    recognised: Recognised
    minimum: int
    risk: str
    shown: bool  # counts are shown: enough independent reporters, and no upheld dispute
    reports: int | None = None
    reporters: int | None = None
    first_reported: datetime | None = None
    last_reported: datetime | None = None
    scam_types: list[tuple[str, int]] = field(default_factory=list)
    channels: list[tuple[str, int]] = field(default_factory=list)
    ai_techniques: list[tuple[str, int]] = field(default_factory=list)
    dispute: DisputeState | None = None
    applications: list[RegisteredApp] = field(default_factory=list)
    warnings: list[Publication] = field(default_factory=list)


def check(uow: UnitOfWork, search: SearchIndex, text: str, *, minimum: int = DEFAULT_MINIMUM,
          facts_of: FactsSource | None = None) -> CheckAnswer | None:
    """None when nothing usable was typed. ``facts_of`` may cache the index's part."""
    recognised = recognise(text)
    if recognised is None:
        return None
    known = (facts_of or (lambda r: facts(search, r)))(recognised)
    dispute = disputes.state(uow, recognised.kind, recognised.value)
    level = risk_level(known.reporters, minimum, dispute.status if dispute else None)
    apps = _named_application(uow, recognised)
    warnings = publications.published_for_identifiers(uow, recognised.keys)
    if level == CLEARED or known.reporters < minimum:
        # Below the minimum nothing about the reports is said, not even whether there are any:
        # one or two people must not be able to put a number on this page.
        return CheckAnswer(recognised, minimum, level, False, dispute=dispute, applications=apps,
                           warnings=warnings)
    linked = register.by_ids(uow, known.application_ids)
    return CheckAnswer(
        recognised, minimum, level, True, known.reports, known.reporters, known.first_reported,
        known.last_reported, known.scam_types, known.channels, known.ai_techniques, dispute,
        apps + [a for a in linked if a.id not in {x.id for x in apps}], warnings)


def _named_application(uow: UnitOfWork, recognised: Recognised) -> list[RegisteredApp]:
    """An app name typed into the check box that is a registered application's name."""
    if recognised.kind != ids.APP:
        return []
    found, _ = register.search(uow, recognised.value, limit=10)
    return [a for a in found if ids.normalise_app_name(a.name) == recognised.value]
