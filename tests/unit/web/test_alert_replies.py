"""The right of reply to an alert (Flask test client, SQLite, embedded search): the company whose
registered application an alert names sees it in its portal (masked, no citizens' texts or codes),
answers on the record, and the regulator reads the answer beside the alert; another company
learns nothing."""

from __future__ import annotations

import re

import sqlalchemy as sa

from tierwatch.monitoring.models import CompanyReply
from tierwatch.registry.models import AuditEntry
from tests.unit.web.conftest import csrf_token, sign_in
from tests.unit.web.test_api_alerts import PHONES, alerts  # noqa: F401

ANSWER = "该号码并非我司客服电话，我们已在应用首页提示用户谨防冒充，并向公安机关报案。"


def _sign_out(client) -> None:  # type: ignore[no-untyped-def]
    client.post("/account/signout", data={"csrf_token": csrf_token(client, "/account/")})


def _reply_url(alerts_: dict[str, int]) -> str:
    return f"/company/notices/{alerts_['app']}/alerts/{alerts_[PHONES[0]]}/reply"


def test_the_company_sees_the_alert_naming_its_application_and_answers_on_the_record(
        client, container, world, alerts):  # noqa: F811
    alert_id = alerts[PHONES[0]]
    sign_in(client, "a@example.cn")
    assert "1 条告警提及贵单位的应用" in client.get("/company/").get_data(as_text=True)
    page = client.get("/company/notices").get_data(as_text=True)
    section = re.search(rf'<section class="panel alert-notice" id="alert-{alert_id}-{alerts["app"]}".*?</section>',
                        page, re.S).group(0)
    assert f"告警 {alert_id}" in section and "测试规则" in section and "安心贷" in section
    assert "1 小时内 2 份举报涉及 +86138…0001" in section  # the generated summary, the number masked
    assert "其中 2 份举报提及安心贷" in section
    # Only the alert naming its application; never the numbers in full, the texts or the codes.
    assert PHONES[0] not in page and PHONES[1][-4:] not in page and "TW-API" not in page and "冒充客服" not in page
    assert f"告警 {alerts[PHONES[1]]} " not in page

    token = csrf_token(client, "/company/notices")
    short = client.post(_reply_url(alerts), data={"csrf_token": token, "text": "不是"})
    assert short.status_code == 422 and "请写 10 至 4000 个字" in short.get_data(as_text=True)
    done = client.post(_reply_url(alerts), data={"csrf_token": token, "text": ANSWER})
    assert done.status_code == 303 and done.headers["Location"].endswith(f"#alert-{alert_id}-{alerts['app']}")
    page = client.get("/company/notices").get_data(as_text=True)
    section = re.search(r'<section class="panel alert-notice".*?</section>', page, re.S).group(0)
    assert ANSWER in section
    assert ANSWER not in page.split('id="alerts"')[0]  # not among the answers about the month's reports
    with container.uow() as uow:
        stored = uow.session.scalars(sa.select(CompanyReply)).one()
        assert (stored.subject, stored.subject_ref, stored.application_id) == ("alert", str(alert_id), alerts["app"])
        audited = uow.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "application.reply")).one()
        assert audited.entity_id == str(alerts["app"])
        assert audited.changes["subject_ref"] == str(alert_id) and audited.reason == ANSWER

    _sign_out(client)
    sign_in(client, "regulator@example.cn")
    html = client.get(f"/regulator/applications/{alerts['app']}").get_data(as_text=True)
    beside = re.search(r'<section class="panel alert-item".*?</section>', html, re.S).group(0)
    assert f"#{alert_id} 测试规则" in beside and ANSWER in beside
    assert "企业尚未就此告警答复" not in beside


def test_another_company_neither_sees_nor_answers_the_alert(client, container, world, alerts):  # noqa: F811
    sign_in(client, "b@example.cn")
    assert "告警提及贵单位" not in client.get("/company/").get_data(as_text=True)
    page = client.get("/company/notices").get_data(as_text=True)
    assert "安心贷" not in page and "测试规则" not in page and "近期没有告警提及贵单位的应用" in page
    token = csrf_token(client, "/company/notices")
    assert client.post(_reply_url(alerts), data={"csrf_token": token, "text": ANSWER}).status_code == 404
    # Nor through an alert that names none of its applications, nor one that does not exist.
    other = f"/company/notices/{alerts['app']}/alerts/{alerts[PHONES[1]]}/reply"
    assert client.post(other, data={"csrf_token": token, "text": ANSWER}).status_code == 404
    _sign_out(client)
    sign_in(client, "a@example.cn")
    token = csrf_token(client, "/company/notices")
    assert client.post(other, data={"csrf_token": token, "text": ANSWER}).status_code == 404  # not naming A's app
    assert client.post(f"/company/notices/{alerts['app']}/alerts/999999/reply",
                       data={"csrf_token": token, "text": ANSWER}).status_code == 404
    _sign_out(client)
    sign_in(client, "regulator@example.cn")
    token = csrf_token(client, "/account/")
    assert client.post(_reply_url(alerts), data={"csrf_token": token, "text": ANSWER}).status_code == 403
    with container.uow() as uow:
        assert uow.session.scalars(sa.select(CompanyReply)).all() == []


def test_an_answer_needs_the_form_token(client, container, world, alerts):  # noqa: F811
    sign_in(client, "a@example.cn")
    assert client.post(_reply_url(alerts), data={"text": ANSWER}).status_code == 400
    assert client.post(_reply_url(alerts), data={"csrf_token": "forged", "text": ANSWER}).status_code == 400
    with container.uow() as uow:
        assert uow.session.scalars(sa.select(CompanyReply)).all() == []


def test_an_alert_closed_as_a_false_positive_is_no_longer_shown(client, container, world, alerts):  # noqa: F811
    from tierwatch.monitoring.alerts.models import Alert

    with container.uow() as uow:
        uow.session.get(Alert, alerts[PHONES[0]]).state = "false_positive"
        uow.commit()
    sign_in(client, "a@example.cn")
    page = client.get("/company/notices").get_data(as_text=True)
    assert "alert-notice" not in page and "近期没有告警提及贵单位的应用" in page
    assert "安心贷" in page  # its reports are still the month's reports
    token = csrf_token(client, "/company/notices")
    assert client.post(_reply_url(alerts), data={"csrf_token": token, "text": ANSWER}).status_code == 404
