"""The regulator's review queue: flagged current assessments with their evidence; clearing them
with a written reason; a re-tiering keeps a clearance only while the flags stay the same."""

from __future__ import annotations

from typing import Any

import pytest

from tierwatch.core.errors import Forbidden, Invalid, NotFound
from tierwatch.registry import audit
from tierwatch.registry import service as registry_service
from tierwatch.risk.flags import clear_flags, review_queue
from tierwatch.risk.service import assess_application
from tests.unit.risk.conftest import CN_GD, EU
from tests.unit.risk.test_service import activate, file_and_submit

REASON = "已核实：说明中的“实时人脸比对”指门禁一对一核验，不在公共场所使用。"


@pytest.fixture
def flagged(container: Any, world: Any) -> dict[str, int]:
    activate(container, CN_GD)
    activate(container, EU)
    return {
        # the text speaks of live face matching, the form says no: contradiction, with the evidence
        "contradicted": file_and_submit(
            container, world, name="门禁识别", capabilities=["biometric_identification"], domain="other",
            scenario="在车站对旅客进行实时人脸比对", audiences=["business"], personal_info=["biometric"],
            answers={"rbi_remote": "no", "rbi_real_time": "no", "rbi_public_spaces": "no",
                     "rbi_law_enforcement": "no", "biometric_verification_only": "no", "infers_emotions": "no",
                     "biometric_categorisation_sensitive": "no", "untargeted_face_scraping": "no"}),
        "quiet": file_and_submit(container, world, name="仓储路径优化", capabilities=["decision_making"],
                                 domain="other", scenario="仓库拣货路径规划", description="仓库拣货路径规划",
                                 audiences=["business"], personal_info=[],
                                 answers={"intended_purpose": ["none"], "profiling": "no"}),
    }


def test_the_queue_lists_flagged_filings_with_their_evidence(container: Any, world: Any,
                                                             flagged: dict[str, int]) -> None:
    with container.uow() as uow:
        queue = review_queue(uow, world.regulator, "eu")
        ids = {i.application_id for i in queue.items}
        assert flagged["contradicted"] in ids and flagged["quiet"] not in ids
        item = next(i for i in queue.items if i.application_id == flagged["contradicted"])
        contradictions = [f for f in item.flags if f["kind"] == "text_contradicts_answer"]
        assert contradictions and all(f["evidence"]["answer"] == "no" and "实时人脸比对" in f["evidence"]["snippet"]
                                      for f in contradictions)
        assert "EU-TXT-5H" in {f["id"] for f in contradictions}
        assert item.tier == "low"  # the tier follows the explicit answers; the contradiction is a reviewer's
        only = review_queue(uow, world.analyst, "eu", kind="text_contradicts_answer")
        assert [i.application_id for i in only.items] == [flagged["contradicted"]]
        assert only.by_kind["text_contradicts_answer"] == 1
        with pytest.raises(Forbidden):
            review_queue(uow, world.a)


def test_clearing_needs_a_regulator_and_a_reason_and_lasts_while_the_flags_do(
        container: Any, world: Any, flagged: dict[str, int]) -> None:
    app_id = flagged["contradicted"]
    with container.uow() as uow:
        with pytest.raises(Forbidden):
            clear_flags(uow, world.analyst, app_id, "eu", REASON)
        with pytest.raises(Invalid):
            clear_flags(uow, world.regulator, app_id, "eu", "看过了")
        with pytest.raises(NotFound):
            clear_flags(uow, world.regulator, flagged["quiet"], "eu", REASON)
        clear_flags(uow, world.regulator, app_id, "eu", REASON)
        uow.commit()
    with container.uow() as uow:
        assert app_id not in {i.application_id for i in review_queue(uow, world.regulator, "eu").items}
        entry = audit.list_entries(uow, entity="application")[0]
        assert entry.action == "risk.flags_cleared" and entry.reason == REASON
    activate(container, EU.read_text(encoding="utf-8"))  # the same rules again: same flags, still cleared
    with container.uow() as uow:
        assert app_id not in {i.application_id for i in review_queue(uow, world.regulator, "eu").items}
    # re-tiered with other flags (here: an answer withdrawn): back in the queue
    with container.uow() as uow:
        version = registry_service.latest_version(registry_service.get_application(uow, world.a, app_id))
        fields = registry_service.version_fields(version)
        del fields["answers"]["rbi_public_spaces"]
        assess_application(uow, app_id, version.id, fields)
        uow.commit()
    with container.uow() as uow:
        assert app_id in {i.application_id for i in review_queue(uow, world.regulator, "eu").items}


def test_an_exemption_flag_shows_the_answer_and_the_justification_it_rests_on(container: Any, world: Any) -> None:
    activate(container, EU)
    why = "本系统只标记可疑交易供人工调查，不评估借款人信用，也不产生信用评分。"
    app_id = file_and_submit(container, world, name="交易反欺诈", domain="finance", capabilities=["detection"],
                             answers={"fraud_detection_only": "yes", "intended_purpose": ["none"]},
                             justifications={"fraud_detection_only": why})
    with container.uow() as uow:
        [item] = [i for i in review_queue(uow, world.regulator, "eu").items if i.application_id == app_id]
    [flag] = [f for f in item.flags if f["id"] == "EU-EX-FRAUD"]
    assert flag["kind"] == "exemption_applied"
    assert flag["values"] == {"fraud_detection_only": "yes", "justifications.fraud_detection_only": why}
