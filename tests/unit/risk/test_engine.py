"""The tier engine as data in -> result out: combination, obligations, evidence, clear errors."""

from __future__ import annotations

import gc

import pytest

from tierwatch.risk.appdata import normalize_application
from tierwatch.risk.engine import load_and_compile
from tierwatch.risk.ruleset import ApplicationDataError, RuleRuntimeError
from tests.unit.risk.conftest import rule_file


def test_score_thresholds_and_tier_floors(small_rules: str) -> None:
    c = load_and_compile(small_rules)
    assert c.assess({}).tier == "low"
    assert c.assess({"monthly_active_users": 2_000_000}).tier == "medium"  # 2 points
    both = c.assess({"monthly_active_users": 2_000_000, "audiences": ["minors"]})
    assert (both.tier, both.score) == ("high", 4)
    floor = c.assess({"capabilities": ["video_deepfake"]})  # no points, but a high floor
    assert (floor.tier, floor.score) == ("high", 0)
    assert [o.kind for o in floor.obligations] == ["self_assessment", "incident_report"]


def test_evidence_is_what_was_filed(small_rules: str) -> None:
    c = load_and_compile(small_rules)
    result = c.assess({"monthly_active_users": 1_500_000, "audiences": ["minors", "general"],
                       "capabilities": None})
    assert result.fired_ids == ["T-SCALE", "T-MINORS"]
    assert result.fired[0].fields == ("monthly_active_users",)
    app = {"monthly_active_users": 1_500_000, "audiences": ["minors", "general"], "capabilities": None}
    assert result.fired[0].values(app) == {"monthly_active_users": 1_500_000}
    assert result.fired[1].values(app) == {"audiences": ["minors", "general"]}
    assert result.fired[1].reason.zh == "理由T-MINORS" and result.fired[1].reason.en == "reason T-MINORS"
    assert result.fired[1].as_dict()["legal_basis"][0]["article"] == {"zh": "第十七条", "en": "Art. 17"}


def test_rules_add_their_own_obligations_once() -> None:
    text = rule_file(("T-A", '"emotion_recognition" in capabilities', "points: 1"),
                     ("T-B", '"biometric_identification" in capabilities', "points: 1"))
    notice = "    obligations: [{kind: transparency_notice}, {kind: self_assessment, every: P1Y}]\n"
    text = text.replace("    reason: {zh: 理由T-A", notice + "    reason: {zh: 理由T-A").replace(
        "    reason: {zh: 理由T-B", notice + "    reason: {zh: 理由T-B")
    c = load_and_compile(text)
    result = c.assess({"capabilities": ["emotion_recognition", "biometric_identification"]})
    assert result.tier == "medium"
    assert [o.kind for o in result.obligations] == ["self_assessment", "transparency_notice"]


def test_unset_values_have_fixed_meanings() -> None:
    values = normalize_application({"name": "x"})
    assert values["monthly_active_users"] == -1
    assert values["cross_border_transfer"] is False
    assert values["domain"] == "" and values["capabilities"] == [] and values["models"] == []
    assert normalize_application({"models": [{"name": "m", "filing_number": None}]})["models"] == [
        {"name": "m", "filing_number": ""}]


@pytest.mark.parametrize("field, value", [
    ("monthly_active_users", "many"), ("monthly_active_users", True), ("cross_border_transfer", 1),
    ("capabilities", "video_deepfake"), ("capabilities", [1]), ("domain", 3), ("models", ["x"]),
])
def test_mistyped_application_fields_are_refused(small_rules: str, field: str, value: object) -> None:
    c = load_and_compile(small_rules)
    with pytest.raises(ApplicationDataError) as info:
        c.assess({field: value}, app_ref=42)
    assert info.value.field == field
    assert str(info.value).startswith(f"application 42: field {field}: expected")


def test_a_condition_failing_at_run_time_names_rule_application_and_line() -> None:
    text = rule_file(("T-OK", "cross_border_transfer", "points: 1"),
                     ("T-FIRST-REGION", 'regions[0] == "广东"', "points: 1"))
    c = load_and_compile(text, filename="rules/x.yaml")
    assert c.assess({"regions": ["广东"]}).fired_ids == ["T-FIRST-REGION"]
    with pytest.raises(RuleRuntimeError) as info:
        c.assess({"regions": []}, app_ref=7)
    line = next(i for i, s in enumerate(text.splitlines(), 1) if "regions[0]" in s)
    assert str(info.value).startswith(f"rules/x.yaml:{line}: rule T-FIRST-REGION: condition failed for application 7:")
    assert "index" in str(info.value).lower()
    assert (info.value.rule_id, info.value.app_ref) == ("T-FIRST-REGION", 7)


def test_assess_many_restores_the_garbage_collector(small_rules: str) -> None:
    c = load_and_compile(small_rules)
    assert gc.isenabled()
    results = c.assess_many([(1, {"audiences": ["minors"]}), (2, {})])
    assert [(ref, a.tier) for ref, a in results] == [(1, "medium"), (2, "low")]
    assert gc.isenabled()
    with pytest.raises(ApplicationDataError):
        c.assess_many([(3, {"domain": 5})])
    assert gc.isenabled()


def test_filings_with_the_same_outcome_share_one_assessment_but_never_another_filings_text() -> None:
    text = rule_file(("T-A", '"minors" in audiences', "points: 2"))
    c = load_and_compile(text)
    a, b = c.assess({"audiences": ["minors"], "name": "甲"}), c.assess({"audiences": ["minors", "general"]})
    assert a is b  # facts-only outcomes carry no per-filing values
    assert c.assess({}) is not a and c.assess({}).tier == "low"


@pytest.mark.parametrize("answers, culprit", [
    ({"rbi_real_time": True}, "answers.rbi_real_time"), ({"intended_purpose": "recruitment"}, "answers.intended_purpose"),
    ({"intended_purpose": ["recruitment", 3]}, "answers.intended_purpose"), ({"rbi_remote": ["yes"]}, "answers.rbi_remote"),
    ({"no_such_question": "yes"}, "answers"),
])
def test_mistyped_answers_are_refused(small_rules: str, answers: dict, culprit: str) -> None:
    c = load_and_compile(small_rules)
    with pytest.raises(ApplicationDataError) as info:
        c.assess({"answers": answers}, app_ref=9)
    assert info.value.field == culprit
