from __future__ import annotations

import re
from datetime import date

import pytest
import sqlalchemy as sa

from tierwatch.registry import audit, service, workflow
from tierwatch.core.errors import Conflict, Forbidden, Invalid, NotFound
from tierwatch.registry.models import Application, ApplicationVersion
from tierwatch.registry.schemas import AmendIn, ApplicationFields, CreateApplicationIn
from tests.unit.registry.factories import full_fields


def _file(container, actor, **fields):
    with container.uow() as uow:
        app = service.create_application(uow, actor, CreateApplicationIn(**full_fields(**fields)))
        uow.commit()
        return app.id


def _do(container, actor, app_id, action, reason=None):
    with container.uow() as uow:
        app = service.transition(uow, actor, app_id, action, reason)
        uow.commit()
        return app.status, app.filing_number


def test_draft_to_approval_and_amendment(container, world):
    app_id = _file(container, world.a)
    assert _do(container, world.a, app_id, "submit") == ("submitted", None)
    assert _do(container, world.regulator, app_id, "start_review")[0] == "under_review"
    status, number = _do(container, world.regulator, app_id, "approve")
    assert status == "approved"
    assert re.fullmatch(r"粤AI备-20\d\d-\d{6}", number)

    with container.uow() as uow:
        service.amend(uow, world.a, app_id, AmendIn(change_note="新增小程序渠道", changed_on=date(2024, 2, 5)))
        service.update_application(uow, world.a, app_id, ApplicationFields(deployment_channels=["app", "web", "mini_program"]))
        uow.commit()
    with container.uow() as uow:
        app = uow.session.get(Application, app_id)
        assert [(v.number, v.status) for v in app.versions] == [(1, "approved"), (2, "draft")]
        assert service.effective_version(app).number == 1  # the approved version stays in force
    _do(container, world.a, app_id, "submit")
    _do(container, world.regulator, app_id, "start_review")
    assert _do(container, world.regulator, app_id, "approve") == ("approved", number)  # same number

    with container.uow() as uow:
        app = uow.session.get(Application, app_id)
        assert [(v.number, v.status) for v in app.versions] == [(1, "superseded"), (2, "approved")]
        assert app.versions[1].deployment_channels == ["app", "web", "mini_program"]
        actions = [e.action for e in reversed(audit.list_entries(uow, entity="application", entity_id=app_id))]
        assert actions == ["application.create", "application.submit", "application.start_review",
                           "application.approve", "application.amend", "application.update",
                           "application.submit", "application.start_review", "application.approve"]
        update = audit.list_entries(uow, entity="application", entity_id=app_id, limit=9)[3]
        assert update.changes == {"deployment_channels": {"before": ["app", "web"],
                                                          "after": ["app", "web", "mini_program"]}}
        assert audit.verify_chain(uow).ok


def test_return_requires_reason_then_resubmit(container, world):
    app_id = _file(container, world.a)
    _do(container, world.a, app_id, "submit")
    with container.uow() as uow, pytest.raises(Invalid) as err:
        service.transition(uow, world.regulator, app_id, "return", "  ")
    assert err.value.errors == [{"field": "reason", "message": "a reason is required to return"}]
    assert _do(container, world.regulator, app_id, "return", "补充安全评估报告")[0] == "returned"
    with container.uow() as uow:
        service.update_application(uow, world.a, app_id, ApplicationFields(security_assessment_done=True, version="1.1"))
        uow.commit()
    assert _do(container, world.a, app_id, "submit")[0] == "submitted"
    with container.uow() as uow:
        entries = audit.list_entries(uow, entity="application", entity_id=app_id)
        assert [e.action for e in entries[:4]] == ["application.submit", "application.update",
                                                   "application.revise", "application.return"]
        assert entries[3].reason == "补充安全评估报告"
        # The returned version stays as the regulator saw it; the edit went into version 2.
        app = service.get_application(uow, world.a, app_id)
        assert [(v.number, v.status, v.version) for v in app.versions] == [(1, "returned", "1.0"), (2, "submitted", "1.1")]


def test_roles_and_states_are_enforced(container, world):
    app_id = _file(container, world.a)
    with container.uow() as uow:
        with pytest.raises(Conflict):
            service.transition(uow, world.regulator, app_id, "approve")  # a draft
        with pytest.raises(Forbidden):
            service.transition(uow, world.a, app_id, "start_review")  # not the company's move
        with pytest.raises(Forbidden):
            service.transition(uow, world.analyst, app_id, "submit")
        with pytest.raises(NotFound):
            service.transition(uow, world.b, app_id, "submit")  # another company's filing
        with pytest.raises(Conflict):
            service.amend(uow, world.a, app_id, AmendIn(change_note="too early"))


def test_incomplete_draft_cannot_be_submitted(container, world):
    with container.uow() as uow:
        app = service.create_application(uow, world.a, CreateApplicationIn(name="半成品"))
        uow.commit()
    with container.uow() as uow, pytest.raises(Invalid) as err:
        service.transition(uow, world.a, app.id, "submit")
    missing = {e["field"] for e in err.value.errors}
    assert {"domain", "capabilities", "human_oversight"} <= missing
    assert "personal_info" not in missing  # "none processed" is a valid answer
    with container.uow() as uow:
        assert uow.session.get(Application, app.id).status == "draft"


def test_filing_numbers_are_sequential_and_unique(container, world):
    numbers = []
    for i in range(3):
        app_id = _file(container, world.a, name=f"应用{i}")
        _do(container, world.a, app_id, "submit")
        _do(container, world.regulator, app_id, "start_review")
        numbers.append(_do(container, world.regulator, app_id, "approve")[1])
    seqs = [int(n.rsplit("-", 1)[1]) for n in numbers]
    assert seqs == [seqs[0], seqs[0] + 1, seqs[0] + 2]
    with container.uow() as uow:
        app = uow.session.scalars(sa.select(Application).where(Application.filing_number == numbers[0])).one()
        other = uow.session.scalars(sa.select(Application).where(Application.filing_number == numbers[1])).one()
        other.filing_number = app.filing_number
        with pytest.raises(sa.exc.IntegrityError):
            uow.session.flush()


def test_iter_current_applications_yields_latest_submitted_version(container, world):
    submitted = _file(container, world.a, name="已提交")
    _file(container, world.a, name="草稿")
    _do(container, world.a, submitted, "submit")
    with container.uow() as uow:
        rows = list(service.iter_current_applications(uow))
        version_id = uow.session.scalars(sa.select(ApplicationVersion.id).where(
            ApplicationVersion.application_id == submitted)).one()
    assert [(r[0], r[1]) for r in rows] == [(submitted, version_id)]
    assert rows[0][2]["name"] == "已提交" and rows[0][2]["capabilities"] == ["text_generation"]


def test_workflow_table_is_pure():
    assert workflow.next_status("submit", "returned", "company") == "submitted"
    with pytest.raises(Invalid):
        workflow.next_status("publish", "draft", "company")


def test_whoever_files_or_submits_a_version_does_not_decide_it(container, world):
    app_id = _file(container, world.admin, company_id=world.company_a)
    _do(container, world.admin, app_id, "submit")
    _do(container, world.admin, app_id, "start_review")  # reviewing one's own filing is allowed ...
    with pytest.raises(Forbidden, match="another regulator"):
        _do(container, world.admin, app_id, "approve")  # ... deciding it is not
    with pytest.raises(Forbidden, match="another regulator"):
        _do(container, world.admin, app_id, "reject", reason="自己驳回")
    assert _do(container, world.regulator, app_id, "approve")[0] == "approved"


def test_a_refused_step_names_the_step_that_comes_first(container, world):
    app_id = _file(container, world.a)
    _do(container, world.a, app_id, "submit")
    with pytest.raises(Conflict, match="cannot approve a filing that is submitted; start review first"):
        _do(container, world.regulator, app_id, "approve")


def test_search_text_is_literal_so_wildcards_match_only_themselves(container, world):
    _file(container, world.a, name="普通应用")
    percent = _file(container, world.a, name="折扣100%助手")
    with container.uow() as uow:
        assert [a.id for a in service.list_applications(uow, world.regulator, q="%")[0]] == [percent]
        assert service.list_applications(uow, world.regulator, q="_")[1] == 0
        assert service.list_applications(uow, world.regulator, q="普通")[1] == 1


def test_counts_by_status_cover_every_status_and_only_what_the_actor_sees(container, world):  # type: ignore[no-untyped-def]
    from tierwatch.registry import service, workflow
    from tierwatch.registry.schemas import CreateApplicationIn
    from tests.unit.registry.factories import full_fields

    with container.uow() as uow:
        first = service.create_application(uow, world.a, CreateApplicationIn(**full_fields()))
        service.create_application(uow, world.a, CreateApplicationIn(**full_fields(name="二号")))
        service.create_application(uow, world.b, CreateApplicationIn(**full_fields(name="乙")))
        service.transition(uow, world.a, first.id, "submit")
        uow.commit()
        assert list(service.count_by_status(uow, world.a)) == list(workflow.STATUSES)
        assert service.count_by_status(uow, world.a)["draft"] == 1
        assert service.count_by_status(uow, world.a)["submitted"] == 1
        assert service.count_by_status(uow, world.b)["draft"] == 1
        regulator = service.count_by_status(uow, world.regulator)
        assert (regulator["draft"], regulator["submitted"], sum(regulator.values())) == (2, 1, 3)
        assert sum(service.count_by_status(uow, world.partner).values()) == 0
