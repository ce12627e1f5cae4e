"""What tiering tells whoever listens (published with ``uow.publish`` inside the use case's
transaction; the composition root wires the listeners, e.g. monitoring re-indexes the affected
reports' tier)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TierChanged:
    """Effective tiers moved under one jurisdiction: (application id, before, after) each;
    ``before`` is None for an application tiered for the first time. ``cause``: assessment
    (a filing submitted), ruleset (a rule set activated) or override_end."""

    jurisdiction: str
    changes: tuple[tuple[int, str | None, str], ...]
    cause: str


@dataclass(frozen=True)
class TierOverridden:
    """A regulator set the tier by hand (written justification, audited)."""

    application_id: int
    jurisdiction: str
    tier: str
    before: str | None
