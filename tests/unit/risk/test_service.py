"""Activation, what-if, tiering on submission and overrides, against a migrated SQLite store."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from tierwatch.registry import audit
from tierwatch.registry import service as registry_service
from tierwatch.core.errors import Forbidden, Invalid
from tierwatch.registry.models import ApplicationVersion
from tierwatch.registry.schemas import CreateApplicationIn
from tierwatch.risk import service
from tierwatch.risk.models import RiskAssessment, RuleSetVersion, TierOverride
from tierwatch.risk.ruleset import RuleRuntimeError, RuleSetInvalid
from tests.unit.risk.conftest import CN_GD, EU, fields, rule_file

V1 = rule_file(("T-DEEPFAKE", '"video_deepfake" in capabilities', "tier: high"),
               ("T-SCALE", "monthly_active_users >= 1000000", "points: 2"))
# v2: scale now counts from 100,000 users and is worth enough for high.
V2 = rule_file(("T-DEEPFAKE", '"video_deepfake" in capabilities', "tier: high"),
               ("T-SCALE", "monthly_active_users >= 100000", "points: 4"), edition="t2")
JUSTIFICATION = "经现场核查，该应用实际仅面向内部员工使用，风险显著低于规则推定。"


def file_and_submit(container: Any, world: Any, **overrides: Any) -> int:
    with container.uow() as uow:
        app = registry_service.create_application(uow, world.a, CreateApplicationIn(**fields(**overrides)))
        registry_service.transition(uow, world.a, app.id, "submit")
        uow.commit()
        return app.id


def activate(container: Any, text: Any, actor: Any = "cli") -> service.TierChangeReport:
    with container.uow() as uow:
        report = service.activate_ruleset(uow, text, actor, registry_service.iter_current_applications(uow))
        uow.commit()
        return report


def current(container: Any, app_id: int, jurisdiction: str = "test") -> RiskAssessment:
    with container.uow() as uow:
        row = uow.session.scalars(sa.select(RiskAssessment).where(
            RiskAssessment.application_id == app_id, RiskAssessment.jurisdiction == jurisdiction,
            RiskAssessment.is_current)).one()
        uow.session.expunge(row)
        return row


def snapshot(container: Any) -> tuple[Any, ...]:
    with container.uow() as uow:
        s = uow.session
        return (s.execute(sa.select(RuleSetVersion.id, RuleSetVersion.status)).all(),
                s.execute(sa.select(RiskAssessment.id, RiskAssessment.is_current, RiskAssessment.tier)).all())


@pytest.fixture
def apps(container: Any, world: Any) -> dict[str, int]:
    return {
        "small": file_and_submit(container, world, monthly_active_users=50_000),
        "mid": file_and_submit(container, world, monthly_active_users=300_000),
        "big": file_and_submit(container, world, monthly_active_users=5_000_000),
    }


def test_activation_tiers_everything_and_reports_moves(container: Any, apps: dict[str, int]) -> None:
    first = activate(container, V1)
    assert (first.version, first.retired_version, first.assessed) == (1, None, 3)
    assert sorted((m.application_id, m.before, m.after) for m in first.moves) == sorted(
        [(apps["small"], None, "low"), (apps["mid"], None, "low"), (apps["big"], None, "medium")])
    big = current(container, apps["big"])
    assert (big.tier, big.computed_tier, big.score) == ("medium", "medium", 2)
    # A fired rule stores the fields its condition read; explanations look the values up from
    # the assessed version (issue 14), so the evidence is what was filed.
    assert big.fired_rules == [{"rule_id": "T-SCALE", "fields": ["monthly_active_users"]}]
    with container.uow() as uow:
        assert service.explain(uow, big)["fired_rules"][0]["evidence"] == {"monthly_active_users": 5_000_000}
    assert big.obligations == [{"kind": "self_assessment", "every": "P1Y"}]

    second = activate(container, V2)
    assert (second.version, second.retired_version) == (2, 1)
    assert sorted((m.application_id, m.before, m.after) for m in second.moves) == sorted(
        [(apps["mid"], "low", "high"), (apps["big"], "medium", "high")])
    assert second.matrix[("low", "low")] == 1
    with container.uow() as uow:
        versions = uow.session.execute(sa.select(RuleSetVersion.version, RuleSetVersion.status)
                                       .order_by(RuleSetVersion.version)).all()
        assert versions == [(1, "retired"), (2, "active")]
        assert uow.session.scalar(sa.select(sa.func.count()).select_from(RiskAssessment)) == 6  # history kept
        entries = audit.list_entries(uow, entity="rule_set_version")
        assert [e.action for e in entries] == ["ruleset.activate", "ruleset.activate"]
        assert entries[0].changes["moved"] == 2
        assert audit.verify_chain(uow).ok


def test_simulate_reports_moves_and_writes_nothing(container: Any, apps: dict[str, int]) -> None:
    activate(container, V1)
    before = snapshot(container)
    with container.uow() as uow:
        report = service.simulate(uow, V2, registry_service.iter_current_applications(uow))
        uow.commit()  # even a commit after it has nothing to write
    assert {(m.application_id, m.after) for m in report.moves} == {(apps["mid"], "high"), (apps["big"], "high")}
    assert report.version is None
    assert snapshot(container) == before


def test_a_broken_file_changes_nothing(container: Any, apps: dict[str, int]) -> None:
    activate(container, V1)
    before = snapshot(container)
    with container.uow() as uow, pytest.raises(RuleSetInvalid):
        service.activate_ruleset(uow, V2.replace("tier: high", "tier: urgent"), "cli",
                                 registry_service.iter_current_applications(uow))
    assert snapshot(container) == before


def test_a_run_time_error_on_one_application_changes_nothing(container: Any, world: Any,
                                                             apps: dict[str, int]) -> None:
    activate(container, V1)
    odd = file_and_submit(container, world, monthly_active_users=1_234_567)
    before = snapshot(container)
    failing = rule_file(("T-SCALE", "monthly_active_users >= 100000", "points: 4"),
                        ("T-RATIO", "monthly_active_users / (monthly_active_users - 1234567) >= 0",
                         "points: 1"), edition="t3")
    with container.uow() as uow:
        with pytest.raises(RuleRuntimeError) as info:
            service.activate_ruleset(uow, failing, "cli", registry_service.iter_current_applications(uow))
        assert not uow.session.new and not uow.session.dirty  # raised before the first write
    assert info.value.rule_id == "T-RATIO" and info.value.app_ref == odd
    assert snapshot(container) == before


def test_an_override_survives_re_tiering(container: Any, world: Any, apps: dict[str, int]) -> None:
    activate(container, V1)
    with container.uow() as uow:
        service.override_tier(uow, apps["big"], "test", "low", JUSTIFICATION, world.regulator)
        uow.commit()
    row = current(container, apps["big"])
    assert (row.tier, row.computed_tier, row.disagrees_with_override) == ("low", "medium", True)
    assert row.obligations == [{"kind": "filing"}]

    report = activate(container, V2)
    assert report.disagreements == 1
    assert [m.overridden_to for m in report.moves if m.application_id == apps["big"]] == ["low"]
    row = current(container, apps["big"])
    assert (row.tier, row.computed_tier, row.disagrees_with_override) == ("low", "high", True)
    with container.uow() as uow:
        tier = service.effective_tier(uow, apps["big"], "test")
        assert tier is not None and (tier.tier, tier.computed_tier) == ("low", "high")
        [entry] = [e for e in audit.list_entries(uow, entity="application", entity_id=apps["big"])
                   if e.action == "risk.override"]
        assert entry.reason == JUSTIFICATION
        assert entry.changes["tier"] == {"before": "medium", "after": "low"}
        service.end_override(uow, apps["big"], "test", "复核后恢复规则判定的风险等级，原因已消除。", world.regulator)
        uow.commit()
    row = current(container, apps["big"])
    assert (row.tier, row.override_id, row.disagrees_with_override) == ("high", None, False)
    with container.uow() as uow:
        assert uow.session.scalar(sa.select(sa.func.count()).select_from(TierOverride)
                                  .where(TierOverride.in_force)) == 0


def test_an_override_needs_a_regulator_and_a_written_justification(container: Any, world: Any,
                                                                   apps: dict[str, int]) -> None:
    activate(container, V1)
    with container.uow() as uow:
        with pytest.raises(Invalid) as info:
            service.override_tier(uow, apps["big"], "test", "urgent", "太高了", world.regulator)
        assert {e["field"] for e in info.value.errors} == {"tier", "justification"}
        with pytest.raises(Invalid):
            service.override_tier(uow, apps["big"], "test", "prohibited", JUSTIFICATION, world.regulator)
        with pytest.raises(Forbidden):
            service.override_tier(uow, apps["big"], "test", "low", JUSTIFICATION, world.a)


def test_submission_is_tiered_under_every_active_jurisdiction(container: Any, world: Any) -> None:
    activate(container, CN_GD)
    activate(container, EU)
    app_id = file_and_submit(container, world, name="趣换脸", capabilities=["video_deepfake"],
                             domain="social", audiences=["general"], monthly_active_users=3_000_000)
    with container.uow() as uow:
        rows = service.current_assessments(uow, app_id)
        assert [(r.jurisdiction, r.tier) for r in rows] == [("cn-gd", "high"), ("eu", "medium")]
        explained = service.explain(uow, rows[0])
        ds01 = next(f for f in explained["fired_rules"] if f["rule_id"] == "CN-DS-01")
        assert "换脸" in ds01["reason"]["zh"] and "face-swap" in ds01["reason"]["en"]
        assert ds01["evidence"]["capabilities"] == ["video_deepfake"]
        assert ds01["legal_basis"][0]["article"]["en"] == "Art. 15(2)(1)"
        version_id = uow.session.scalar(sa.select(ApplicationVersion.id).where(
            ApplicationVersion.application_id == app_id))
        assert {r.application_version_id for r in rows} == {version_id}


def test_a_failing_condition_blocks_the_submission(container: Any, world: Any) -> None:
    activate(container, rule_file(("T-MAJOR", "int(version) >= 2", "points: 1")))
    with container.uow() as uow:
        app = registry_service.create_application(uow, world.a, CreateApplicationIn(**fields(version="beta")))
        uow.commit()
        app_id = app.id
    with container.uow() as uow, pytest.raises(RuleRuntimeError):
        registry_service.transition(uow, world.a, app_id, "submit")
    with container.uow() as uow:
        assert registry_service.get_application(uow, world.a, app_id).status == "draft"


def test_activation_refuses_a_changed_file_that_keeps_a_stored_edition_label(container: Any,
                                                                            apps: dict[str, int]) -> None:
    activate(container, V1)
    changed = V1.replace("points: 2", "points: 3")  # same edition label "t1", other content
    with container.uow() as uow:
        with pytest.raises(RuleSetInvalid) as info:
            service.activate_ruleset(uow, changed, "cli", registry_service.iter_current_applications(uow))
        [error] = info.value.errors
        assert "edition 't1' is already used by version 1" in error.message
        assert error.line == changed.splitlines().index('edition: "t1"') + 1
        # a what-if still runs, and says activation would be refused
        report = service.simulate(uow, changed, registry_service.iter_current_applications(uow))
        assert report.edition_warning is not None and "version 1" in report.edition_warning
    activate(container, V2)
    rollback = activate(container, V1)  # identical content under its own label: a rollback
    assert (rollback.version, rollback.retired_version) == (3, 2)


def test_diff_names_the_changed_rules_and_the_moves_they_cause(container: Any, apps: dict[str, int]) -> None:
    activate(container, V1)
    with container.uow() as uow:
        d = service.diff(uow, "test@active", V2)
        assert [(i.kind, i.id, i.change, i.attributes) for i in d.items] == [
            ("rule", "T-SCALE", "changed", ("condition", "points"))]
        assert sorted((m.ref, m.before, m.after, m.caused_by) for m in d.moves) == sorted(
            [(apps["mid"], "low", "high", ("T-SCALE",)), (apps["big"], "medium", "high", ("T-SCALE",))])
        assert d.assessed == 3 and d.edition_conflict is None
        # a file of filings instead of the registry; and a reused label is named
        d2 = service.diff(uow, "test@v1", V1.replace("points: 2", "points: 3"),
                          [("x", {"monthly_active_users": 2_000_000})])
        assert d2.assessed == 1 and d2.edition_conflict is not None
        with pytest.raises(Invalid):
            service.diff(uow, "test@active", CN_GD)  # another jurisdiction


def test_disagreements_count_every_override_in_force_the_rules_contradict(
        container: Any, world: Any, apps: dict[str, int]) -> None:
    """Issue 14: the count used to include only applications that moved."""
    activate(container, V1)
    with container.uow() as uow:
        service.override_tier(uow, apps["big"], "test", "low", JUSTIFICATION, world.regulator)  # rules: medium
        service.override_tier(uow, apps["small"], "test", "low", JUSTIFICATION, world.regulator)  # rules: low
        uow.commit()
    with container.uow() as uow:
        same = service.simulate(uow, V1, registry_service.iter_current_applications(uow))
    assert (len(same.moves), same.disagreements) == (0, 1)  # nothing moves, one override still disagrees
    assert activate(container, V2).disagreements == 1  # big moves to high: still the one


def test_an_override_names_a_jurisdiction_with_rules(container: Any, world: Any, apps: dict[str, int]) -> None:
    activate(container, V1)
    with container.uow() as uow:
        with pytest.raises(Invalid) as info:
            service.override_tier(uow, apps["big"], "atlantis", "high", JUSTIFICATION, world.regulator)
        assert [e["field"] for e in info.value.errors] == ["jurisdiction"]
        assert "known: test" in info.value.errors[0]["message"]


def test_text_matches_are_stored_and_read_back_while_the_signals_stay(container: Any, world: Any) -> None:
    from tierwatch.risk.models import TextMatch

    live = file_and_submit(container, world, name="站点识别", capabilities=["biometric_identification"],
                           scenario="在车站对旅客进行实时人脸比对")
    activate(container, EU)
    with container.uow() as uow:
        rows = uow.session.execute(sa.select(TextMatch.signals_key, TextMatch.matches)).all()
        assert len(rows) == 1 and "realtime_rbi" in rows[0].matches
        first = [(r.tier, r.flags) for r in service.current_assessments(uow, live)]
    # a submission stores the match of its own text at once
    other = file_and_submit(container, world, name="文明积分", scenario="对居民日常行为打分排名")
    with container.uow() as uow:
        assert uow.session.scalar(sa.select(sa.func.count()).select_from(TextMatch)) == 2
        [row] = service.current_assessments(uow, other)
        assert "EU-TXT-5C" in {f["id"] for f in row.flags}
    # the same rules again read the stored matches: same results, nothing new stored
    activate(container, EU.read_text(encoding="utf-8"))
    with container.uow() as uow:
        assert uow.session.scalar(sa.select(sa.func.count()).select_from(TextMatch)) == 2
        assert [(r.tier, r.flags) for r in service.current_assessments(uow, live)] == first
    # a phrase changed: a new key, matched again; the old key's rows go
    changed = EU.read_text(encoding="utf-8").replace('edition: "2024/1689-r2"', 'edition: "2024/1689-r3"').replace(
        "phrases:", "phrases:", 1).replace("潜意识,", "潜意识, 阈下暗示,", 1)
    assert changed != EU.read_text(encoding="utf-8")
    activate(container, changed)
    with container.uow() as uow:
        keys = set(uow.session.scalars(sa.select(TextMatch.signals_key)))
        assert len(keys) == 1 and keys != {rows[0].signals_key}
        assert [(r.tier, r.flags) for r in service.current_assessments(uow, live)] == first


def test_a_mistyped_text_is_named_by_the_engine_not_by_the_text_store(container: Any) -> None:
    from tierwatch.risk.ruleset import ApplicationDataError

    with container.uow() as uow:
        with pytest.raises(ApplicationDataError) as info:
            service.simulate(uow, EU, [(1, 1, fields(description=["not", "a", "text"]))])
    assert info.value.field == "description"
