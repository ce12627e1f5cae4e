"""`rules diff`: item changes by id, moves with their causes, the edition-label guard."""

from __future__ import annotations

from pathlib import Path

import pytest

from tierwatch.risk.diff import DiffRefused, diff_rulesets, edition_conflict, render
from tierwatch.risk.engine import load_and_compile
from tests.unit.risk.conftest import CN_GD, EU, rule_file
from tests.unit.risk.test_case_suite import CASES, profile_of

LEGACY = Path(__file__).resolve().parent / "legacy_rules"  # the version-1 files as shipped before issue 14


def test_a_points_change_moves_exactly_the_filings_it_should_and_names_the_rule() -> None:
    old_text = rule_file(("T-SCALE", "monthly_active_users >= 1000000", "points: 2"),
                         ("T-MINORS", '"minors" in audiences', "points: 2"))
    new_text = old_text.replace("points: 2\n    reason: {zh: 理由T-SCALE", "points: 4\n    reason: {zh: 理由T-SCALE")
    assert new_text != old_text
    filings = [(1, {"monthly_active_users": 2_000_000}), (2, {"audiences": ["minors"]}), (3, {})]
    d = diff_rulesets(load_and_compile(old_text), load_and_compile(new_text), filings)
    assert [(i.kind, i.id, i.change, i.attributes) for i in d.items] == [("rule", "T-SCALE", "changed", ("points",))]
    assert [(m.ref, m.before, m.after, m.caused_by) for m in d.moves] == [(1, "medium", "high", ("T-SCALE",))]
    assert d.assessed == 3 and d.matrix[("medium", "medium")] == 1 and d.matrix[("low", "low")] == 1
    assert d.same_edition_changed  # same label "t1", new content
    assert any("edition label did not" in line for line in render(d))


def test_added_and_removed_rules_are_named() -> None:
    old = load_and_compile(rule_file(("T-A", '"minors" in audiences', "tier: high")))
    new = load_and_compile(rule_file(("T-B", '"elderly" in audiences', "tier: high"), edition="t2"))
    d = diff_rulesets(old, new, [(1, {"audiences": ["minors"]}), (2, {"audiences": ["elderly"]})])
    assert {(i.id, i.change) for i in d.items} >= {("T-A", "removed"), ("T-B", "added")}
    assert {(m.ref, m.caused_by) for m in d.moves} == {(1, ("T-A",)), (2, ("T-B",))}
    assert not d.same_edition_changed


@pytest.mark.parametrize("name, path", [("cn-gd.yaml", CN_GD), ("eu-ai-act.yaml", EU)])
def test_the_version_2_files_against_today_s_over_the_case_suite(name: str, path: Path) -> None:
    old = load_and_compile(LEGACY / name)
    new = load_and_compile(path)
    d = diff_rulesets(old, new, [(cid, profile_of(c)) for cid, c in CASES])
    assert d.assessed == len(CASES) and d.moves
    known = {r.id for r in old.ruleset.rules} | {r.id for r in new.ruleset.rules} \
        | {t.id for t in new.ruleset.text_checks} | {e.id for e in new.ruleset.exemptions} | {"combine.thresholds"}
    for m in d.moves:
        assert m.caused_by and set(m.caused_by) <= known, m
    assert d.as_dict()["moves"][0]["caused_by"]


def test_two_jurisdictions_are_not_compared() -> None:
    with pytest.raises(DiffRefused):
        diff_rulesets(load_and_compile(CN_GD), load_and_compile(EU))


def test_a_changed_file_may_not_keep_a_stored_edition_label() -> None:
    rs = load_and_compile(EU).ruleset
    assert edition_conflict(rs, [(1, "2024/1689-r1", "abc"), (2, rs.edition, rs.checksum)]) is None  # rollback
    problem = edition_conflict(rs, [(3, rs.edition, "0" * 64)])
    assert problem is not None and "version 3" in problem and rs.edition in problem
