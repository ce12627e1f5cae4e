"""The shipped rule sets: realistic applications land where each law puts them, with reasons in
Chinese and English, legal bases, and the tier regimes of DESIGN.md."""

from __future__ import annotations

from functools import lru_cache

import pytest

from tierwatch.risk.engine import CompiledRuleSet, load_and_compile
from tests.unit.risk.cases import CASES
from tests.unit.risk.conftest import CN_GD, EU

FILES = {"cn-gd": CN_GD, "eu": EU}


@lru_cache(maxsize=None)
def compiled(jurisdiction: str) -> CompiledRuleSet:
    return load_and_compile(FILES[jurisdiction])


def test_enough_cases() -> None:
    assert len(CASES) >= 20
    for jurisdiction in FILES:
        tiers = {expected[jurisdiction][0] for _k, _a, expected in CASES}
        assert {"low", "medium", "high"} <= tiers
    assert "prohibited" in {expected["eu"][0] for _k, _a, expected in CASES}


@pytest.mark.parametrize("jurisdiction", FILES)
@pytest.mark.parametrize("key, app, expected", CASES, ids=[c[0] for c in CASES])
def test_case_lands_where_the_law_says(jurisdiction: str, key: str, app: dict, expected: dict) -> None:
    tier, rule_id, zh, en = expected[jurisdiction]
    result = compiled(jurisdiction).assess(app, key)
    assert result.tier == tier, f"{key}: {result.tier} ({result.fired_ids})"
    if rule_id:
        fired = {f.rule_id: f for f in result.fired}
        assert rule_id in fired, f"{key}: {rule_id} not in {list(fired)}"
        assert zh in fired[rule_id].reason.zh
        assert en in fired[rule_id].reason.en
        assert fired[rule_id].legal_basis
        evidence = fired[rule_id].evidence
        assert evidence and all(evidence[name] == app.get(name) for name in evidence)
    else:
        assert not [f for f in result.fired if f.tier is not None and f.tier != "low"]


@pytest.mark.parametrize("jurisdiction", FILES)
def test_rule_set_is_complete(jurisdiction: str) -> None:
    c = compiled(jurisdiction)
    rs = c.ruleset
    assert len(rs.rules) >= 25
    assert c.translated == len(rs.rules), "every shipped condition runs on the fast path"
    for rule in rs.rules:
        assert rule.reason.zh and rule.reason.en and rule.legal_basis
        for basis in rule.legal_basis:
            assert basis.article.zh and basis.article.en and basis.text.zh and basis.text.en


@pytest.mark.parametrize("jurisdiction", FILES)
def test_tier_regimes_follow_the_design(jurisdiction: str) -> None:
    tiers = compiled(jurisdiction).ruleset.tiers

    def duties(tier: str) -> set[tuple[str, str | None, str | None]]:
        return {(o.kind, o.every, o.within) for o in tiers[tier].obligations}

    assert {("review_before_approval", None, None), ("continuous_monitoring", None, None),
            ("incident_report", None, "PT24H"), ("self_assessment", "P3M", None),
            ("inspection", "P1Y", None)} <= duties("high")
    assert {("self_assessment", "P1Y", None), ("incident_report", None, "PT72H")} <= duties("medium")
    assert any(o.kind == "spot_check" and o.sample for o in tiers["medium"].obligations)
    assert ("filing", None, None) in duties("low")
    assert any(o.kind == "incident_report" and o.on_request for o in tiers["low"].obligations)


def test_eu_prohibited_sits_above_high_and_article_50_adds_transparency() -> None:
    eu = compiled("eu")
    assert list(eu.ruleset.tiers) == ["low", "medium", "high", "prohibited"]
    chatbot = dict(CASES[[c[0] for c in CASES].index("customer_service_bot")][1])
    result = eu.assess(chatbot)
    assert result.tier == "medium"
    assert "transparency_notice" in [o.kind for o in result.obligations]
    emotion = eu.assess({"capabilities": ["emotion_recognition"], "domain": "education"})
    assert emotion.tier == "prohibited"
    assert "prohibition" in [o.kind for o in emotion.obligations]


def test_one_registry_two_regimes() -> None:
    news = dict(CASES[[c[0] for c in CASES].index("news_feed")][1])
    assert compiled("cn-gd").assess(news).tier == "high"
    assert compiled("eu").assess(news).tier == "low"
