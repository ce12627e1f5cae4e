"""Scam trends for the public, from the search index's aggregations: reports per week (in total
and for the most reported scam types), by channel, AI technique and city, money lost, and the
scam types rising fastest this month.

Every figure is a count of reports; nothing identifies anyone. The caller caches the result (the
page costs the index at most one round of aggregations per cache period, see web/public/trends.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from tierwatch.antifraud import vocab
from tierwatch.core.search import Range, SearchIndex, SearchQuery
from tierwatch.core.search.common import IndexNotFound
from tierwatch.monitoring.indexing import REPORTS_INDEX

WEEKS = 12
TOP_TYPES = 5
RISING_DAYS = 30
MIN_FOR_RISING = 5  # a type needs this many reports this month to count as rising (2 -> 4 is noise)
OTHER = "other"


@dataclass(frozen=True)
class Rising:
    scam_type: str
    this_period: int
    previous_period: int

    @property
    def change(self) -> float | None:
        """Relative change; None when there was nothing before (new this month)."""
        if self.previous_period == 0:
            return None
        return (self.this_period - self.previous_period) / self.previous_period


@dataclass(frozen=True)
class Trends:
    computed_at: datetime
    weeks: list[date]  # Mondays (Asia/Shanghai) of the last WEEKS weeks, oldest first
    per_week: list[int]
    per_week_by_type: dict[str, list[int]]  # the TOP_TYPES most reported types
    by_channel: list[tuple[str, int]]
    by_technique: list[tuple[str, int]]
    by_city: list[tuple[str, int]]  # Guangdong's cities, then "other" (elsewhere or not said)
    money_per_week: list[float] | None = None  # yuan lost; None when the index cannot sum
    rising: list[Rising] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.per_week)


def week_starts(now: datetime, tz: str, weeks: int = WEEKS) -> list[date]:
    today = now.astimezone(ZoneInfo(tz)).date()
    monday = today - timedelta(days=today.weekday())
    return [monday - timedelta(weeks=weeks - 1 - i) for i in range(weeks)]


def compute(search: SearchIndex, now: datetime, tz: str = "Asia/Shanghai") -> Trends:
    weeks = week_starts(now, tz)
    zone = ZoneInfo(tz)
    start = datetime.combine(weeks[0], datetime.min.time(), zone)
    window = SearchQuery(filters={"kind": "scam"}, ranges={"reported_at": Range(gte=start, lt=now)})
    try:
        per_week = _weekly(search, window, weeks, tz)
    except IndexNotFound:  # nothing reported yet
        return Trends(now, weeks, [0] * len(weeks), {}, [], [], [], None, [])
    top = [code for code, _ in search.terms(REPORTS_INDEX, "scam_type", window, size=TOP_TYPES)]
    by_type = {code: _weekly(search, _with(window, scam_type=code), weeks, tz) for code in top}
    channels = search.terms(REPORTS_INDEX, "channel", window, size=len(vocab.CHANNELS))
    techniques = [(c, n) for c, n in search.terms(REPORTS_INDEX, "ai_technique", window, size=len(vocab.AI_TECHNIQUES))
                  if c != "none"]
    regions = search.terms(REPORTS_INDEX, "region", window, size=500)
    return Trends(now, weeks, per_week, by_type, channels, techniques, _cities(regions, window_total=sum(per_week)),
                  None, _rising(search, now))


def _with(query: SearchQuery, **filters: str) -> SearchQuery:
    return SearchQuery(filters={**query.filters, **filters}, ranges=query.ranges)


def _weekly(search: SearchIndex, query: SearchQuery, weeks: list[date], tz: str) -> list[int]:
    buckets = {start.date(): n for start, n in search.date_histogram(REPORTS_INDEX, "reported_at", "week", query, tz)}
    return [buckets.get(w, 0) for w in weeks]


def _cities(regions: list[tuple[str, int]], window_total: int) -> list[tuple[str, int]]:
    counts = dict.fromkeys(vocab.GD_CITIES, 0)
    for region, n in regions:
        city = vocab.city_of(region)
        if city is not None:
            counts[city] += n
    ranked = sorted(((c, n) for c, n in counts.items() if n), key=lambda cn: (-cn[1], list(vocab.GD_CITIES).index(cn[0])))
    # Reports from elsewhere, from partner feeds that name only the province, or without a region.
    return [*ranked, (OTHER, max(window_total - sum(counts.values()), 0))]


def _rising(search: SearchIndex, now: datetime) -> list[Rising]:
    this = SearchQuery(filters={"kind": "scam"}, ranges={"reported_at": Range(gte=now - timedelta(days=RISING_DAYS), lt=now)})
    before = SearchQuery(filters={"kind": "scam"}, ranges={"reported_at": Range(
        gte=now - timedelta(days=2 * RISING_DAYS), lt=now - timedelta(days=RISING_DAYS))})
    current = dict(search.terms(REPORTS_INDEX, "scam_type", this, size=len(vocab.SCAM_TYPES)))
    previous = dict(search.terms(REPORTS_INDEX, "scam_type", before, size=len(vocab.SCAM_TYPES)))
    rising = [Rising(t, n, previous.get(t, 0)) for t, n in current.items()
              if t != OTHER and n >= MIN_FOR_RISING and n > previous.get(t, 0)]
    # New types first (no "before" to compare with), then by relative growth, then by size.
    return sorted(rising, key=lambda r: (r.change is not None, -(r.change or 0), -r.this_period))[:5]
