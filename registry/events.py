"""What the registry tells whoever listens. Published with ``uow.publish`` inside the use case's
transaction; the composition root (tierwatch.bootstrap) decides who listens, so the registry
never imports the packages that react (tiering, monitoring)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class FilingSubmitted:
    """A version was submitted for review: it is tiered now, under every active rule set."""

    application_id: int
    version_id: int
    fields: dict[str, Any]


@dataclass(frozen=True)
class FilingApproved:
    application_id: int
    version_id: int
    filing_number: str


@dataclass(frozen=True)
class ApplicationDeregistered:
    application_id: int
