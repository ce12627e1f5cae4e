"""The rule types: which search requests a rule needs at a window end, and which matches the
answers make. Pure: data in, matches out; no search engine, no database, no clock.

One table, TYPES, maps a rule file's ``type`` to its class; each class names its options
dataclass (what the loader builds from the file) and answers three questions:

- ``requests(rule, end)``: the group queries / searches for the window ending at ``end``;
- ``followups(rule, end, results)``: a second round built from the first answers (new_term);
- ``evaluate(rule, end, results)``: the matches. ``results`` holds, per request in order (first
  round, then follow-ups), every group of every page, or the SearchResult of a search.

Window names are derived from their bounds, so two rules needing the same range share one
window when the planner merges their requests.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, TypeAlias

from tierwatch.core.search import (
    MAX_KEYS,
    Group,
    GroupQuery,
    IndexSchema,
    Metric,
    Range,
    SearchQuery,
    SearchResult,
    Window,
)
from tierwatch.monitoring.alerts.model import AlertRule, Text, strictest_tier
from tierwatch.monitoring.alerts.options import (
    CardinalityOptions,
    FlatlineOptions,
    FrequencyOptions,
    MetricOptions,
    NewTermOptions,
    SpikeOptions,
    ThresholdOptions,
    Tiered,
)

Result: TypeAlias = list[Group] | SearchResult
Request: TypeAlias = GroupQuery | SearchQuery
TIER_METRIC = Metric("values", "tier")
# Per-report rules read at most this many reports per window (Elasticsearch's default result window).
MAX_HITS = 10_000


@functools.lru_cache(maxsize=4096)  # every cycle names the same few hundred windows again
def window(gte: datetime, lt: datetime) -> Window:
    gte, lt = gte.astimezone(UTC), lt.astimezone(UTC)
    return Window(f"{gte:%Y%m%dT%H%M%S}/{lt:%Y%m%dT%H%M%S}", gte, lt)


@dataclass(frozen=True)
class Match:
    """One rule condition holding for one key at one window end."""

    rule_id: str
    key: str | None
    start: datetime  # the window the condition was measured on
    end: datetime
    value: float  # count, ratio, distinct values or metric
    threshold: float
    tier: str | None
    severity: str
    reason: Text
    counts: Mapping[str, int] = field(default_factory=dict)
    report_id: str | None = None  # per-report rules: the report that fired


# --- wording ----------------------------------------------------------------------------------

_TIER_ZH = {"high": "高风险", "medium": "中风险", "low": "低风险", "prohibited": "禁止类"}


def _span(d: timedelta) -> Text:
    seconds = int(d.total_seconds())
    for size, zh, en in ((86400, "天", "d"), (3600, "小时", "h"), (60, "分钟", "min")):
        if seconds % size == 0:
            return Text(f"{seconds // size} {zh}", f"{seconds // size} {en}")
    return Text(f"{seconds} 秒", f"{seconds} s")


def _tier_note(rule: AlertRule, tier: str | None) -> Text:
    if not rule.by_tier:
        return Text("", "")
    if tier is None:
        return Text("（未分级）", " (untiered)")
    return Text(f"（{_TIER_ZH.get(tier, tier)}应用）", f" ({tier}-tier application)")


def _num(value: float) -> str:
    return f"{value:g}" if math.isfinite(value) else "∞"


def _match(rule: AlertRule, key: str | None, w: Window, value: float, threshold: float,
           tier: str | None, reason: Text, counts: Mapping[str, int], report_id: str | None = None) -> Match:
    note = _tier_note(rule, tier)
    return Match(rule.id, key, w.gte, w.lt, value, threshold, tier, rule.severity.for_tier(tier),
                 Text(reason.zh + note.zh, reason.en + note.en), dict(counts), report_id)


def tier_of(group: Group, w: Window) -> str | None:
    return strictest_tier(group.metrics.get(w.name, {}).get(TIER_METRIC.key, []))


def _metrics(rule: AlertRule, *extra: Metric) -> tuple[Metric, ...]:
    return (*extra, TIER_METRIC) if rule.by_tier else extra


def _groups(result: Result) -> list[Group]:
    if isinstance(result, SearchResult):
        raise TypeError("expected groups, got a search result")
    return result


# --- the types ----------------------------------------------------------------------------------


class RuleType(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def options(self) -> type: ...

    @property
    def clears(self) -> bool:
        """Can the condition stop holding? Open alerts of such types are cleared automatically."""
        ...

    def requests(self, rule: AlertRule, end: datetime) -> list[Request]: ...

    def followups(self, rule: AlertRule, end: datetime, results: Sequence[Result]) -> list[Request]: ...

    def evaluate(self, rule: AlertRule, end: datetime, results: Sequence[Result]) -> list[Match]: ...


class _NoFollowups:
    def followups(self, rule: AlertRule, end: datetime, results: Sequence[Result]) -> list[Request]:
        return []


class Frequency(_NoFollowups):
    name, options, clears = "frequency", FrequencyOptions, True

    def requests(self, rule: AlertRule, end: datetime) -> list[Request]:
        o: FrequencyOptions = rule.options  # type: ignore[assignment]
        return [GroupQuery(rule.time_field, (window(end - o.window, end),), rule.filter, o.group_by,
                           _metrics(rule), min_count=int(min(o.threshold.values())))]

    def evaluate(self, rule: AlertRule, end: datetime, results: Sequence[Result]) -> list[Match]:
        o: FrequencyOptions = rule.options  # type: ignore[assignment]
        cur, span = window(end - o.window, end), _span(o.window)
        matches = []
        for g in _groups(results[0]):
            count, tier = g.counts.get(cur.name, 0), tier_of(g, cur)
            need = o.threshold.for_tier(tier)
            if count >= need:
                reason = Text(f"{span.zh}内 {count} 份举报，阈值 {_num(need)}",
                              f"{count} reports in {span.en}, threshold {_num(need)}")
                matches.append(_match(rule, g.key, cur, count, need, tier, reason, {"current": count}))
        return matches


class Spike(_NoFollowups):
    name, options, clears = "spike", SpikeOptions, True

    def _windows(self, o: SpikeOptions, end: datetime) -> tuple[Window, Window]:
        return window(end - o.window, end), window(end - 2 * o.window, end - o.window)

    def requests(self, rule: AlertRule, end: datetime) -> list[Request]:
        o: SpikeOptions = rule.options  # type: ignore[assignment]
        need = {"up": max(1, o.min_current), "down": max(1, o.min_reference)}
        min_count = min(need.values()) if o.direction == "both" else need[o.direction]
        return [GroupQuery(rule.time_field, self._windows(o, end), rule.filter, o.group_by,
                           _metrics(rule), min_count=min_count)]

    def evaluate(self, rule: AlertRule, end: datetime, results: Sequence[Result]) -> list[Match]:
        o: SpikeOptions = rule.options  # type: ignore[assignment]
        cur, ref = self._windows(o, end)
        span = _span(o.window)
        matches = []
        for g in _groups(results[0]):
            c, r = g.counts.get(cur.name, 0), g.counts.get(ref.name, 0)
            if c < o.min_current or r < o.min_reference:
                continue
            if o.direction in ("up", "both") and c > 0 and (c >= o.ratio * r if r else o.alert_on_new_key):
                value, word = (c / r if r else math.inf), Text("上升", "up")
            elif o.direction in ("down", "both") and r > 0 and r >= o.ratio * c:
                value, word = (r / c if c else math.inf), Text("下降", "down")
            else:
                continue
            tier = tier_of(g, cur)
            reason = Text(
                f"最近{span.zh} {c} 份，之前{span.zh} {r} 份：{word.zh} {_num(round(value, 1))} 倍（阈值 {_num(o.ratio)} 倍）",
                f"{c} reports in the last {span.en} against {r} in the {span.en} before: "
                f"{word.en} x{_num(round(value, 1))} (threshold x{_num(o.ratio)})",
            )
            matches.append(_match(rule, g.key, cur, value, o.ratio, tier, reason, {"current": c, "reference": r}))
        return matches


class NewTerm:
    name, options, clears = "new_term", NewTermOptions, False

    def _windows(self, rule: AlertRule, end: datetime) -> tuple[Window, Window]:
        o: NewTermOptions = rule.options  # type: ignore[assignment]
        size = o.window or rule.schedule.every
        return window(end - size, end), window(end - size - o.lookback, end - size)

    def requests(self, rule: AlertRule, end: datetime) -> list[Request]:
        o: NewTermOptions = rule.options  # type: ignore[assignment]
        cur, _ = self._windows(rule, end)
        return [GroupQuery(rule.time_field, (cur,), rule.filter, o.field, _metrics(rule), min_count=o.min_count)]

    def _candidates(self, rule: AlertRule, end: datetime, results: Sequence[Result]) -> dict[str, Group]:
        o: NewTermOptions = rule.options  # type: ignore[assignment]
        cur, _ = self._windows(rule, end)
        return {g.key: g for g in _groups(results[0]) if g.key is not None and g.counts.get(cur.name, 0) >= o.min_count}

    def followups(self, rule: AlertRule, end: datetime, results: Sequence[Result]) -> list[Request]:
        # Second round, for this window's values only: were they seen during the look-back?
        o: NewTermOptions = rule.options  # type: ignore[assignment]
        _, lookback = self._windows(rule, end)
        keys = sorted(self._candidates(rule, end, results))
        return [GroupQuery(rule.time_field, (lookback,), rule.filter, o.field, keys=tuple(keys[i : i + MAX_KEYS]))
                for i in range(0, len(keys), MAX_KEYS)]

    def evaluate(self, rule: AlertRule, end: datetime, results: Sequence[Result]) -> list[Match]:
        o: NewTermOptions = rule.options  # type: ignore[assignment]
        cur, lookback = self._windows(rule, end)
        seen = {g.key for result in results[1:] for g in _groups(result) if g.counts.get(lookback.name, 0) > 0}
        span = _span(o.lookback)
        matches = []
        for key, g in sorted(self._candidates(rule, end, results).items()):
            if key in seen:
                continue
            count, tier = g.counts[cur.name], tier_of(g, cur)
            reason = Text(f"此前{span.zh}内从未出现，本窗口 {count} 份举报",
                          f"never seen in the {span.en} before; {count} reports in this window")
            matches.append(_match(rule, key, cur, count, o.min_count, tier, reason, {"current": count, "lookback": 0}))
        return matches


class Cardinality(_NoFollowups):
    name, options, clears = "cardinality", CardinalityOptions, True

    def requests(self, rule: AlertRule, end: datetime) -> list[Request]:
        o: CardinalityOptions = rule.options  # type: ignore[assignment]
        metric = Metric("cardinality", o.distinct_field)
        bounded = o.direction == "at_least" and not o.distinct_multi_valued
        return [GroupQuery(rule.time_field, (window(end - o.window, end),), rule.filter, o.group_by,
                           _metrics(rule, metric), min_count=int(min(o.threshold.values())) if bounded else 1)]

    def evaluate(self, rule: AlertRule, end: datetime, results: Sequence[Result]) -> list[Match]:
        o: CardinalityOptions = rule.options  # type: ignore[assignment]
        cur, span = window(end - o.window, end), _span(o.window)
        key = Metric("cardinality", o.distinct_field).key
        matches = []
        for g in _groups(results[0]):
            distinct, tier = g.metrics.get(cur.name, {}).get(key, 0), tier_of(g, cur)
            need = o.threshold.for_tier(tier)
            count = g.counts.get(cur.name, 0)
            if count == 0 or (distinct < need if o.direction == "at_least" else distinct >= need):
                continue
            word = Text("至少", "at least") if o.direction == "at_least" else Text("少于", "below")
            reason = Text(f"{span.zh}内出现 {distinct} 个不同的 {o.distinct_field}（阈值：{word.zh} {_num(need)}）",
                          f"{distinct} distinct {o.distinct_field} in {span.en} (threshold: {word.en} {_num(need)})")
            matches.append(_match(rule, g.key, cur, distinct, need, tier, reason, {"current": count}))
        return matches


def _bound_reason(field_name: str, value: float, above: float | None, below: float | None) -> Text:
    if above is not None:
        return Text(f"{field_name} = {_num(value)}，高于 {_num(above)}", f"{field_name} = {_num(value)} above {_num(above)}")
    return Text(f"{field_name} = {_num(value)}，低于 {_num(below or 0)}", f"{field_name} = {_num(value)} below {_num(below or 0)}")


def _beyond(value: float, above: Tiered | None, below: Tiered | None, tier: str | None) -> tuple[bool, float]:
    if above is not None:
        bound = above.for_tier(tier)
        return value > bound, bound
    assert below is not None
    bound = below.for_tier(tier)
    return value < bound, bound


class Threshold(_NoFollowups):
    """Per report. Scheduled over non-overlapping steps of the schedule (each report is read
    once), and also called by the worker for each report it stores (``from_document``)."""

    name, options, clears = "threshold", ThresholdOptions, False

    def requests(self, rule: AlertRule, end: datetime) -> list[Request]:
        o: ThresholdOptions = rule.options  # type: ignore[assignment]
        step = window(end - rule.schedule.every, end)
        # The loosest bound over all tiers selects; each report is then held to its own tier's.
        bound = (Range(gte=min(o.above.values())) if o.above is not None
                 else Range(lt=max(o.below.values())))  # type: ignore[union-attr]
        ranges = {**rule.filter.ranges, rule.time_field: Range(step.gte, step.lt), o.field: bound}
        if o.field in rule.filter.ranges:
            ranges[o.field] = _intersect(rule.filter.ranges[o.field], bound)
        return [SearchQuery(rule.filter.text, rule.filter.filters, ranges, sort=rule.time_field, limit=MAX_HITS,
                            exclude=rule.filter.exclude)]

    def evaluate(self, rule: AlertRule, end: datetime, results: Sequence[Result]) -> list[Match]:
        result = results[0]
        if not isinstance(result, SearchResult):
            raise TypeError("a threshold rule reads a search result")
        step = window(end - rule.schedule.every, end)
        return [m for doc in result.hits for m in self._check(rule, doc, step)]

    def from_document(self, rule: AlertRule, doc: Mapping[str, Any], schema: IndexSchema,
                      now: datetime) -> list[Match]:
        """The stream path: ``doc`` as indexed, checked against the rule's filter here (text as
        FTS5 reads it: case-insensitive substrings). The match's window is the report's instant
        (``now`` when the document has no ``time_field``)."""
        if not doc_matches(rule.filter, schema, doc):
            return []
        moment = doc.get(rule.time_field)
        at = _as_datetime(moment) if moment is not None else now.astimezone(UTC)
        return self._check(rule, doc, window(at, at + timedelta(microseconds=1)))

    def _check(self, rule: AlertRule, doc: Mapping[str, Any], step: Window) -> list[Match]:
        o: ThresholdOptions = rule.options  # type: ignore[assignment]
        value = doc.get(o.field)
        if not isinstance(value, int | float) or isinstance(value, bool):
            return []
        tier = doc.get("tier") if isinstance(doc.get("tier"), str) else None
        fires, bound = _beyond(float(value), o.above, o.below, tier)
        if not fires:
            return []
        reason = _bound_reason(o.field, float(value), bound if o.above else None, bound if o.below else None)
        keys = _values(doc.get(o.group_by)) if o.group_by else [str(doc["id"])]
        return [_match(rule, key, step, float(value), bound, tier, reason, {"current": 1}, str(doc["id"]))
                for key in keys]


class MetricRule(_NoFollowups):
    name, options, clears = "metric", MetricOptions, True

    def requests(self, rule: AlertRule, end: datetime) -> list[Request]:
        o: MetricOptions = rule.options  # type: ignore[assignment]
        return [GroupQuery(rule.time_field, (window(end - o.window, end),), rule.filter, o.group_by,
                           _metrics(rule, Metric(o.op, o.field)), min_count=o.min_reports)]

    def evaluate(self, rule: AlertRule, end: datetime, results: Sequence[Result]) -> list[Match]:
        o: MetricOptions = rule.options  # type: ignore[assignment]
        cur, span = window(end - o.window, end), _span(o.window)
        key = Metric(o.op, o.field).key
        matches = []
        for g in _groups(results[0]):
            count, value, tier = g.counts.get(cur.name, 0), g.metrics.get(cur.name, {}).get(key), tier_of(g, cur)
            if count < o.min_reports or value is None:
                continue
            fires, bound = _beyond(value, o.above, o.below, tier)
            if fires:
                what = _bound_reason(f"{o.op}({o.field})", value, bound if o.above else None, bound if o.below else None)
                reason = Text(f"{span.zh}内 {count} 份举报，{what.zh}", f"{count} reports in {span.en}, {what.en}")
                matches.append(_match(rule, g.key, cur, value, bound, tier, reason, {"current": count}))
        return matches


class Flatline(_NoFollowups):
    name, options, clears = "flatline", FlatlineOptions, True

    def _windows(self, o: FlatlineOptions, end: datetime) -> tuple[Window, Window]:
        return window(end - o.window, end), window(end - o.window - o.baseline, end - o.window)

    def requests(self, rule: AlertRule, end: datetime) -> list[Request]:
        o: FlatlineOptions = rule.options  # type: ignore[assignment]
        cur, base = self._windows(o, end)
        if o.group_by is None:
            return [GroupQuery(rule.time_field, (cur,), rule.filter, None, _metrics(rule))]
        if o.expect:
            return [GroupQuery(rule.time_field, (cur,), rule.filter, o.group_by, _metrics(rule), keys=o.expect)]
        return [GroupQuery(rule.time_field, (cur, base), rule.filter, o.group_by, _metrics(rule))]

    def evaluate(self, rule: AlertRule, end: datetime, results: Sequence[Result]) -> list[Match]:
        o: FlatlineOptions = rule.options  # type: ignore[assignment]
        cur, base = self._windows(o, end)
        found = {g.key: g for g in _groups(results[0])}
        if o.group_by is None:
            expected: list[str | None] = [None]
        elif o.expect:
            expected = [*o.expect]
        else:
            expected = [*sorted(k for k, g in found.items() if k is not None and g.counts.get(base.name, 0) > 0)]
        span = _span(o.window)
        matches = []
        for key in expected:
            g = found.get(key)
            count = g.counts.get(cur.name, 0) if g else 0
            if count >= o.threshold:
                continue
            tier = (tier_of(g, cur) or tier_of(g, base)) if g else None
            reason = Text(f"{span.zh}内只有 {count} 份（应至少 {o.threshold} 份）",
                          f"only {count} reports in {span.en} (expected at least {o.threshold})")
            counts = {"current": count, "baseline": g.counts.get(base.name, 0) if g else 0}
            matches.append(_match(rule, key, cur, count, o.threshold, tier, reason, counts))
        return matches


TYPES: dict[str, RuleType] = {t.name: t for t in (
    Frequency(), Spike(), NewTerm(), Cardinality(), Threshold(), MetricRule(), Flatline())}


# --- the reports behind a match -------------------------------------------------------------------


def reports_query(rule: AlertRule, match: Match, limit: int) -> SearchQuery:
    """The reports that made a group match, newest first. (A per-report match names its report:
    ``match.report_id``.)"""
    filters = dict(rule.filter.filters)
    key_field = group_field(rule)
    if key_field is not None and match.key is not None:
        filters[key_field] = match.key
    ranges = {**rule.filter.ranges, rule.time_field: Range(match.start, match.end)}
    return SearchQuery(rule.filter.text, filters, ranges, sort=f"-{rule.time_field}", limit=limit,
                       exclude=rule.filter.exclude)


def group_field(rule: AlertRule) -> str | None:
    o = rule.options
    if isinstance(o, NewTermOptions):
        return o.field
    return getattr(o, "group_by", None)


# --- helpers --------------------------------------------------------------------------------------


def _intersect(a: Range, b: Range) -> Range:
    lows = [x for x in (a.gte, b.gte) if x is not None]
    highs = [x for x in (a.lt, b.lt) if x is not None]
    return Range(max(lows) if lows else None, min(highs) if highs else None)  # type: ignore[type-var]


def _values(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _as_datetime(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    return datetime.fromisoformat(str(value)).astimezone(UTC)


def _as_set(value: Any) -> set[Any]:
    if isinstance(value, list | tuple):
        return set(value)
    return {value} if value is not None else set()


def doc_matches(query: SearchQuery, schema: IndexSchema, doc: Mapping[str, Any]) -> bool:
    """Does one indexed document match a filter? Text terms are case-insensitive substrings of
    the text fields (FTS5's reading; Elasticsearch matches English words whole)."""
    if query.text:
        texts = [v.casefold() for f in schema.text for v in _values(doc.get(f))]
        if not all(any(term.casefold() in t for t in texts) for term in query.text.split()):
            return False
    for field_name, accepted in query.filters.items():
        if not _as_set(accepted) & _as_set(doc.get(field_name)):
            return False
    for field_name, refused in query.exclude.items():
        if _as_set(refused) & _as_set(doc.get(field_name)):
            return False
    for field_name, bounds in query.ranges.items():
        value: Any = doc.get(field_name)
        if value is None:
            return False
        if field_name in schema.date:
            value = _as_datetime(value)
        if bounds.gte is not None and not value >= bounds.gte:
            return False
        if bounds.lt is not None and not value < bounds.lt:
            return False
    return True
