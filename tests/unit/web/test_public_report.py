"""Report a scam, then follow it: the wizard works without JavaScript (answers travel in the form,
never in the session), checks each step, previews everything, sends through the intake once
however often it is sent, and the status page tells the reporter what happened to it."""

from __future__ import annotations

import re

import sqlalchemy as sa
from flask import Flask

from tierwatch.monitoring.models import Report, ReportContact
from tests.unit.web.public_world import REPORT_ANSWERS, form_fields, report_through_the_form, run_worker


def english(client) -> None:
    client.set_cookie("tw_lang", "en")


def test_a_citizen_reports_without_javascript_and_gets_a_tracking_code(app: Flask, client, container):
    english(client)
    status_url, fields = report_through_the_form(client, contact={"phone": "13700137000"})
    code = re.search(r"/status/(TW-[0-9A-Z]{10})\?sent=1$", status_url).group(1)
    # Every answer travelled in the form; the session cookie carries none of them.
    assert fields["description"] == REPORT_ANSWERS[0]["description"] and fields["phones"] == "138 0013 8000"
    with client.session_transaction() as session:
        assert not any(isinstance(v, str) and "儿子" in v for v in session.values())
    receipt = client.get(status_url).get_data(as_text=True)
    assert code in receipt and "Your report has been received" in receipt and "96110" in receipt
    run_worker(container)
    with container.uow() as uow:
        row = uow.session.scalars(sa.select(Report).where(Report.tracking_code == code)).one()
        contact = container.report_keys.contacts.open(uow.session.get(ReportContact, row.report_id).sealed)
        assert (row.channel, row.ai_techniques, row.amount_lost, row.payment_method, row.region,
                row.reporter_type) == ("phone", ["cloned_voice"], 5000.0, "alipay", "广东省深圳市", "citizen")
        assert row.occurred_at.isoformat() == "2026-03-01T04:00:00+00:00"  # noon in Guangdong
        assert contact == {"phone": "13700137000"} and row.reporter_key  # a pseudonym, not the phone
        assert "13700137000" not in row.reporter_key
    page = client.get(f"/status/{code}").get_data(as_text=True)
    assert "+86 138 0013 8000" in page and "Analysed by our detectors" in page
    assert "儿子" not in page and "13700137000" not in page  # neither the words nor the contact


def test_sending_twice_is_one_report(client, container):
    status_url, fields = report_through_the_form(client)
    again = client.post("/report", data={**fields, "action": "send"})
    assert again.headers["Location"] == status_url  # the same tracking code
    run_worker(container)
    with container.uow() as uow:
        assert uow.session.scalar(sa.select(sa.func.count()).select_from(Report)) == 1


def test_each_step_is_checked_and_back_keeps_the_answers(client):
    english(client)
    first = client.get("/report").get_data(as_text=True)
    empty = client.post("/report", data={**form_fields(first), "action": "next"})
    assert empty.status_code == 422
    page = empty.get_data(as_text=True)
    assert 'id="description-error"' in page and 'aria-invalid="true"' in page and 'href="#description"' in page
    step2 = client.post("/report", data={**form_fields(page), **REPORT_ANSWERS[0], "action": "next"}).get_data(as_text=True)
    assert "Step 2 of 6" in step2
    bad = client.post("/report", data={**form_fields(step2), "action": "next"})  # no channel chosen
    assert bad.status_code == 422 and 'id="channel-error"' in bad.get_data(as_text=True)
    back = client.post("/report", data={**form_fields(step2), "action": "back"}).get_data(as_text=True)
    assert "Step 1 of 6" in back and REPORT_ANSWERS[0]["description"] in back


def test_wrong_amounts_emails_and_dates_are_refused_at_their_step(client):
    english(client)
    page = client.get("/report").get_data(as_text=True)
    future = client.post("/report", data={**form_fields(page), **REPORT_ANSWERS[0], "occurred_on": "2999-01-01",
                                          "action": "next"})
    assert future.status_code == 422 and "in the future" in future.get_data(as_text=True)
    fields = {**form_fields(page), **REPORT_ANSWERS[0], **REPORT_ANSWERS[1], **REPORT_ANSWERS[2],
              "step": "money", "amount": "five thousand"}
    money = client.post("/report", data={**fields, "action": "next"})
    assert money.status_code == 422 and "Enter an amount in yuan" in money.get_data(as_text=True)
    ok = client.post("/report", data={**fields, "amount": "¥1,200.50", "action": "next"})
    assert ok.status_code == 200 and "Step 5 of 6" in ok.get_data(as_text=True)
    contact = client.post("/report", data={**fields, "amount": "", "step": "contact", "contact_email": "not-an-address",
                                           "action": "next"})
    assert contact.status_code == 422 and 'id="contact_email-error"' in contact.get_data(as_text=True)


def test_the_preview_shows_every_answer_and_change_goes_back_to_its_step(client):
    english(client)
    page = client.get("/report").get_data(as_text=True)
    fields = {**form_fields(page), **REPORT_ANSWERS[0], **REPORT_ANSWERS[1], **REPORT_ANSWERS[2], **REPORT_ANSWERS[3],
              "step": "contact"}
    preview = client.post("/report", data={**fields, "action": "next"}).get_data(as_text=True)
    for shown in ("有人用我儿子的声音打电话", "Shenzhen", "cloned voice", "138 0013 8000", "5000 yuan", "Alipay"):
        assert shown in preview, shown
    change = client.post("/report", data={**form_fields(preview), "action": "edit:money"}).get_data(as_text=True)
    assert "Step 4 of 6" in change and 'value="5000"' in change


def test_a_report_that_the_broker_does_not_take_keeps_every_answer(client, container, monkeypatch):
    english(client)

    def refuse(*args, **kwargs):
        raise ConnectionError("broker down")

    monkeypatch.setattr(container.bus, "publish", refuse)
    page = client.get("/report").get_data(as_text=True)
    fields = {**form_fields(page), **REPORT_ANSWERS[0], **REPORT_ANSWERS[1], "step": "preview"}
    response = client.post("/report", data={**fields, "action": "send"})
    assert response.status_code == 503
    body = response.get_data(as_text=True)
    assert "press Send again" in body and REPORT_ANSWERS[0]["description"] in body


def test_the_status_of_an_unknown_code_is_404_and_says_why(client):
    english(client)
    response = client.get("/status/TW-ABCDE23456")
    assert response.status_code == 404 and "no report with the code TW-ABCDE23456" in response.get_data(as_text=True)
    assert client.get("/status?code=tw abcde23456").headers["Location"] == "/status/TW-ABCDE23456"
    assert client.get("/status?code=hello").status_code == 422
