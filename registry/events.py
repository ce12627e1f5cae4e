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


@dataclass(frozen=True)
class SignupRequested:
    """Someone asked for a company account with this e-mail address. ``token`` is the
    confirmation link's secret (None when the address already has an account: that address is
    told so instead, and the page answers the same either way). Whoever listens sends the e-mail."""

    email: str
    token: str | None
    company_name: str
