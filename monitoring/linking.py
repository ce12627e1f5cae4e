"""Link reports to registered applications by filing number or (normalised) app name."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from monitoring.identifiers import normalise_app_name
from registry.models import Application, ApplicationVersion

# Applications that are no longer offered still match: a scam may abuse a withdrawn app's name.
_LINKABLE_STATUSES = ("approved", "superseded", "deregistered", "submitted", "under_review")


@dataclass(frozen=True)
class LinkedApp:
    application_id: int
    name: str
    filing_number: str | None


def normalise_filing_number(value: str) -> str:
    return "".join(value.split()).upper()


def load_applications(session: Session) -> list[tuple[int, str, str | None]]:
    """(application id, a name it was filed under, filing number) for every linkable version."""
    a, v = Application.__table__, ApplicationVersion.__table__
    stmt = (
        sa.select(a.c.id, v.c.name, a.c.filing_number)
        .join(v, v.c.application_id == a.c.id)
        .where(v.c.status.in_(_LINKABLE_STATUSES))
        .order_by(a.c.id)
    )
    rows = [(i, n, f) for i, n, f in session.execute(stmt)]
    current = sa.select(a.c.id, a.c.name, a.c.filing_number).where(a.c.status.in_(_LINKABLE_STATUSES))
    rows += [(i, n, f) for i, n, f in session.execute(current)]
    return rows


class ApplicationLinker:
    """Name/filing-number lookup over a snapshot of the registry, reloaded every ``ttl`` seconds."""

    def __init__(self, load: Callable[[], Iterable[tuple[int, str, str | None]]], ttl: float = 60.0):
        self._load = load
        self._ttl = ttl
        self._loaded_at = -float("inf")
        self._by_name: dict[str, LinkedApp] = {}
        self._by_filing: dict[str, LinkedApp] = {}

    def invalidate(self) -> None:
        self._loaded_at = -float("inf")

    def _refresh(self) -> None:
        if time.monotonic() - self._loaded_at < self._ttl:
            return
        by_name: dict[str, LinkedApp] = {}
        by_filing: dict[str, LinkedApp] = {}
        for app_id, name, filing in self._load():
            app = LinkedApp(app_id, name, filing)
            # The lowest id wins a name clash, so a link never flips between reloads.
            by_name.setdefault(normalise_app_name(name), app)
            if filing:
                by_filing.setdefault(normalise_filing_number(filing), app)
        self._by_name, self._by_filing = by_name, by_filing
        self._loaded_at = time.monotonic()

    def find(self, *, filing_number: str | None = None, names: Iterable[str] = ()) -> LinkedApp | None:
        self._refresh()
        if filing_number:
            app = self._by_filing.get(normalise_filing_number(filing_number))
            if app is not None:
                return app
        for name in names:
            app = self._by_name.get(normalise_app_name(name))
            if app is not None:
                return app
        return None
