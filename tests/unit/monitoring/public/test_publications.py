"""Warnings and case stories: drafted from an alert by an analyst, published and withdrawn by a
regulator, audited, and refused when they name a person."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from tierwatch.core.errors import Conflict, Forbidden, Invalid, NotFound
from tierwatch.monitoring.public import publications
from tierwatch.monitoring.public.schemas import PublicationIn
from tierwatch.registry.models import AuditEntry

SCAM_PHONE = "phone:+8613800138000"


def warning(**overrides) -> PublicationIn:
    fields = {
        "kind": "warning", "title_zh": "警惕冒充亲友的AI克隆声音电话",
        "summary_zh": "多名市民接到声音与亲属一模一样的来电，要求紧急转账。",
        "body_zh": "来电号码 138 0013 8000 自称是您的孩子，声音由 AI 克隆。请挂断后用原号码回拨核实。",
        "title_en": "Beware of cloned voices of relatives", "scam_type": "impersonate_acquaintance",
        "ai_techniques": ["cloned_voice"], "identifiers": [SCAM_PHONE], "occurred_on": date(2026, 3, 1),
        "source_alert_id": "alert-42", "report_ids": ["report-0001", "report-0002"],
    }
    return PublicationIn(**{**fields, **overrides})


def test_an_analyst_drafts_from_an_alert_and_a_regulator_publishes(container, world):
    with container.uow() as uow:
        draft = publications.draft(uow, world.analyst, warning())
        uow.commit()
    with container.uow() as uow:
        assert [p.id for p in publications.list_drafts(uow, world.regulator)] == [draft.id]
        assert publications.list_published(uow) == ([], 0)
        with pytest.raises(NotFound):
            publications.get_published(uow, draft.id)  # a draft is not public
        with pytest.raises(Forbidden):
            publications.publish(uow, world.analyst, draft.id)  # analysts draft, regulators publish
        published = publications.publish(uow, world.regulator, draft.id)
        uow.commit()
    assert published.status == "published" and published.published_by == "regulator@example.cn"
    with container.uow() as uow:
        assert publications.get_published(uow, draft.id).title_zh.startswith("警惕")
        assert [p.id for p in publications.published_for_report(uow, "report-0002")] == [draft.id]
        assert [p.id for p in publications.published_for_identifiers(uow, [SCAM_PHONE])] == [draft.id]
        assert publications.published_for_identifiers(uow, ["phone:+8613900139000"]) == []
        assert publications.list_drafts(uow, world.regulator) == []
        actions = uow.session.scalars(sa.select(AuditEntry.action).where(AuditEntry.entity == "publication")
                                      .order_by(AuditEntry.id)).all()
    assert actions == ["publication.draft", "publication.publish"]


def test_withdrawn_publications_leave_the_public_pages(container, world):
    with container.uow() as uow:
        p = publications.draft(uow, world.regulator, warning())
        publications.publish(uow, world.regulator, p.id)
        with pytest.raises(Invalid):
            publications.withdraw(uow, world.regulator, p.id, "")  # a reason is required
        publications.withdraw(uow, world.regulator, p.id, "号码已由运营商停机")
        uow.commit()
    with container.uow() as uow:
        assert publications.list_published(uow)[1] == 0
        assert publications.published_for_report(uow, "report-0001") == []
        with pytest.raises(Conflict):
            publications.publish(uow, world.regulator, p.id)  # withdrawn is final
        with pytest.raises(Conflict):
            publications.withdraw(uow, world.regulator, p.id, "again, twice")


def test_a_draft_is_edited_until_published_and_never_after(container, world):
    with container.uow() as uow:
        p = publications.draft(uow, world.analyst, warning())
        publications.update_draft(uow, world.analyst, p.id, warning(title_zh="警惕AI克隆声音", report_ids=["report-0003"]))
        assert p.title_zh == "警惕AI克隆声音"
        publications.publish(uow, world.admin, p.id)
        with pytest.raises(Conflict):
            publications.update_draft(uow, world.analyst, p.id, warning())
        uow.commit()
    with container.uow() as uow:  # the reports of both versions of the draft fed it
        assert {r for r in ("report-0001", "report-0003") if publications.published_for_report(uow, r)} == {
            "report-0001", "report-0003"}


def test_a_case_story_naming_a_person_is_refused_with_the_field(container, world):
    story = warning(kind="case_story", identifiers=[],
                    body_zh="受害人（电话13912345678，身份证44030519900101123X）被骗走 5 万元，请大家警惕。")
    with container.uow() as uow:
        p = publications.draft(uow, world.analyst, story)
        with pytest.raises(Invalid) as refused:
            publications.publish(uow, world.regulator, p.id)
    fields = {(e["field"], e["message"].split()[0]) for e in refused.value.errors}
    assert fields == {("body_zh", "phone"), ("body_zh", "resident_id")}
    assert all("13912345678" not in e["message"] for e in refused.value.errors)  # masked in the message


def test_a_warning_may_name_only_the_identifiers_it_declares(container, world):
    with container.uow() as uow:
        ok = publications.draft(uow, world.regulator, warning())
        publications.publish(uow, world.regulator, ok.id)
        other = publications.draft(uow, world.regulator, warning(identifiers=[]))
        with pytest.raises(Invalid) as refused:
            publications.publish(uow, world.regulator, other.id)
    assert [e["field"] for e in refused.value.errors] == ["body_zh"]


def test_companies_and_partners_may_not_draft(container, world):
    with container.uow() as uow:
        for actor in (world.a, world.partner):
            with pytest.raises(Forbidden):
                publications.draft(uow, actor, warning())


def test_input_is_checked_field_by_field():
    from pydantic import ValidationError

    with pytest.raises(ValidationError) as bad:
        PublicationIn(kind="rumour", title_zh="x", summary_zh="s", body_zh="short", scam_type="lottery",
                      ai_techniques=["telepathy"], identifiers=["nonsense"])
    assert {e["loc"][0] for e in bad.value.errors()} == {
        "kind", "title_zh", "summary_zh", "body_zh", "scam_type", "ai_techniques", "identifiers"}
