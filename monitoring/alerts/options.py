"""The options of each rule type, as the loader builds them from a rule file (frozen data).

Kept apart from the rule types' logic (``types.py``) so that the rule itself (``model.py``) can
name them without importing the logic.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Literal


@dataclass(frozen=True, slots=True)
class Tiered:
    """A number that may depend on the tier of the application the reports are linked to.

    ``for_tier``: high and prohibited use ``high``; a group without a tier uses ``untiered``,
    which defaults to ``low`` (an application nobody has tiered is watched like a low-tier one).
    """

    high: float
    medium: float
    low: float
    untiered: float
    by_tier: bool  # False: one value for every tier

    @classmethod
    def single(cls, value: float) -> Tiered:
        return cls(value, value, value, value, False)

    def for_tier(self, tier: str | None) -> float:
        if tier in ("high", "prohibited"):
            return self.high
        if tier == "medium":
            return self.medium
        if tier == "low":
            return self.low
        return self.untiered

    def values(self) -> tuple[float, ...]:
        return (self.high, self.medium, self.low, self.untiered)


@dataclass(frozen=True)
class FrequencyOptions:
    window: timedelta
    threshold: Tiered  # at least this many reports
    group_by: str | None = None


@dataclass(frozen=True)
class SpikeOptions:
    window: timedelta
    ratio: float
    direction: Literal["up", "down", "both"] = "up"
    min_current: int = 0
    min_reference: int = 0
    group_by: str | None = None
    alert_on_new_key: bool = False


@dataclass(frozen=True)
class NewTermOptions:
    field: str
    lookback: timedelta
    window: timedelta | None = None  # None: the schedule's interval
    min_count: int = 1


@dataclass(frozen=True)
class CardinalityOptions:
    window: timedelta
    group_by: str
    distinct_field: str
    threshold: Tiered
    direction: Literal["at_least", "below"] = "at_least"
    # A single-valued distinct field means K distinct values need K reports: the request may
    # then skip keys with fewer.
    distinct_multi_valued: bool = True


@dataclass(frozen=True)
class ThresholdOptions:
    field: str
    above: Tiered | None = None  # strictly above
    below: Tiered | None = None  # strictly below
    group_by: str | None = None  # the alert key; None: the report itself


@dataclass(frozen=True)
class MetricOptions:
    window: timedelta
    op: Literal["sum", "avg", "min", "max"]
    field: str
    above: Tiered | None = None
    below: Tiered | None = None
    group_by: str | None = None
    min_reports: int = 1


@dataclass(frozen=True)
class FlatlineOptions:
    window: timedelta
    threshold: int  # fewer than this many reports fires
    group_by: str | None = None
    baseline: timedelta = timedelta(days=7)  # keys seen in this period before the window
    expect: tuple[str, ...] = ()  # or exactly these keys


Options = (FrequencyOptions | SpikeOptions | NewTermOptions | CardinalityOptions
           | ThresholdOptions | MetricOptions | FlatlineOptions)
