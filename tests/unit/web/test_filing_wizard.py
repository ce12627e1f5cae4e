"""The filing wizard's question steps (Flask test client, SQLite): the tiering rules' questions in
a few titled steps, a new vocabulary field still asked in "More questions", and the written
justification an exemption answer needs, saved into `justifications` with its errors pinned
beside it and shown on the review step and to the regulator."""

from __future__ import annotations

import pytest

from tierwatch.registry import service
from tierwatch.registry.models import Application
from tierwatch.registry.schemas import CreateApplicationIn
from tierwatch.registry.vocab import ANSWER_FIELDS, APPLICATION_FIELDS, QUESTIONS
from tierwatch.web import filing
from tests.unit.registry.factories import full_fields
from tests.unit.web.conftest import csrf_token, sign_in

REASON = "仅对交易流水做欺诈模式检测，结果只交反欺诈团队人工核查，不用于授信或信用评分。"


@pytest.fixture
def draft(container, world) -> int:
    with container.uow() as uow:
        app = service.create_application(uow, world.a, CreateApplicationIn(**full_fields(domain="finance")))
        uow.commit()
        return app.id


def _post(client, path, data):
    return client.post(path, data={"csrf_token": csrf_token(client, path), **data})


def _stored(container, app_id):
    with container.uow() as uow:
        return service.version_fields(service.latest_version(uow.session.get(Application, app_id)))


def test_the_questions_are_asked_in_short_titled_steps():
    steps = filing.sections()
    keys = [s.key for s in steps]
    assert keys[-4:] == ["who", "biometrics", "practices", "exemptions"]
    assert filing.MORE.key not in keys  # every question of the vocabulary has its step
    asked = [f for s in steps for f in s.fields]
    assert sorted(asked) == sorted(APPLICATION_FIELDS) and len(asked) == len(set(asked))
    assert max(len(s.fields) for s in steps) <= 10
    assert set(filing.section("exemptions").fields) == {"art6_3_exemption", "fraud_detection_only"}
    assert filing.section_of("rbi_exception") == "biometrics" and filing.section_of("social_scoring") == "practices"
    assert filing.next_section("safeguards").key == "who" and filing.next_section("exemptions") is None


def test_a_field_no_step_names_lands_in_more_questions(monkeypatch):
    monkeypatch.setattr(filing, "APPLICATION_FIELDS", {**APPLICATION_FIELDS, "uses_drones": ("bool", None)})
    last = filing.sections()[-1]
    assert (last.key, last.fields) == (filing.MORE.key, ("uses_drones",))
    assert filing.next_section("exemptions").key == filing.MORE.key


def test_each_step_asks_its_questions_with_a_justification_beside_exemption_answers(client, world, draft):
    sign_in(client, "a@example.cn")
    titles = {"who": "服务对象与用途", "biometrics": "生物特征与情绪识别", "practices": "法律限制的做法",
              "exemptions": "主张的豁免"}
    for step in filing.sections()[-4:]:
        page = client.get(f"/company/applications/{draft}/edit/{step.key}")
        html = page.get_data(as_text=True)
        assert page.status_code == 200 and f"<h2>{titles[step.key]}</h2>" in html
        for name in ANSWER_FIELDS:
            asked = f'name="{name}"' in html
            assert asked == (name in step.fields), (step.key, name)
            boxed = f'name="{name}_justification"' in html
            assert boxed == (name in step.fields and bool(QUESTIONS[name].justify)), (step.key, name)
    page = client.get(f"/company/applications/{draft}/edit/exemptions").get_data(as_text=True)
    # The text area comes right after its question, labelled with the answer that claims the exemption.
    question, box = page.index('name="fraud_detection_only"'), page.index('name="fraud_detection_only_justification"')
    assert question < box < page.index('name="art6_3_exemption"') or page.index('name="art6_3_exemption"') < question < box
    assert "书面理由（如您回答：是）" in page and "说明系统检测哪类欺诈" in page
    assert "书面理由（如您的回答主张豁免）" in page  # art. 6(3): four claiming answers, too long to name
    who = client.get(f"/company/applications/{draft}/edit/who").get_data(as_text=True)
    assert "书面理由（如您的回答主张豁免）" in who and "说明服务对象（哪些单位或部门）" in who


def test_an_exemption_without_its_justification_is_refused_then_saved_with_it(client, container, world, draft):
    sign_in(client, "a@example.cn")
    path = f"/company/applications/{draft}/edit/exemptions"
    answer = _post(client, path, {"art6_3_exemption": "none", "fraud_detection_only": "yes",
                                  "fraud_detection_only_justification": "只检测欺诈"})
    html = answer.get_data(as_text=True)
    assert answer.status_code == 422
    assert 'id="fraud_detection_only_justification-error"' in html and "至少 20 个字" in html
    assert "fraud_detection_only" not in _stored(container, draft)["answers"]  # nothing of the step saved

    answer = _post(client, path, {"art6_3_exemption": "none", "fraud_detection_only": "yes",
                                  "fraud_detection_only_justification": f"  {REASON}  "})
    assert answer.status_code == 303 and answer.headers["Location"].endswith(f"/applications/{draft}/review")
    fields = _stored(container, draft)
    assert fields["answers"]["fraud_detection_only"] == "yes" and fields["answers"]["art6_3_exemption"] == "none"
    assert fields["justifications"] == {"fraud_detection_only": REASON}
    assert REASON in client.get(path).get_data(as_text=True)  # the text area shows it again

    review = client.get(f"/company/applications/{draft}/review").get_data(as_text=True)
    exemptions = review[review.index('id="review-exemptions"'):]
    assert "书面理由" in exemptions and REASON in exemptions
    assert "书面理由" not in review[review.index('id="review-practices"'):review.index('id="review-exemptions"')]


def test_a_justification_beside_an_answer_claiming_nothing_is_refused_and_cleared_with_the_claim(client, container, world, draft):
    sign_in(client, "a@example.cn")
    path = f"/company/applications/{draft}/edit/who"
    answer = _post(client, path, {"offered_to_public": "public", "offered_to_public_justification": REASON})
    html = answer.get_data(as_text=True)
    assert answer.status_code == 422 and 'id="offered_to_public_justification-error"' in html
    assert "仅在您的回答主张豁免时填写理由" in html
    # The API model's own limit, pinned beside the same text area.
    answer = _post(client, path, {"offered_to_public": "internal_only", "offered_to_public_justification": "长" * 4001})
    assert answer.status_code == 422 and 'id="offered_to_public_justification-error"' in answer.get_data(as_text=True)
    assert "4,000" in answer.get_data(as_text=True) or "4000" in answer.get_data(as_text=True)
    assert _post(client, path, {"offered_to_public": "internal_only", "offered_to_public_justification": REASON}).status_code == 303
    assert _stored(container, draft)["justifications"] == {"offered_to_public": REASON}
    # Withdrawing the claim with an emptied text area removes the justification too.
    assert _post(client, path, {"offered_to_public": "public", "offered_to_public_justification": ""}).status_code == 303
    fields = _stored(container, draft)
    assert fields["answers"]["offered_to_public"] == "public" and fields["justifications"] == {}


def test_an_answer_the_api_refuses_is_pinned_beside_its_question(client, container, world, draft):
    sign_in(client, "a@example.cn")
    answer = _post(client, f"/company/applications/{draft}/edit/biometrics", {
        "rbi_remote": "perhaps", "biometric_verification_only": "yes"})
    html = answer.get_data(as_text=True)
    assert answer.status_code == 422 and 'id="rbi_remote-error"' in html and "perhaps" in html
    # The model's error and the missing justification, both at once.
    assert 'id="biometric_verification_only_justification-error"' in html


def test_the_inline_check_names_the_justification_field(client, world, draft):
    sign_in(client, "a@example.cn")
    token = csrf_token(client, f"/company/applications/{draft}/edit/exemptions")
    answer = client.post("/company/applications/check/exemptions", data={
        "csrf_token": token, "fraud_detection_only": "yes", "fraud_detection_only_justification": ""})
    body = answer.get_json()
    assert answer.status_code == 200 and "fraud_detection_only_justification" in body["fields"]
    assert [e["field"] for e in body["errors"]] == ["fraud_detection_only_justification"]
    answer = client.post("/company/applications/check/exemptions", data={
        "csrf_token": token, "fraud_detection_only": "yes", "fraud_detection_only_justification": REASON})
    assert answer.get_json()["errors"] == []


def test_the_regulator_sees_the_claim_and_its_justification(client, container, world, draft):
    with container.uow() as uow:
        service.update_application(uow, world.a, draft, _fields_in({"answers": {"fraud_detection_only": "yes"},
                                                                      "justifications": {"fraud_detection_only": REASON}}))
        service.transition(uow, world.a, draft, "submit")
        uow.commit()
    sign_in(client, "regulator@example.cn")
    page = client.get(f"/regulator/applications/{draft}").get_data(as_text=True)
    assert "书面理由" in page and REASON in page


def _fields_in(data):
    from tierwatch.registry.schemas import ApplicationFields

    return ApplicationFields(**data)
