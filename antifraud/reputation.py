"""How often an identifier (phone, URL, account...) was reported before a given moment.

Identifiers are keyed as ``"kind:value"`` strings (``"phone:13800138000"``), the values already
normalised by the intake. The database implementation (monitoring) and the in-memory one here
answer the same question and must only count reports strictly *before* ``before``: training
builds its features from the past alone, as scoring does.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol


@dataclass(frozen=True)
class IdentifierStats:
    count: int
    first_seen: datetime
    last_seen: datetime
    regions: int


class ReputationSource(Protocol):
    def lookup(self, identifiers: list[str], before: datetime) -> dict[str, IdentifierStats]:
        """Stats of earlier reports for each identifier that has any; unknown ones are absent."""
        ...


def identifier_keys(identifiers: Any) -> list[str]:
    """``{"phone": ["138..."]}`` -> ``["phone:138..."]``; anything malformed is skipped."""
    if not identifiers or not isinstance(identifiers, Mapping):
        return []
    keys: list[str] = []
    for kind, values in identifiers.items():
        if isinstance(values, str):
            values = [values]
        if not isinstance(kind, str) or not isinstance(values, (list, tuple)):
            continue
        keys.extend(f"{kind}:{v.strip()}" for v in values if isinstance(v, str) and v.strip())
    return sorted(set(keys))


def as_utc(value: Any) -> datetime | None:
    """An aware datetime from a datetime or ISO string; naive values are taken as UTC."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            return None
    if not isinstance(value, datetime):
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class InMemoryReputation:
    """Reputation from a list of reports (dicts with identifiers, reported_at, region)."""

    def __init__(self) -> None:
        self._times: dict[str, list[datetime]] = defaultdict(list)
        self._regions: dict[str, list[str | None]] = defaultdict(list)

    @classmethod
    def from_reports(cls, reports: Iterable[Mapping[str, Any]]) -> "InMemoryReputation":
        rep = cls()
        dated = [(when, r) for r in reports if (when := as_utc(r.get("reported_at"))) is not None]
        for when, report in sorted(dated, key=lambda d: d[0]):
            rep.add(report.get("identifiers"), when, report.get("region"))
        return rep

    def add(self, identifiers: Any, when: datetime, region: str | None = None) -> None:
        for key in identifier_keys(identifiers):
            times = self._times[key]
            i = bisect.bisect_right(times, when)
            times.insert(i, when)
            self._regions[key].insert(i, region)

    def lookup(self, identifiers: list[str], before: datetime) -> dict[str, IdentifierStats]:
        out = {}
        for key in identifiers:
            times = self._times.get(key)
            if not times:
                continue
            n = bisect.bisect_left(times, before)
            if n == 0:
                continue
            regions = {r for r in self._regions[key][:n] if r}
            out[key] = IdentifierStats(n, times[0], times[n - 1], len(regions))
        return out
