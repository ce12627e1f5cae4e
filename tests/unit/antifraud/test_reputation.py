from datetime import UTC, datetime, timedelta

from tierwatch.antifraud.reputation import InMemoryReputation, identifier_keys

T0 = datetime(2025, 3, 1, tzinfo=UTC)


def _report(day: int, region: str, phone: str = "13800138000") -> dict:
    return {"identifiers": {"phone": [phone]}, "reported_at": (T0 + timedelta(days=day)).isoformat(), "region": region}


def test_counts_only_reports_strictly_before():
    rep = InMemoryReputation.from_reports([_report(5, "广东"), _report(0, "北京"), _report(2, "广东")])
    key = "phone:13800138000"
    assert rep.lookup([key], T0) == {}
    stats = rep.lookup([key], T0 + timedelta(days=3))[key]
    assert (stats.count, stats.regions) == (2, 2)
    assert stats.first_seen == T0 and stats.last_seen == T0 + timedelta(days=2)
    assert rep.lookup([key], T0 + timedelta(days=10))[key].count == 3


def test_unknown_identifiers_are_absent():
    rep = InMemoryReputation.from_reports([_report(0, "广东")])
    assert rep.lookup(["phone:1"], T0 + timedelta(days=1)) == {}


def test_identifier_keys_tolerate_malformed_input():
    assert identifier_keys({"phone": ["138", " ", 5], "url": "https://a.cn", 3: ["x"]}) == ["phone:138", "url:https://a.cn"]
    assert identifier_keys(None) == [] and identifier_keys(["phone"]) == []
