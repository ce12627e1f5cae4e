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

from tierwatch.antifraud.trust import KNOWN, reporter_weight


@dataclass(frozen=True)
class IdentifierStats:
    count: int  # reports that named the identifier
    first_seen: datetime
    last_seen: datetime
    regions: int
    # Independent reporters that named it, each weighted by trust (antifraud.trust): what the
    # detectors score by, so one reporter's many reports count once.
    weight: float


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
    """Reputation from a list of reports (dicts with identifiers, reported_at, region, and for
    the trust weight reporter_key, reporter_type, source)."""

    def __init__(self) -> None:
        self._times: dict[str, list[datetime]] = defaultdict(list)
        self._regions: dict[str, list[str | None]] = defaultdict(list)
        self._reporters: dict[str, list[tuple[str, float]]] = defaultdict(list)
        # Per identifier, the trust-weighted count of distinct reporters among its first i
        # reports, for every i: built on the first lookup after a change.
        self._weights: dict[str, list[float]] = {}
        self._anonymous = 0

    @classmethod
    def from_reports(cls, reports: Iterable[Mapping[str, Any]]) -> "InMemoryReputation":
        rep = cls()
        dated = [(when, r) for r in reports if (when := as_utc(r.get("reported_at"))) is not None]
        for when, report in sorted(dated, key=lambda d: d[0]):
            rep.add(report.get("identifiers"), when, report.get("region"), reporter=report.get("reporter_key"),
                    weight=reporter_weight(report.get("reporter_type"), report.get("source")))
        return rep

    def add(self, identifiers: Any, when: datetime, region: str | None = None, *,
            reporter: str | None = None, weight: float = KNOWN) -> None:
        """One report. ``reporter`` None: an unknown reporter, counted as one of its own."""
        if not isinstance(reporter, str) or not reporter:
            self._anonymous += 1
            reporter = f"report:#{self._anonymous}"
        for key in identifier_keys(identifiers):
            times = self._times[key]
            i = bisect.bisect_right(times, when)
            times.insert(i, when)
            self._regions[key].insert(i, region)
            self._reporters[key].insert(i, (reporter, weight))
            self._weights.pop(key, None)

    def _weight_prefix(self, key: str) -> list[float]:
        prefix = self._weights.get(key)
        if prefix is None:
            prefix, seen, total = [0.0], set(), 0.0
            for reporter, weight in self._reporters[key]:
                if reporter not in seen:  # the first report of each reporter, in time order
                    seen.add(reporter)
                    total += weight
                prefix.append(total)
            self._weights[key] = prefix
        return prefix

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
            out[key] = IdentifierStats(n, times[0], times[n - 1], len(regions), self._weight_prefix(key)[n])
        return out
