"""Alert rule files: the starter set loads; every malformed file names the file, line and rule."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from tierwatch.core.search import Range
from tierwatch.monitoring.alerts.model import AlertRuleInvalid, Tiered
from tierwatch.monitoring.alerts.rules import load_rule, load_rules
from tierwatch.monitoring.alerts.options import FrequencyOptions, ThresholdOptions
from tierwatch.monitoring.alerts.types import TYPES

BASE = """\
schema_version: 1
id: test-rule
title: {zh: 测试, en: Test}
type: frequency
severity: high
owner: fraud-desk
group: identifiers
filter:
  match: {kind: scam, channel: [phone, sms]}
  range: {amount_lost: {gte: 100}}
group_by: ident_phone
window: 2h
threshold: {high: 3, medium: 5, low: 8}
"""


def errors_of(text: str, tmp_path: Path) -> list[str]:
    path = tmp_path / "broken.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(AlertRuleInvalid) as info:
        load_rule(path)
    assert all(e.file == str(path) for e in info.value.errors)
    return [str(e).replace(str(path), "FILE") for e in info.value.errors]


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def test_the_starter_set_covers_every_type_and_names_severity_and_owner() -> None:
    rules = load_rules()
    assert len(rules) >= 15
    assert {r.type for r in rules} == set(TYPES)
    assert len({r.id for r in rules}) == len(rules)
    for rule in rules:
        assert rule.severity.for_tier(None) in ("low", "medium", "high", "critical")
        assert rule.owner and rule.group and rule.title.zh and rule.title.en
        assert rule.filename.endswith(f"{rule.id}.yaml")  # one file per rule, named after it


def test_a_valid_file_becomes_frozen_typed_data() -> None:
    rule = load_rule(BASE)
    assert rule.type == "frequency" and isinstance(rule.options, FrequencyOptions)
    assert rule.options == FrequencyOptions(timedelta(hours=2), Tiered(3, 5, 8, 8, True), "ident_phone")
    assert rule.filter.filters == {"kind": "scam", "channel": ("phone", "sms")}
    assert rule.filter.ranges == {"amount_lost": Range(gte=100)}
    # defaults
    assert (rule.schedule.every, rule.schedule.buffer) == (timedelta(minutes=1), timedelta(minutes=1))
    assert (rule.realert.after, rule.realert.max, rule.reopen_within) == (timedelta(hours=1), None, timedelta(hours=1))
    assert rule.time_field == "reported_at" and rule.by_tier and rule.line == 2 and len(rule.checksum) == 64
    with pytest.raises(AttributeError):
        rule.type = "spike"  # type: ignore[misc]


def test_tiered_thresholds_are_tighter_for_higher_tiers() -> None:
    options = load_rule(BASE).options
    assert isinstance(options, FrequencyOptions)
    assert [options.threshold.for_tier(t) for t in ("prohibited", "high", "medium", "low", None)] == [3, 3, 5, 8, 8]


def test_bad_yaml_names_the_line(tmp_path: Path) -> None:
    broken = BASE.replace("window: 2h", "window: [2h")
    [error] = errors_of(broken, tmp_path)
    assert error.startswith("FILE:") and "invalid YAML" in error


def test_duplicate_key(tmp_path: Path) -> None:
    broken = BASE + "window: 3h\n"
    [error] = errors_of(broken, tmp_path)
    assert error == f"FILE:{len(broken.splitlines())}: duplicate key 'window'"


def test_an_option_of_another_type_points_at_its_line(tmp_path: Path) -> None:
    broken = BASE.replace("window: 2h\n", "window: 2h\nratio: 3\n")
    [error] = errors_of(broken, tmp_path)
    assert error.startswith(f"FILE:{line_of(broken, 'ratio')}: rule test-rule:")
    assert "ratio: not an option of a frequency rule (it takes group_by, threshold, window)" in error


def test_missing_required_option_of_the_type(tmp_path: Path) -> None:
    broken = BASE.replace("threshold: {high: 3, medium: 5, low: 8}\n", "")
    [error] = errors_of(broken, tmp_path)
    assert "rule test-rule:" in error and "'threshold' is a required property" in error


@pytest.mark.parametrize(
    ("old", "new", "needle", "message"),
    [
        ("group_by: ident_phone", "group_by: phone_number", "group_by", "unknown field 'phone_number' for group_by"),
        ("group_by: ident_phone", "group_by: amount_lost", "group_by", "group_by needs a keyword field; 'amount_lost' is number"),
        ("channel: [phone, sms]", "channel: [phone, pigeon]", "channel", "unknown code 'pigeon' for field channel"),
        ("kind: scam,", "kind: fraud,", "kind", "unknown code 'fraud' for field kind"),
        ("kind: scam,", "is_scam: 'yes',", "is_scam", "'is_scam' is a yes/no field"),
        ("{amount_lost: {gte: 100}}", "{region: {gte: 100}}", "range", "a range filter needs a number field"),
        ("{amount_lost: {gte: 100}}", "{amount_lost: {gte: 100, lt: 50}}", "range", "an empty range"),
        ("{high: 3, medium: 5, low: 8}", "{high: 10, medium: 5, low: 8}", "threshold",
         "need high <= medium <= low, got 10, 5, 8"),
        ("window: 2h", "window: 30s", "window", "window 30s is shorter than schedule.every 1m"),
        ("window: 2h", "window: 2 hours", "window", "does not match"),
        ("severity: high", "severity: urgent", "severity", "'urgent' is not one of"),
        ("id: test-rule", "id: Test_Rule", "id", "does not match"),
    ],
)
def test_cross_field_errors_name_the_line(tmp_path: Path, old: str, new: str, needle: str, message: str) -> None:
    broken = BASE.replace(old, new)
    assert broken != BASE
    [error] = errors_of(broken, tmp_path)
    assert error.startswith(f"FILE:{line_of(broken, needle)}:"), error
    assert message in error, error


def test_several_errors_are_reported_together(tmp_path: Path) -> None:
    broken = BASE.replace("group_by: ident_phone", "group_by: nope").replace("window: 2h", "window: 10s")
    errors = errors_of(broken, tmp_path)
    assert len(errors) == 2


THRESHOLD = """\
schema_version: 1
id: big-incident
title: {zh: 测试, en: Test}
type: threshold
severity: {high: critical, medium: high, low: medium}
owner: ai-supervision
group: incidents
field: affected_users
above: {high: 100, medium: 1000, low: 10000}
"""


def test_threshold_rules_need_exactly_one_bound(tmp_path: Path) -> None:
    rule = load_rule(THRESHOLD)
    assert isinstance(rule.options, ThresholdOptions) and rule.options.below is None
    assert rule.severity.for_tier("medium") == "high" and rule.severity.for_tier(None) == "medium"
    both = THRESHOLD + "below: 5\n"
    [error] = errors_of(both, tmp_path)
    assert "exactly one of above or below, got above and below" in error
    assert error.startswith(f"FILE:{line_of(both, 'type:')}:")
    # a bound to stay under is tighter when higher... the other way round for "below"
    below = THRESHOLD.replace("above: {high: 100, medium: 1000, low: 10000}", "below: {high: 100, medium: 1000, low: 10000}")
    [error] = errors_of(below, tmp_path)
    assert "need high >= medium >= low" in error
    # a threshold rule has no window
    [error] = errors_of(THRESHOLD + "window: 1h\n", tmp_path)
    assert "window: not an option of a threshold rule" in error


def test_flatline_expect_needs_group_by(tmp_path: Path) -> None:
    text = THRESHOLD.replace("type: threshold", "type: flatline").replace(
        "field: affected_users\nabove: {high: 100, medium: 1000, low: 10000}\n",
        "window: 6h\nthreshold: 1\nexpect: [feed-a]\n")
    [error] = errors_of(text, tmp_path)
    assert error.startswith(f"FILE:{line_of(text, 'expect')}:") and "set group_by" in error


def test_realert_max_below_after(tmp_path: Path) -> None:
    text = BASE + "realert: {after: 6h, max: 1h}\n"
    [error] = errors_of(text, tmp_path)
    assert "realert max is shorter than realert after" in error


def test_duplicate_rule_ids_across_files(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(BASE, encoding="utf-8")
    (tmp_path / "b.yaml").write_text(BASE, encoding="utf-8")
    (tmp_path / "notes.txt").write_text("ignored", encoding="utf-8")
    with pytest.raises(AlertRuleInvalid) as info:
        load_rules(tmp_path)
    [error] = info.value.errors
    assert error.file.endswith("b.yaml") and error.line == 2 and "already used by" in error.message


def test_errors_of_every_file_come_at_once(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(BASE.replace("id: test-rule", "id: one").replace("window: 2h", "window: 1s"), encoding="utf-8")
    (tmp_path / "b.yaml").write_text("- not a mapping\n", encoding="utf-8")
    with pytest.raises(AlertRuleInvalid) as info:
        load_rules(tmp_path)
    assert [Path(e.file).name for e in info.value.errors] == ["a.yaml", "b.yaml"]


def test_elastalert_option_names_get_a_hint(tmp_path: Path) -> None:
    text = BASE.replace("window: 2h", "timeframe: {hours: 2}").replace("group_by: ident_phone", "query_key: ident_phone")
    errors = errors_of(text, tmp_path)
    assert f"FILE:{line_of(text, 'timeframe')}: rule test-rule: timeframe: ElastAlert's timeframe is window here" in errors
    assert f"FILE:{line_of(text, 'query_key')}: rule test-rule: query_key: ElastAlert's query_key is group_by here" in errors
    assert not any("unexpected" in e for e in errors)
    # any other unknown key is still refused, at its line
    [error] = errors_of(BASE + "colour: red\n", tmp_path)
    assert error.startswith(f"FILE:{len(BASE.splitlines()) + 1}:") and "'colour' was unexpected" in error


def test_exclude_filters_are_typed_and_checked_like_match(tmp_path: Path) -> None:
    text = BASE.replace("  range: {amount_lost: {gte: 100}}", "  exclude: {channel: website, reporter_type: [partner_feed]}")
    rule = load_rule(text)
    assert rule.filter.exclude == {"channel": "website", "reporter_type": ("partner_feed",)}
    broken = text.replace("channel: website,", "channel: carrier_pigeon,")
    [error] = errors_of(broken, tmp_path)
    assert error.startswith(f"FILE:{line_of(broken, 'exclude')}:") and "unknown code 'carrier_pigeon'" in error
    [error] = errors_of(text.replace("exclude: {channel", "exclude: {amount_lost: x, channel"), tmp_path)
    assert "'amount_lost' is a number field" in error


def test_auto_resolve_is_optional_and_compact(tmp_path: Path) -> None:
    assert load_rule(BASE).auto_resolve_after is None  # default: a cleared alert waits for a verdict
    assert load_rule(BASE + "auto_resolve_after: 7d\n").auto_resolve_after == timedelta(days=7)
    [error] = errors_of(BASE + "auto_resolve_after: P7D\n", tmp_path)
    assert error.startswith(f"FILE:{len(BASE.splitlines()) + 1}:") and "auto_resolve_after" in error
