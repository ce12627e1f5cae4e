"""An alert rule as plain frozen data (what a rule file says, once validated), and its errors.

The type-specific options live in the rule type's own dataclass (``options.py``); a rule never
changes type after loading.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from tierwatch.core.search import SearchQuery
from tierwatch.core.yamlfile import FileError
from tierwatch.monitoring.alerts.options import Options, Tiered

# Tiers as they appear in the reports index, loosest first. "prohibited" (EU AI Act) is stricter
# than high and uses high's thresholds.
TIER_ORDER = ("low", "medium", "high", "prohibited")
TIER_RANK = {tier: rank for rank, tier in enumerate(TIER_ORDER)}
SEVERITIES = ("low", "medium", "high", "critical")

_DURATION = re.compile(r"^(0|([1-9][0-9]*)([smhdw]))$")
_UNIT = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_duration(text: str | int) -> timedelta:
    """'90s', '5m', '2h', '30d', '2w' or 0 -> timedelta (the schema already checked the form)."""
    match = _DURATION.match(str(text))
    if match is None:
        raise ValueError(f"bad duration {text!r}: use a number and s, m, h, d or w (e.g. 2h)")
    if match.group(1) == "0":
        return timedelta(0)
    return timedelta(**{_UNIT[match.group(3)]: int(match.group(2))})


def format_duration(value: timedelta) -> str:
    seconds = int(value.total_seconds())
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s" if seconds else "0"


def strictest_tier(tiers: list[str] | tuple[str, ...]) -> str | None:
    """The strictest tier among a group's reports (unknown values are ignored)."""
    known = [t for t in tiers if t in TIER_RANK]
    return max(known, key=TIER_RANK.__getitem__) if known else None


@dataclass(frozen=True, slots=True)
class Text:
    zh: str
    en: str


@dataclass(frozen=True, slots=True)
class Severity:
    high: str
    medium: str
    low: str
    untiered: str
    by_tier: bool

    def for_tier(self, tier: str | None) -> str:
        if tier in ("high", "prohibited"):
            return self.high
        return {"medium": self.medium, "low": self.low}.get(tier or "", self.untiered)


@dataclass(frozen=True, slots=True)
class Schedule:
    every: timedelta
    buffer: timedelta


@dataclass(frozen=True, slots=True)
class Realert:
    after: timedelta
    max: timedelta | None  # None: the interval never grows


@dataclass(frozen=True)
class AlertRule:
    id: str
    title: Text
    type: str
    options: Options
    severity: Severity
    owner: str
    group: str
    schedule: Schedule
    time_field: str
    filter: SearchQuery
    realert: Realert
    pending: timedelta
    clear_after: timedelta
    reopen_within: timedelta
    max_reports: int
    summary_fields: tuple[str, ...]
    index: str = "reports"
    enabled: bool = True
    description: Text | None = None
    labels: tuple[tuple[str, str], ...] = ()
    dedup_key: str | None = None
    auto_resolve_after: timedelta | None = None  # None: a cleared alert waits for a verdict
    filename: str = "<text>"
    line: int | None = None
    checksum: str = ""

    @property
    def realert_key(self) -> str:
        return self.dedup_key or self.id

    @property
    def by_tier(self) -> bool:
        """Does anything about this rule depend on the tier of the matching reports?"""
        return self.severity.by_tier or any(
            isinstance(v, Tiered) and v.by_tier for v in vars_of(self.options).values()
        )


def vars_of(options: Any) -> dict[str, Any]:
    return {name: getattr(options, name) for name in options.__dataclass_fields__}


class AlertRuleError(FileError):
    """An error in an alert rule file."""


class AlertRuleInvalid(ValueError):
    """Rule files that cannot become rules; ``errors`` name file, line and rule id."""

    def __init__(self, errors: list[AlertRuleError]):
        self.errors = tuple(errors)
        super().__init__("\n".join(str(e) for e in self.errors))
