"""Malformed rule files: every error names the file, the line and the rule."""

from __future__ import annotations

from pathlib import Path

import pytest

from tierwatch.risk.engine import load_and_compile
from tierwatch.risk.loader import load_ruleset
from tierwatch.risk.ruleset import RuleSetInvalid
from tests.unit.risk.conftest import rule_file


def errors_of(text: str, tmp_path: Path) -> list[str]:
    path = tmp_path / "broken.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RuleSetInvalid) as info:
        load_and_compile(path)
    assert all(e.file == str(path) for e in info.value.errors)
    return [str(e).replace(str(path), "FILE") for e in info.value.errors]


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def test_a_valid_file_loads_with_line_numbers(small_rules: str) -> None:
    rs = load_ruleset(small_rules)
    assert [r.id for r in rs.rules] == ["T-DEEPFAKE", "T-SCALE", "T-MINORS"]
    assert rs.rules[1].condition_line == line_of(small_rules, "monthly_active_users")
    assert rs.combine.thresholds == (("medium", 2), ("high", 4))
    assert len(rs.checksum) == 64


def test_bad_yaml_names_the_line(tmp_path: Path, small_rules: str) -> None:
    broken = small_rules.replace("combine: {method: score", "combine: {method: [score")
    [error] = errors_of(broken, tmp_path)
    assert error.startswith(f"FILE:{line_of(broken, 'combine:')}: invalid YAML: expected ','")


def test_unknown_key_in_a_rule(tmp_path: Path, small_rules: str) -> None:
    broken = small_rules.replace("    tier: high\n", "    tier: high\n    severity: 3\n", 1)
    [error] = errors_of(broken, tmp_path)
    assert error.startswith(f"FILE:{line_of(broken, 'T-DEEPFAKE')}: rule T-DEEPFAKE:")
    assert "'severity' was unexpected" in error


def test_unknown_field_in_a_condition(tmp_path: Path) -> None:
    text = rule_file(("T-1", "monthly_users > 5", "points: 1"))
    [error] = errors_of(text, tmp_path)
    assert error.startswith(f"FILE:{line_of(text, 'monthly_users')}: rule T-1:")
    assert "unknown field 'monthly_users'" in error


def test_unknown_enum_code(tmp_path: Path) -> None:
    text = rule_file(
        ("T-1", '"deepfake" in capabilities', "tier: high"),
        ("T-2", 'domain == "banking"', "points: 1"),
        ("T-3", 'audiences.exists(a, a in ["kids", "general"])', "points: 1"),
    )
    errors = errors_of(text, tmp_path)
    assert len(errors) == 3
    assert "rule T-1: unknown code 'deepfake' for field capabilities" in errors[0]
    assert "rule T-2: unknown code 'banking' for field domain" in errors[1]
    assert "rule T-3: unknown code 'kids' for field audiences" in errors[2]
    assert errors[1].startswith(f"FILE:{line_of(text, 'banking')}:")


def test_missing_legal_basis(tmp_path: Path, small_rules: str) -> None:
    start = small_rules.index("    legal_basis:", small_rules.index("T-SCALE"))
    end = small_rules.index("  - id: T-MINORS")
    broken = small_rules[:start] + small_rules[end:]
    [error] = errors_of(broken, tmp_path)
    assert f"FILE:{line_of(broken, 'T-SCALE')}: rule T-SCALE:" in error
    assert "'legal_basis' is a required property" in error


def test_condition_syntax_error(tmp_path: Path) -> None:
    text = rule_file(("T-1", "monthly_active_users >", "points: 1"))
    [error] = errors_of(text, tmp_path)
    assert error.startswith(f"FILE:{line_of(text, 'monthly_active_users')}: rule T-1: condition 1:")
    assert "Syntax error" in error


def test_condition_type_error_is_caught_before_any_application_is_seen(tmp_path: Path) -> None:
    text = rule_file(("T-1", 'monthly_active_users > "many"', "points: 1"),
                     ("T-2", "capabilities", "points: 1"))
    errors = errors_of(text, tmp_path)
    assert "no matching overload for '_>_' applied to '(int, string)'" in errors[0]
    assert "rule T-2: condition must be true/false" in errors[1]


def test_duplicate_rule_ids_and_keys(tmp_path: Path) -> None:
    text = rule_file(("T-1", "cross_border_transfer", "points: 1"), ("T-1", "public_opinion_attributes", "points: 1"))
    [error] = errors_of(text, tmp_path)
    assert "rule T-1: duplicate rule id" in error
    dup_key = rule_file(("T-1", "cross_border_transfer", "points: 1")).replace("edition:", "jurisdiction: x\nedition:")
    [error] = errors_of(dup_key, tmp_path)
    assert "duplicate key 'jurisdiction'" in error


def test_cross_references(tmp_path: Path, small_rules: str) -> None:
    broken = small_rules.replace("source: ds, article", "source: cac, article", 1).replace(
        "    tier: high\n", "    tier: prohibited\n", 1)
    errors = errors_of(broken, tmp_path)
    assert any("rule T-DEEPFAKE: tier 'prohibited' is not declared" in e for e in errors)
    assert any("rule T-DEEPFAKE: legal basis cites unknown source 'cac'" in e for e in errors)


def test_highest_needs_a_tier_on_every_rule(tmp_path: Path, small_rules: str) -> None:
    broken = small_rules.replace("combine: {method: score, thresholds: {medium: 2, high: 4}}",
                                 "combine: {method: highest}")
    errors = errors_of(broken, tmp_path)
    assert [e.split(": ", 2)[1] for e in errors] == ["rule T-SCALE", "rule T-MINORS"]


def test_obligation_durations_are_iso_8601(tmp_path: Path, small_rules: str) -> None:
    broken = small_rules.replace("every: P3M", "every: quarterly")
    [error] = errors_of(broken, tmp_path)
    assert f"FILE:{line_of(broken, 'quarterly')}:" in error and "does not match" in error


# --- schema version 2: text, exemptions, findings -------------------------------------------

V2_EXTRA = """\
signals:
  scoring:
    label: {zh: 社会评分, en: social scoring}
    phrases: {zh: [社会评分], en: [social scor*]}
text_checks:
  - {id: T-TXT, signal: scoring, question: social_scoring, raises_to: high,
     message: {zh: 提示, en: hint}, legal_basis: [{source: ds, article: {zh: 条, en: Art}, text: {zh: 文, en: text}}]}
exemptions:
  - id: T-EX
    requires: {fraud_detection_only: ["yes"]}
    justification: fraud_detection_only
    suspends: [T-1]
    reason: {zh: 豁免, en: exempt}
    legal_basis: [{source: ds, article: {zh: 条, en: Art}, text: {zh: 文, en: text}}]
"""


def v2(*rules: tuple[str, str, str], extra: str = V2_EXTRA) -> str:
    return rule_file(*rules).replace("schema_version: 1", "schema_version: 2") + extra


def test_a_version_2_file_loads_its_text_checks_and_exemptions() -> None:
    c = load_and_compile(v2(("T-1", '"decision_making" in capabilities', "tier: high")))
    assert [t.id for t in c.ruleset.text_checks] == ["T-TXT"] and c.ruleset.exemptions[0].suspends == ("T-1",)
    result = c.assess({"capabilities": ["decision_making"], "answers": {"fraud_detection_only": "yes"},
                       "justifications": {"fraud_detection_only": "只检测交易欺诈，不评估信用，也不产生任何评分。"}})
    assert result.tier == "low" and result.suspended == (("T-1", "T-EX"),)


def test_version_2_rules_may_not_read_free_text(tmp_path: Path) -> None:
    text = v2(("T-1", 'description.contains("欺诈")', "tier: high"))
    [error] = errors_of(text, tmp_path)
    assert error.startswith(f"FILE:{line_of(text, 'description.contains')}: rule T-1:")
    assert "reads free text (description)" in error
    # a stored version-1 file that does so still loads (old versions are re-read for explanations)
    assert load_and_compile(rule_file(("T-1", 'description.contains("欺诈")', "tier: high")))


@pytest.mark.parametrize("broken, needle, message", [
    (V2_EXTRA.replace("signal: scoring", "signal: scorin"), "signal: scorin", "unknown signal 'scorin'"),
    (V2_EXTRA.replace("question: social_scoring", "question: social_score"), "question: social_score",
     "unknown question 'social_score'"),
    (V2_EXTRA.replace('fraud_detection_only: ["yes"]', 'fraud_detection_only: ["unknown"]'),
     'fraud_detection_only: ["unknown"]', '"unknown" can never satisfy an exemption'),
    (V2_EXTRA.replace("justification: fraud_detection_only", "justification: social_scoring"),
     "justification: social_scoring", "justification must name a required question"),
    (V2_EXTRA.replace("suspends: [T-1]", "suspends: [T-9]"), "suspends: [T-9]", "suspends unknown rule or finding 'T-9'"),
])
def test_version_2_cross_checks_name_the_line(tmp_path: Path, broken: str, needle: str, message: str) -> None:
    text = v2(("T-1", '"decision_making" in capabilities', "tier: high"), extra=broken)
    errors = errors_of(text, tmp_path)
    assert any(e.startswith(f"FILE:{line_of(text, needle)}:") and message in e for e in errors), errors
