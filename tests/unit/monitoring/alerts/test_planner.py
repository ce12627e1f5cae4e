"""The planner merges the requests of rules that read the same documents: cost follows the
distinct queries, not the number of rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tierwatch.core.search import GroupQuery, Metric, SearchQuery
from tierwatch.monitoring.alerts.planner import Due, canonical_query, page_size, plan
from tierwatch.monitoring.alerts.rules import load_rules
from tierwatch.monitoring.alerts.types import TIER_METRIC, TYPES, window
from tests.unit.monitoring.alerts.test_types import rule

END = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
H = timedelta(hours=1)


def test_rules_on_the_same_documents_share_requests_of_similar_length() -> None:
    rules = {r.id: r for r in load_rules()}
    ids = ["identifier-burst", "identifier-flood", "identifier-many-regions", "losses-per-identifier",
           "identifier-many-reporters"]
    p = plan([Due(rules[i], END) for i in ids])
    short, long = p.requests
    assert isinstance(short, GroupQuery) and isinstance(long, GroupQuery)
    assert short.group_by == long.group_by == "ident_phone"
    # 2h and 10m in one request; 24h (asked by two rules, kept once) and 3d in another: merged
    # with the 10-minute window, the 3-day one would page through three days of keys every minute
    assert short.windows == (window(END - 2 * H, END), window(END - timedelta(minutes=10), END))
    assert long.windows == (window(END - 24 * H, END), window(END - 72 * H, END))
    assert set(long.metrics) == {Metric("cardinality", "region"), Metric("sum", "amount_lost"),
                                 Metric("cardinality", "reporter_key")}
    assert short.metrics == (TIER_METRIC,)
    # region and reporter_key are single-valued, so 3 distinct regions need 3 reports and 5
    # reporters 5; the losses rule needs 2 reports: the merged request keeps the smallest
    assert (short.min_count, long.min_count) == (3, 2)
    assert [p.routes[(i, END)] for i in ids] == [[0], [0], [1], [1], [1]]


def test_far_apart_windows_are_not_merged() -> None:
    a = rule("frequency", rule_id="a", group_by="region", window="10m", threshold=5)
    b = rule("frequency", rule_id="b", group_by="region", window="3d", threshold=5)
    c = rule("frequency", rule_id="c", group_by="region", window="2h", threshold=5)
    p = plan([Due(a, END), Due(b, END), Due(c, END)])
    assert [len(r.windows) for r in p.requests] == [2, 1]  # type: ignore[union-attr]
    assert p.routes == {("a", END): [0], ("b", END): [1], ("c", END): [0]}


def test_the_starter_set_needs_fewer_requests_than_rules() -> None:
    rules = load_rules()
    p = plan([Due(r, END) for r in rules])
    own = sum(len(TYPES[r.type].requests(r, END)) for r in rules)
    assert own == len(rules)
    # 20 rules -> 17 requests: five rules on phone numbers share two, the two partner-feed rules
    # share one; the payment-account burst (24 h) and the new payment account (1 h) stay apart, and
    # so do app-named-in-scams (3+ reports per application) and high-tier-app-incident (any one)
    assert len(p.requests) == 17
    assert {i for route in p.routes.values() for i in route} == set(range(len(p.requests)))  # none unused


def test_filters_are_compared_once_normalised() -> None:
    a = rule("frequency", rule_id="a", group_by="region", window="1h", threshold=5,
             filter={"match": {"kind": "scam", "channel": ["sms", "phone"]}, "text": "客服 退款"})
    b = rule("frequency", rule_id="b", group_by="region", window="1h", threshold=9,
             filter={"match": {"channel": ["phone", "sms"], "kind": ["scam"]}, "text": "退款 客服"})
    c = rule("frequency", rule_id="c", group_by="region", window="1h", threshold=9,
             filter={"match": {"channel": ["phone"], "kind": "scam"}, "text": "退款 客服"})
    assert canonical_query(a.filter) == canonical_query(b.filter) != canonical_query(c.filter)
    p = plan([Due(a, END), Due(b, END), Due(c, END)])
    assert len(p.requests) == 2
    assert p.requests[0].min_count == 5  # type: ignore[union-attr]
    assert (p.routes[("a", END)], p.routes[("b", END)], p.routes[("c", END)]) == ([0], [0], [1])
    # an exclude list is part of what selects the documents: never merged with one without it
    d = rule("frequency", rule_id="d", group_by="region", window="1h", threshold=5,
             filter={"match": {"kind": "scam", "channel": ["sms", "phone"]}, "text": "客服 退款",
                     "exclude": {"region": ["深圳", "广州"]}})
    e = rule("frequency", rule_id="e", group_by="region", window="1h", threshold=5,
             filter={"match": {"kind": "scam", "channel": ["sms", "phone"]}, "text": "客服 退款",
                     "exclude": {"region": ["广州", "深圳"]}})
    assert canonical_query(d.filter) == canonical_query(e.filter) != canonical_query(a.filter)
    assert len(plan([Due(a, END), Due(d, END), Due(e, END)]).requests) == 2


def test_different_window_ends_share_a_request_with_two_windows() -> None:
    r = rule("frequency", group_by="region", window="1h", threshold=5)
    p = plan([Due(r, END), Due(r, END - H)])
    [request] = p.requests
    assert request.windows == (window(END - H, END), window(END - 2 * H, END - H))  # type: ignore[union-attr]


def test_identical_searches_are_asked_once() -> None:
    a = rule("threshold", field="scam_probability", above=0.97)
    b = rule("threshold", rule_id="b", field="scam_probability", above=0.97, severity="low")
    p = plan([Due(a, END), Due(b, END)])
    assert len(p.requests) == 1 and isinstance(p.requests[0], SearchQuery)


def test_page_size_stays_under_the_bucket_limit() -> None:
    assert page_size(1, ()) == 10_000
    assert page_size(4, (TIER_METRIC,)) == 60_000 // (1 + 4 * 5)
    assert page_size(200, (TIER_METRIC,)) == 60_000 // (1 + 200 * 5)
    assert page_size(200, (TIER_METRIC, Metric("values", "region"))) == 60_000 // (1 + 200 * 9)
