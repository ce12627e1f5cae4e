from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from tierwatch.registry import service, supervision
from tierwatch.core.errors import Conflict, Forbidden, NotFound
from tierwatch.registry.models import Application
from tierwatch.registry.schemas import AmendIn, CreateApplicationIn, ShutdownIn
from tierwatch.registry.supervision import Duty, TierDuties, add_workdays, period_of
from tests.unit.registry.factories import full_fields


def test_working_days_follow_the_official_calendar_with_adjusted_weekends():
    # Spring Festival 2024: 10-17 Feb off; Sunday 4 Feb and Sunday 18 Feb were working days (调休).
    assert supervision.is_workday(date(2024, 2, 4)) == (True, True)
    assert supervision.is_workday(date(2024, 2, 18)) == (True, True)
    assert supervision.is_workday(date(2024, 2, 12)) == (False, True)  # a Monday in the holiday
    # A change on Friday 2 Feb: Sun 4, Mon 5 ... Fri 9 (6 days), holiday, Sun 18 ... Wed 21 (10).
    # Counted Monday-Friday the tenth day would be 16 Feb, inside the holiday.
    assert add_workdays(date(2024, 2, 2), 10) == (date(2024, 2, 21), True)
    assert add_workdays(date(2024, 2, 2), 20)[0] == date(2024, 3, 6)


def test_years_beyond_the_calendar_fall_back_and_say_so():
    due, official = add_workdays(date(2099, 1, 2), 3)  # Friday
    assert (due, official) == (date(2099, 1, 7), False)


def test_periods():
    assert period_of(date(2026, 8, 15), "P3M") == ("2026-P3M-3", date(2026, 9, 30))
    assert period_of(date(2026, 8, 15), "P1Y") == ("2026-P12M-1", date(2026, 12, 31))
    with pytest.raises(ValueError):
        period_of(date(2026, 8, 15), "every quarter")


def _approved(container, world, **fields):
    with container.uow() as uow:
        app = service.create_application(uow, world.a, CreateApplicationIn(**full_fields(**fields)))
        uow.commit()
    for actor, action in ((world.a, "submit"), (world.regulator, "start_review"), (world.regulator, "approve")):
        with container.uow() as uow:
            service.transition(uow, actor, app.id, action)
            uow.commit()
    return app.id


def test_change_and_shutdown_deadlines_open_and_close_with_the_filing(container, world):
    app_id = _approved(container, world)
    with container.uow() as uow:
        service.amend(uow, world.a, app_id, AmendIn(change_note="接入新模型", changed_on=date(2024, 2, 2)))
        uow.commit()
    with container.uow() as uow:
        [task] = supervision.list_tasks(uow, world.a, application_id=app_id)
        assert (task.kind, task.due_on, task.status) == ("change_filing", date(2024, 2, 21), "open")
        assert supervision.mark_overdue(uow, datetime(2024, 2, 22, 1, tzinfo=UTC)) == 1
        uow.commit()
    with container.uow() as uow:
        with pytest.raises(Conflict):  # closes itself when the amendment is filed
            supervision.complete_task(uow, world.a, task.id, None)
        service.transition(uow, world.a, app_id, "submit")
        uow.commit()
    with container.uow() as uow:
        assert supervision.list_tasks(uow, world.regulator, application_id=app_id)[0].status == "done"

    with container.uow() as uow:
        service.transition(uow, world.regulator, app_id, "start_review")
        service.transition(uow, world.regulator, app_id, "approve")
        service.declare_shutdown(uow, world.a, app_id, ShutdownIn(stopped_on=date(2024, 9, 27)))
        uow.commit()
    with container.uow() as uow:
        task = next(t for t in supervision.list_tasks(uow, world.a) if t.kind == "deregistration_filing")
        # 20 working days after Fri 27 Sep 2024: National Day 1-7 Oct off, Sun 29 Sep and Sat 12 Oct worked.
        assert task.due_on == date(2024, 10, 30)
        service.transition(uow, world.a, app_id, "deregister")
        uow.commit()
    with container.uow() as uow:
        assert uow.session.get(Application, app_id).status == "deregistered"
        assert next(t for t in supervision.list_tasks(uow, world.a) if t.kind == "deregistration_filing").status == "done"


DUTIES = {
    "high": (Duty("self_assessment", every="P3M"), Duty("inspection", every="P1Y"),
             Duty("incident_report", within="PT24H")),
    "low": (Duty("incident_report", within="PT72H", ),),
}


def test_generate_due_tasks_from_tier_obligations(container, world):
    high = _approved(container, world, name="人脸核身")
    low = _approved(container, world, name="文案助手")
    tiers = {high: "high", low: "low"}

    def source(_uow, app_id):
        return [TierDuties("cn-gd", tiers[app_id], DUTIES[tiers[app_id]])]

    now = datetime(2026, 8, 15, 2, tzinfo=UTC)
    with container.uow() as uow:
        assert supervision.generate_due_tasks(uow, now, source) == 2
        assert supervision.generate_due_tasks(uow, now, source) == 0  # idempotent
        uow.commit()
    with container.uow() as uow:
        tasks = supervision.list_tasks(uow, world.regulator)
        assert {(t.application_id, t.kind, t.due_on, t.tier) for t in tasks} == {
            (high, "self_assessment", date(2026, 9, 30), "high"),
            (high, "inspection", date(2026, 12, 31), "high")}
        assert supervision.list_tasks(uow, world.b) == []  # company B sees none of A's tasks
        assessment = next(t for t in tasks if t.kind == "self_assessment")
        with pytest.raises(NotFound):
            supervision.complete_task(uow, world.b, assessment.id, "nope")
        with pytest.raises(Forbidden):
            supervision.complete_task(uow, world.a, next(t for t in tasks if t.kind == "inspection").id, None)
        supervision.complete_task(uow, world.a, assessment.id, "自评估报告已提交")
        uow.commit()
    with container.uow() as uow:  # next quarter: a new self-assessment
        assert supervision.generate_due_tasks(uow, datetime(2026, 10, 2, tzinfo=UTC), source) == 1
        assert supervision.mark_overdue(uow, datetime(2027, 1, 2, tzinfo=UTC)) == 2  # Q4 + inspection


def test_tasks_follow_the_stored_tiers_of_the_providers_own_regime(container, world):
    from tests.unit.registry.factories import activate_shipped_rules
    from tierwatch.risk.service import supervision_duties

    activate_shipped_rules(container)
    app_id = _approved(container, world, name="换脸特效", capabilities=["video_deepfake", "biometric_identification"],
                       personal_info=["biometric"], monthly_active_users=3_000_000, content_labelling=False)
    with container.uow() as uow:
        [cn] = [d for d in supervision_duties(uow, app_id) if d.jurisdiction == "cn-gd"]
        assert cn.tier == "high"
        supervision.generate_due_tasks(uow, datetime(2026, 5, 1, tzinfo=UTC), supervision_duties)
        tasks = supervision.list_tasks(uow, world.a, application_id=app_id)
        # a company in China is supervised under cn-gd only, though the EU tier is stored beside it
        assert {(t.kind, t.jurisdiction, t.due_on) for t in tasks} == {
            ("self_assessment", "cn-gd", date(2026, 6, 30)), ("inspection", "cn-gd", date(2026, 12, 31))}


def test_regime_applies_by_provider_country():
    assert supervision.regime_applies("cn-gd", "CN") and not supervision.regime_applies("cn-gd", "NL")
    assert supervision.regime_applies("eu", "NL") and not supervision.regime_applies("eu", "GB")
    assert supervision.regime_applies("uk-dsit", "GB")  # unknown regimes bind everyone
