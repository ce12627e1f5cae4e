"""The starter rules over a seeded stream, on SQLite FTS5 and on Elasticsearch: each rule fires
for exactly the keys the stream was built to trigger, and the batched cycle decides exactly what
evaluating every rule on its own decides, with fewer requests."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tierwatch.core.search import SearchIndex
from tierwatch.monitoring.alerts.evaluator import evaluate
from tierwatch.monitoring.alerts.planner import Due
from tierwatch.monitoring.alerts.rules import load_rules
from tierwatch.monitoring.indexing import REPORTS_INDEX, REPORTS_SCHEMA

END = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
_ids = itertools.count()


def report(ago: timedelta, **fields: Any) -> dict[str, Any]:
    at = (END - ago).isoformat()
    return {"id": f"r{next(_ids):05d}", "kind": "scam", "channel": "phone", "reported_at": at, "received_at": at,
            "reporter_type": "citizen", **fields}


def m(minutes: float) -> timedelta:
    return timedelta(minutes=minutes)


def seeded_stream() -> tuple[list[dict[str, Any]], dict[str, set[str | None]]]:
    docs: list[dict[str, Any]] = []
    regions = ["广州", "深圳", "东莞", "佛山", "珠海", "中山"]
    # background: 200 ordinary reports over eight days, nothing in common
    docs += [report(m(i * 57.6), region=regions[i % 6], description="冒充客服退款") for i in range(200)]
    # one number, 9 reports in 2 h from 3 regions and 9 reporters, 270,000 CNY lost: untiered
    docs += [report(m(10 + 12 * i), ident_phone=["13800000001"], region=regions[i % 3], amount_lost=30000.0,
                    reporter_key=f"rk{i}") for i in range(9)]
    # 3 reports: enough for a number tied to a high-tier application, not for a low-tier one
    docs += [report(m(20 * i + 5), ident_phone=["13800000002"], tier="high", application_id="app-1") for i in range(3)]
    docs += [report(m(20 * i + 5), ident_phone=["13800000003"], tier="low", application_id="app-2") for i in range(3)]
    # a flood: 60 reports in 10 minutes
    docs += [report(timedelta(seconds=5 + 9 * i), ident_phone=["13900000009"]) for i in range(60)]
    docs += [report(m(30 * i + 1), ident_domain=["pay123.top"], ident_url=["http://pay123.top/a"]) for i in range(10)]
    docs += [report(m(300 + i), ident_payment_account=["6222000000000009"]) for i in range(3)]
    # voice clones: 20 in the last 6 h against 4 before; face swaps: too few
    docs += [report(m(15 * i + 2), ai_technique="cloned_voice", channel="messaging_app") for i in range(20)]
    docs += [report(m(370 + 60 * i), ai_technique="cloned_voice", channel="messaging_app") for i in range(4)]
    docs += [report(m(40 * i + 3), ai_technique="face_swap_video", channel="video_call") for i in range(5)]
    # a region nobody reported from before: 35 in 3 h
    docs += [report(m(5 * i + 1), region="汕尾") for i in range(35)]
    # a medium-tier application named 10 times in a day; a high-tier one twice
    docs += [report(m(120 * i + 7), application_id="app-7", tier="medium", app="安心贷") for i in range(10)]
    docs += [report(m(200 * i + 7), application_id="app-8", tier="high") for i in range(2)]
    # incidents: any for a high-tier application; one affecting many users of a high-tier one
    incident = {"kind": "incident", "channel": None, "incident_type": "data_leak", "severity": "high"}
    docs += [report(m(180), application_id="app-9", tier="high", affected_users=10, **incident)]
    big = report(timedelta(seconds=30), application_id="app-10", tier="high", affected_users=2000, **incident)
    docs += [big, report(timedelta(seconds=30), application_id="app-11", tier="medium", affected_users=5000, **incident)]
    # the detector almost sure about a video call (and only just not sure about another)
    sure = report(timedelta(seconds=20), channel="video_call", scam_probability=0.99, scam_type="impersonate_acquaintance")
    docs += [sure, report(timedelta(seconds=25), channel="video_call", scam_probability=0.97, scam_type="loan_credit")]
    # receiving accounts and app names: new ones, and ones seen before
    docs += [report(m(10 + i), ident_payment_account=["6222000000000001"]) for i in range(2)]
    docs += [report(m(10 + i), ident_payment_account=["6222000000000002"]) for i in range(2)]
    docs += [report(timedelta(days=10), ident_payment_account=["6222000000000002"])]
    docs += [report(m(20 + i), app="币安达") for i in range(2)]
    docs += [report(m(20 + i), app="快贷宝") for i in range(2)] + [report(timedelta(days=30), app="快贷宝")]
    docs += [report(m(60 * i + 9), campaign_id="c-1") for i in range(20)]
    # partner feeds: feed-a busy but scored low; feed-b silent for the last 10 h
    feed = {"reporter_type": "partner_feed"}
    docs += [report(m(20 * i + 3), source="feed-a", scam_probability=0.1, **feed) for i in range(60)]
    docs += [report(timedelta(days=3, minutes=i), source="feed-a", scam_probability=0.1, **feed) for i in range(10)]
    docs += [report(timedelta(hours=10 + 4 * i), source="feed-b", scam_probability=0.9, **feed) for i in range(28)]
    docs = [{k: v for k, v in d.items() if v is not None} for d in docs]
    expected: dict[str, set[str | None]] = {
        "identifier-burst": {"13800000001", "13800000002", "13900000009"},
        "identifier-flood": {"13900000009"},
        "url-burst": {"pay123.top"},
        "payment-account-burst": {"6222000000000009"},
        "voice-clone-wave": {None},
        "face-swap-wave": set(),
        "region-spike": {"汕尾"},
        "app-named-in-scams": {"app-1", "app-7"},  # app-1 is high-tier: its 3 reports are enough
        "high-tier-app-incident": {"app-9", "app-10"},
        "incident-many-affected": {big["id"]},
        "high-confidence-video-scam": {"impersonate_acquaintance"},  # one alert per scam type
        "identifier-many-regions": {"13800000001"},
        "identifier-many-reporters": {"13800000001"},
        "new-payment-account": {"6222000000000001"},
        "new-app-name": {"币安达"},
        "losses-per-identifier": {"13800000001"},
        "feed-low-scores": {"feed-a"},
        "partner-feed-silent": {"feed-b"},
        "intake-silent": set(),
        "campaign-growth": {"c-1"},
    }
    return docs, expected


@pytest.fixture
def stream(search_index: SearchIndex) -> dict[str, set[str | None]]:
    docs, expected = seeded_stream()
    search_index.ensure_index(REPORTS_INDEX, REPORTS_SCHEMA)
    search_index.bulk_index(REPORTS_INDEX, docs)
    search_index.refresh(REPORTS_INDEX)
    return expected


def test_each_starter_rule_fires_for_exactly_the_seeded_keys(search_index: SearchIndex,
                                                              stream: dict[str, set[str | None]]) -> None:
    rules = load_rules()
    cycle = evaluate(search_index, REPORTS_INDEX, [Due(r, END) for r in rules])
    assert cycle.errors == {}
    fired = {rule_id: {m.key for m in matches} for rule_id, matches in cycle.matches.items()}
    assert fired == stream
    burst = {m.key: m for m in cycle.matches["identifier-burst"]}
    assert (burst["13800000002"].severity, burst["13800000002"].tier, burst["13800000002"].threshold) == ("critical", "high", 3)
    assert (burst["13800000001"].severity, burst["13800000001"].value) == ("high", 9)
    assert cycle.matches["identifier-flood"][0].value == 60
    [wave] = cycle.matches["voice-clone-wave"]
    assert wave.counts == {"current": 20, "reference": 4}
    [losses] = cycle.matches["losses-per-identifier"]
    assert losses.value == 270000.0
    # 20 rules, 17 distinct first-round requests + 2 follow-ups for the new terms
    assert cycle.distinct == 19 and cycle.round_trips == 2


def test_batched_cycle_decides_what_each_rule_alone_decides(search_index: SearchIndex,
                                                            stream: dict[str, set[str | None]]) -> None:
    rules = load_rules()
    together = evaluate(search_index, REPORTS_INDEX, [Due(r, END) for r in rules], page_limit=2)
    alone = {}
    requests = 0
    for r in rules:
        single = evaluate(search_index, REPORTS_INDEX, [Due(r, END)], page_limit=2)
        alone.update(single.matches)
        requests += single.distinct
    assert together.matches == alone
    assert together.distinct < requests
    assert together.requests > together.distinct  # pages of 2 keys: paging was exercised
