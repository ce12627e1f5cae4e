"""Linking reports to registered applications by filing number or app name."""

from __future__ import annotations

from registry import service
from registry.schemas import CreateApplicationIn
from tests.unit.registry.factories import full_fields
from monitoring.linking import ApplicationLinker, load_applications


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
