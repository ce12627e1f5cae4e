"""Linking reports to registered applications by filing number or app name."""

from __future__ import annotations

from tierwatch.registry import service
from tierwatch.registry.schemas import CreateApplicationIn
from tests.unit.registry.factories import full_fields
from tierwatch.monitoring.linking import ApplicationLinker, load_applications


def approved_app(container, world, name: str) -> tuple[int, str]:
    with container.uow() as uow:
        app = service.create_application(uow, world.a, CreateApplicationIn(**full_fields(name=name)))
        uow.commit()
        app_id = app.id
    for actor, action in ((world.a, "submit"), (world.regulator, "start_review"), (world.regulator, "approve")):
        with container.uow() as uow:
            app = service.transition(uow, actor, app_id, action)
            uow.commit()
            filing = app.filing_number
    return app_id, filing


def test_links_by_filing_number_then_by_normalised_name(container, world):
    app_id, filing = approved_app(container, world, "安心贷 APP")
    with container.uow() as uow:
        draft = service.create_application(uow, world.b, CreateApplicationIn(**full_fields(name="草稿助手")))
        uow.commit()

    def load():
        with container.uow() as uow:
            return load_applications(uow.session)

    linker = ApplicationLinker(load)
    assert linker.find(filing_number=filing).application_id == app_id
    assert linker.find(names=["不存在", "安心贷"]).application_id == app_id  # 'APP' and spaces folded
    assert linker.find(names=["ＡＮ心贷"]) is None
    assert linker.find(names=["草稿助手"]) is None  # drafts are not registered applications
    assert draft.id != app_id


def test_snapshot_is_reloaded_after_invalidate():
    apps = [(1, "快贷宝", None)]
    linker = ApplicationLinker(lambda: list(apps), ttl=3600)
    assert linker.find(names=["闪电借"]) is None
    apps.append((2, "闪电借", "Guangdong-X-2026-0002"))
    assert linker.find(names=["闪电借"]) is None  # cached
    linker.invalidate()
    assert linker.find(names=["闪电借"]).application_id == 2
    assert linker.find(filing_number="guangdong-x-2026-0002").application_id == 2


def test_linked_application_carries_its_strictest_tier_in_force(container, world):
    from tierwatch.registry import service as registry_service
    from tierwatch.risk import service as risk_service
    from tierwatch.risk.ruleset import TIER_RANK
    from tests.unit.risk.conftest import CN_GD, EU

    app_id, _ = approved_app(container, world, "刷脸认证助手")
    linker = ApplicationLinker(lambda: load(container), ttl=3600)
    assert linker.tier_of(app_id) is None  # no rule set active yet: not tiered
    with container.uow() as uow:
        for rules in (CN_GD, EU):
            risk_service.activate_ruleset(uow, rules, "cli", registry_service.iter_current_applications(uow))
        uow.commit()
    with container.uow() as uow:
        in_force = [risk_service.effective_tier(uow, app_id, j) for j in ("cn-gd", "eu")]
    expected = max((t.tier for t in in_force if t), key=TIER_RANK.__getitem__)
    assert linker.tier_of(app_id) is None  # the snapshot is only reloaded after its ttl
    linker.invalidate()
    assert linker.tier_of(app_id) == expected
    assert linker.find(names=["刷脸认证助手"]).tier == expected
    assert expected != "prohibited"  # the override below must raise it
    # An override in force changes what the index will carry after the next reload.
    with container.uow() as uow:
        risk_service.override_tier(uow, app_id, "eu", "prohibited",
                                   "人工复核认定该应用以刷脸认证为名实施诈骗，予以改判", world.regulator)
        uow.commit()
    linker.invalidate()
    assert linker.tier_of(app_id) == "prohibited"
    assert linker.tier_of(None) is None


def load(container):
    with container.uow() as uow:
        return load_applications(uow.session)


def test_worker_indexes_reports_with_the_linked_applications_tier(container, world):
    import json

    from tierwatch.monitoring.indexing import REPORTS_INDEX
    from tierwatch.monitoring.loadgen import synthetic_reports
    from tierwatch.monitoring.scoring import RuleScorer
    from tierwatch.core.settings import IntakeSettings
    from tierwatch.monitoring.worker import Worker
    from tierwatch.registry import service as registry_service
    from tierwatch.risk import service as risk_service
    from tests.unit.risk.conftest import CN_GD

    app_id, _ = approved_app(container, world, "刷脸认证助手")
    with container.uow() as uow:
        risk_service.activate_ruleset(uow, CN_GD, "cli", registry_service.iter_current_applications(uow))
        uow.commit()
    with container.uow() as uow:
        tier = risk_service.effective_tier(uow, app_id, "cn-gd").tier
    settings = IntakeSettings(batch_size=50, poll_timeout=0.05)
    linked, unlinked = (dict(r) for r in synthetic_reports(2, seed=3, prefix="tier"))
    linked["app_name"] = "刷脸认证助手"
    unlinked.pop("app_name", None)
    container.bus.ensure_topics([settings.scam_topic])
    for report in (linked, unlinked):
        container.bus.publish(settings.scam_topic, json.dumps(report, ensure_ascii=False).encode(),
                              key=report["report_id"])
    worker = Worker(container.bus, container.search, container.uow, RuleScorer(),
                    ApplicationLinker(lambda: load(container)), settings,
                    report_keys=container.report_keys)
    worker.run(exit_when_idle=0.5)
    doc = container.search.get(REPORTS_INDEX, linked["report_id"])
    assert doc["application_id"] == str(app_id) and doc["tier"] == tier
    assert "tier" not in container.search.get(REPORTS_INDEX, unlinked["report_id"])
