"""Rule types as data in -> matches out (ElastAlert2's tests/rules_test.py style): the requests a
rule makes at a window end, and what it decides from the answers. No engine, no clock."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tierwatch.core.search import Group, GroupQuery, Metric, Range, SearchQuery, SearchResult
from tierwatch.monitoring.alerts.model import AlertRule
from tierwatch.monitoring.alerts.rules import load_rule
from tierwatch.monitoring.alerts.types import TIER_METRIC, TYPES, Match, reports_query, window
from tierwatch.monitoring.indexing import REPORTS_SCHEMA

END = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
H = timedelta(hours=1)


def rule(kind: str, severity: str = "high", rule_id: str = "t", **options: Any) -> AlertRule:
    def yaml(value: Any) -> str:
        if isinstance(value, dict):
            return "{" + ", ".join(f"{k}: {yaml(v)}" for k, v in value.items()) + "}"
        if isinstance(value, list):
            return "[" + ", ".join(yaml(v) for v in value) + "]"
        return str(value).lower() if isinstance(value, bool) else str(value)

    lines = [
        "schema_version: 1", f"id: {rule_id}", "title: {zh: 测, en: T}", f"type: {kind}",
        f"severity: {severity}", "owner: desk", "group: g",
        *(f"{k}: {yaml(v)}" for k, v in options.items()),
    ]
    return load_rule("\n".join(lines) + "\n")


def group(key: str | None, counts: dict[str, int], **metrics: dict[str, Any]) -> Group:
    return Group(key, counts, {name: metrics.get(name, {}) for name in counts})


def decide(r: AlertRule, *results: Any, end: datetime = END) -> list[Match]:
    return TYPES[r.type].evaluate(r, end, list(results))


def keys(matches: list[Match]) -> list[str | None]:
    return [m.key for m in matches]


# --- frequency ---------------------------------------------------------------------------------

TIERED = {"high": 3, "medium": 5, "low": 8}


def test_frequency_asks_for_one_window_and_the_smallest_threshold() -> None:
    r = rule("frequency", group_by="ident_phone", window="2h", threshold=TIERED, filter={"match": {"kind": "scam"}})
    [request] = TYPES["frequency"].requests(r, END)
    assert isinstance(request, GroupQuery)
    assert request.windows == (window(END - 2 * H, END),)
    assert (request.group_by, request.min_count, request.date_field) == ("ident_phone", 3, "reported_at")
    assert request.query.filters == {"kind": "scam"}
    assert request.metrics == (TIER_METRIC,)  # tiered thresholds need the group's tier
    plain = rule("frequency", group_by="ident_phone", window="2h", threshold=4)
    assert TYPES["frequency"].requests(plain, END)[0].metrics == ()  # type: ignore[union-attr]


def test_frequency_threshold_is_inclusive_and_follows_the_tier() -> None:
    r = rule("frequency", severity="{high: critical, medium: high, low: medium}",
             group_by="ident_phone", window="2h", threshold=TIERED)
    cur = window(END - 2 * H, END).name
    groups = [
        group("high-3", {cur: 3}, **{cur: {"values:tier": ["high"]}}),
        group("mixed-3", {cur: 3}, **{cur: {"values:tier": ["low", "prohibited"]}}),  # strictest wins
        group("medium-4", {cur: 4}, **{cur: {"values:tier": ["medium"]}}),
        group("medium-5", {cur: 5}, **{cur: {"values:tier": ["medium"]}}),
        group("low-7", {cur: 7}, **{cur: {"values:tier": ["low"]}}),
        group("untiered-8", {cur: 8}, **{cur: {"values:tier": []}}),  # untiered: as low
    ]
    matches = decide(r, groups)
    assert keys(matches) == ["high-3", "mixed-3", "medium-5", "untiered-8"]
    assert [(m.threshold, m.tier, m.severity) for m in matches] == [
        (3, "high", "critical"), (3, "prohibited", "critical"), (5, "medium", "high"), (8, None, "medium")]
    first = matches[0]
    assert (first.start, first.end, first.value, first.counts) == (END - 2 * H, END, 3, {"current": 3})
    assert first.reason.en == "3 reports in 2 h, threshold 3 (high-tier application)"
    assert first.reason.zh == "2 小时内 3 份举报，阈值 3（高风险应用）"


def test_frequency_without_group_by_counts_everything() -> None:
    r = rule("frequency", window="10m", threshold=50)
    cur = window(END - timedelta(minutes=10), END).name
    assert keys(decide(r, [group(None, {cur: 500})])) == [None]
    assert decide(r, [group(None, {cur: 49})]) == []
    assert decide(r, []) == []  # nothing matched in the window: no group at all


# --- spike (the cases of ElastAlert 2's documentation, one window end each) ---------------------


def spike(**options: Any) -> AlertRule:
    return rule("spike", window="2h", **options)


def run_spike(r: AlertRule, ref: int, cur: int, key: str | None = None) -> list[Match]:
    o = r.options
    c, p = window(END - o.window, END).name, window(END - 2 * o.window, END - o.window).name  # type: ignore[union-attr]
    return decide(r, [group(key, {c: cur, p: ref})])


@pytest.mark.parametrize(
    ("ref", "cur", "fires"),
    [(5, 15, False), (10, 45, True), (41, 42, False), (0, 20, False), (3, 101, True)],
)
def test_spike_up_with_a_minimum_current_count(ref: int, cur: int, fires: bool) -> None:
    # "at least 15 events within two hours and less than a quarter of that before"
    r = spike(ratio=4, min_current=15)
    assert bool(run_spike(r, ref, cur)) is fires


@pytest.mark.parametrize(("ref", "cur", "fires"), [(3, 1002, False), (20, 200, True), (1000, 2125, True), (0, 120, False)])
def test_spike_up_with_a_minimum_reference_count(ref: int, cur: int, fires: bool) -> None:
    r = spike(ratio=2, min_reference=5)
    assert bool(run_spike(r, ref, cur)) is fires


def test_spike_new_key_needs_alert_on_new_key() -> None:
    assert run_spike(spike(ratio=4, min_current=30, group_by="region"), 0, 40, "shenzhen") == []
    [match] = run_spike(spike(ratio=4, min_current=30, group_by="region", alert_on_new_key=True), 0, 40, "shenzhen")
    assert match.value == math.inf and match.counts == {"current": 40, "reference": 0}
    assert "x∞" in match.reason.en


def test_spike_down_and_both() -> None:
    down = spike(ratio=3, direction="down", min_reference=10)
    assert [m.value for m in run_spike(down, 100, 10)] == [10]
    assert [m.value for m in run_spike(down, 30, 0)] == [math.inf]  # the feed dropped to nothing
    assert run_spike(down, 9, 0) == []  # too little before to call it a drop
    assert run_spike(down, 100, 40) == []
    both = spike(ratio=3, direction="both")
    assert [m.reason.en.split(":")[1].split()[0] for m in run_spike(both, 10, 30) + run_spike(both, 30, 10)] == ["up", "down"]
    # the request keeps keys that could drop as well as keys that could rise
    assert TYPES["spike"].requests(spike(ratio=3, direction="both", min_current=5, min_reference=20), END)[0].min_count == 5  # type: ignore[union-attr]
    assert TYPES["spike"].requests(down, END)[0].min_count == 10  # type: ignore[union-attr]


# --- new term ----------------------------------------------------------------------------------


def test_new_term_asks_twice_and_alerts_on_values_unseen_in_the_lookback() -> None:
    r = rule("new_term", field="ident_payment_account", window="1h", lookback="90d", min_count=2,
             schedule={"every": "5m"})
    t = TYPES["new_term"]
    [first] = t.requests(r, END)
    cur = window(END - H, END)
    assert isinstance(first, GroupQuery) and first.windows == (cur,) and first.min_count == 2
    page = [group("acct-new", {cur.name: 2}), group("acct-old", {cur.name: 3}), group("acct-once", {cur.name: 1})]
    [second] = t.followups(r, END, [page])
    lookback = window(END - H - timedelta(days=90), END - H)
    assert isinstance(second, GroupQuery)
    assert (second.keys, second.windows, second.group_by) == (("acct-new", "acct-old"), (lookback,), "ident_payment_account")
    seen = [group("acct-old", {lookback.name: 7})]
    [match] = t.evaluate(r, END, [page, seen])
    assert (match.key, match.value, match.counts) == ("acct-new", 2, {"current": 2, "lookback": 0})
    assert match.reason.en == "never seen in the 90 d before; 2 reports in this window"
    assert t.followups(r, END, [[]]) == []  # nothing new in the window: no second round


def test_new_term_window_defaults_to_the_schedule() -> None:
    r = rule("new_term", field="app", lookback="30d", schedule={"every": "10m"})
    [request] = TYPES["new_term"].requests(r, END)
    assert request.windows == (window(END - timedelta(minutes=10), END),)  # type: ignore[union-attr]


# --- cardinality -------------------------------------------------------------------------------


def test_cardinality_counts_distinct_values_per_key() -> None:
    r = rule("cardinality", group_by="ident_phone", distinct_field="region", threshold=3, window="1d")
    [request] = TYPES["cardinality"].requests(r, END)
    assert request.metrics == (Metric("cardinality", "region"),)  # type: ignore[union-attr]
    cur = window(END - 24 * H, END).name
    groups = [group("a", {cur: 9}, **{cur: {"cardinality:region": 3}}),
              group("b", {cur: 9}, **{cur: {"cardinality:region": 2}})]
    [match] = decide(r, groups)
    assert (match.key, match.value, match.threshold) == ("a", 3, 3)
    below = rule("cardinality", group_by="source", distinct_field="region", threshold=3, window="1d", direction="below")
    assert keys(decide(below, groups + [group("c", {cur: 0}, **{cur: {"cardinality:region": 0}})])) == ["b"]


# --- threshold (per report) -------------------------------------------------------------------


def test_threshold_is_strict_and_uses_each_reports_tier() -> None:
    r = rule("threshold", field="affected_users", above={"high": 100, "medium": 1000, "low": 10000},
             filter={"match": {"kind": "incident"}}, schedule={"every": "5m"})
    [request] = TYPES["threshold"].requests(r, END)
    assert isinstance(request, SearchQuery)
    # the loosest bound selects; the time step is the schedule's, so each report is read once
    assert request.ranges == {"affected_users": Range(gte=100),
                              "reported_at": Range(END - timedelta(minutes=5), END)}
    hits = [
        {"id": "i1", "affected_users": 100, "tier": "high"},  # not above 100
        {"id": "i2", "affected_users": 101, "tier": "high"},
        {"id": "i3", "affected_users": 5000, "tier": "medium"},
        {"id": "i4", "affected_users": 5000},  # untiered: as low
        {"id": "i5"},
    ]
    matches = decide(r, SearchResult(len(hits), hits))
    assert [(m.key, m.report_id, m.threshold) for m in matches] == [("i2", "i2", 100), ("i3", "i3", 1000)]


def test_threshold_from_the_stream_checks_the_filter_too() -> None:
    r = rule("threshold", field="scam_probability", above=0.97, group_by="ident_phone",
             filter={"match": {"kind": "scam", "channel": "video_call"}, "text": "换脸"})
    now = END
    doc = {"id": "r1", "kind": "scam", "channel": "video_call", "scam_probability": 0.99,
           "description": "对方用AI换脸冒充领导", "ident_phone": ["138", "139"], "reported_at": "2026-03-02T11:59:00+00:00"}
    t = TYPES["threshold"]
    matches = t.from_document(r, doc, REPORTS_SCHEMA, now)  # type: ignore[attr-defined]
    assert [(m.key, m.report_id) for m in matches] == [("138", "r1"), ("139", "r1")]
    assert matches[0].start == datetime(2026, 3, 2, 11, 59, tzinfo=UTC)
    for change in ({"channel": "phone"}, {"description": "普通诈骗"}, {"scam_probability": 0.97}):
        assert t.from_document(r, {**doc, **change}, REPORTS_SCHEMA, now) == []  # type: ignore[attr-defined]


def test_threshold_below() -> None:
    r = rule("threshold", field="scam_probability", below=0.1)
    hits = [{"id": "a", "scam_probability": 0.1}, {"id": "b", "scam_probability": 0.05}]
    assert [m.key for m in decide(r, SearchResult(2, hits))] == ["b"]
    [request] = TYPES["threshold"].requests(r, END)
    assert request.ranges["scam_probability"] == Range(lt=0.1)  # type: ignore[union-attr]


# --- metric ------------------------------------------------------------------------------------


def test_metric_above_and_below_are_strict_with_a_minimum_of_reports() -> None:
    r = rule("metric", group_by="ident_phone", window="1d", metric={"op": "sum", "field": "amount_lost"},
             above=200000, min_reports=2)
    [request] = TYPES["metric"].requests(r, END)
    assert request.metrics == (Metric("sum", "amount_lost"),) and request.min_count == 2  # type: ignore[union-attr]
    cur = window(END - 24 * H, END).name
    groups = [
        group("a", {cur: 2}, **{cur: {"sum:amount_lost": 200000.0}}),
        group("b", {cur: 3}, **{cur: {"sum:amount_lost": 250000.0}}),
        group("c", {cur: 1}, **{cur: {"sum:amount_lost": 900000.0}}),  # one report only
    ]
    assert keys(decide(r, groups)) == ["b"]
    low = rule("metric", group_by="source", window="1d", metric={"op": "avg", "field": "scam_probability"}, below=0.2)
    groups = [group("feed-a", {cur: 80}, **{cur: {"avg:scam_probability": 0.1}}),
              group("feed-b", {cur: 80}, **{cur: {"avg:scam_probability": None}})]  # no scores: no verdict
    [match] = decide(low, groups)
    assert match.key == "feed-a" and match.reason.en == "80 reports in 1 d, avg(scam_probability) = 0.1 below 0.2"


# --- flatline ----------------------------------------------------------------------------------


def test_flatline_without_group_fires_on_silence() -> None:
    r = rule("flatline", window="30m", threshold=1, time_field="received_at")
    [request] = TYPES["flatline"].requests(r, END)
    assert request.date_field == "received_at"  # type: ignore[union-attr]
    [match] = decide(r, [])
    assert (match.key, match.value, match.counts["current"]) == (None, 0, 0)
    cur = window(END - timedelta(minutes=30), END).name
    assert decide(r, [group(None, {cur: 1})]) == []


def test_flatline_per_key_from_the_baseline_or_an_expected_list() -> None:
    r = rule("flatline", window="6h", threshold=2, group_by="source", baseline="7d")
    cur = window(END - 6 * H, END)
    base = window(END - 6 * H - timedelta(days=7), END - 6 * H)
    [request] = TYPES["flatline"].requests(r, END)
    assert request.windows == (cur, base)  # type: ignore[union-attr]
    groups = [group("feed-a", {cur.name: 0, base.name: 40}), group("feed-b", {cur.name: 5, base.name: 40}),
              group("feed-c", {cur.name: 1, base.name: 0}), group("feed-d", {cur.name: 1, base.name: 3})]
    assert keys(decide(r, groups)) == ["feed-a", "feed-d"]  # feed-c is new, not silent
    listed = rule("flatline", window="6h", threshold=1, group_by="source", expect=["feed-a", "feed-x"])
    [request] = TYPES["flatline"].requests(listed, END)
    assert request.keys == ("feed-a", "feed-x")  # type: ignore[union-attr]
    assert keys(decide(listed, [group("feed-a", {cur.name: 3})])) == ["feed-x"]  # never sent anything


# --- the reports behind a match -----------------------------------------------------------------


def test_reports_query_selects_the_key_and_window_of_a_match() -> None:
    r = rule("frequency", group_by="ident_phone", window="2h", threshold=3, filter={"match": {"kind": "scam"}})
    cur = window(END - 2 * H, END).name
    [match] = decide(r, [group("138", {cur: 40})])
    q = reports_query(r, match, limit=1000)
    assert q.filters == {"kind": "scam", "ident_phone": "138"}
    assert q.ranges == {"reported_at": Range(END - 2 * H, END)} and q.sort == "-reported_at" and q.limit == 1000


def test_exclude_reaches_the_requests_and_the_stream_check() -> None:
    from tierwatch.monitoring.alerts.types import doc_matches

    r = rule("threshold", field="scam_probability", above=0.9,
             filter={"match": {"kind": "scam"}, "exclude": {"channel": ["website", "sms"]}})
    [request] = TYPES["threshold"].requests(r, END)
    assert request.exclude == {"channel": ("website", "sms")}  # type: ignore[union-attr]
    base = {"id": "x", "kind": "scam", "scam_probability": 0.95}
    assert doc_matches(r.filter, REPORTS_SCHEMA, {**base, "channel": "phone"})
    assert doc_matches(r.filter, REPORTS_SCHEMA, base)  # no channel: kept, as the engines do
    assert not doc_matches(r.filter, REPORTS_SCHEMA, {**base, "channel": "sms"})
    f = rule("frequency", window="1h", threshold=2, group_by="ident_phone", filter={"exclude": {"region": "深圳"}})
    [group_query] = TYPES["frequency"].requests(f, END)
    assert group_query.query.exclude == {"region": "深圳"}  # type: ignore[union-attr]
