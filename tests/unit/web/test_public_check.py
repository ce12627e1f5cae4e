"""Check a number: counted by independent reporters, shown only from the minimum, a level one
person cannot move, disputes shown until a regulator decides, registered applications named."""

from __future__ import annotations

import re

import pytest

from tests.unit.web.conftest import csrf_token, session_of
from tests.unit.web.public_world import approved_application, run_worker

NUMBER = "13800138000"
SCAM = {"description": f"冒充客服说要退款，让我打 {NUMBER} 并下载屏幕共享软件", "channel": "phone",
        "ai_techniques": ["chatbot"]}


@pytest.fixture
def check_app(container):
    from tierwatch.web import create_app

    # No cache between reports and checks in these tests: each check sees what was just indexed.
    app = create_app({"TESTING": True, "RATELIMIT_ENABLED": False, "CHECK_CACHE_SECONDS": 0}, container)
    return app


@pytest.fixture
def web(check_app):
    client = check_app.test_client()
    client.set_cookie("tw_lang", "en")
    return client


def report(client, n: int = 1, contact: dict | None = None, **fields) -> str:
    body = {**SCAM, **fields}
    if contact:
        body["reporter_contact"] = contact
    response = client.post("/api/v1/reports/scam", json=body, environ_base={"REMOTE_ADDR": f"10.0.0.{n}"})
    assert response.status_code == 202, response.get_json()
    return response.get_json()["tracking_code"]


def text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


def test_figures_appear_from_three_independent_reporters_on(web, container):
    report(web, 1, {"phone": "13900000001"})
    report(web, 2, {"phone": "13900000002"})
    run_worker(container)
    below = text(web.get("/check?q=138-0013-8000"))
    assert "Fewer than 3 different people have reported it" in below and "Not rated" in below
    assert "Reported" not in below  # not even how many reports there are
    report(web, 3, {"email": "third@example.cn"})
    run_worker(container)
    page = text(web.get("/check?q=%2B86 138 0013 8000"))  # another way of writing it
    assert "Phone number: +86 138 0013 8000" in page
    assert "Reported 3 times by 3 different people since" in page and "Medium risk" in page
    assert "fake customer service" in page and "phone call" in page and "chatbot" in page
    api = web.get("/api/v1/public/check", query_string={"q": "１３８００１３８０００"}).get_json()
    assert (api["shown"], api["reports"], api["reporters"], api["risk"]) == (True, 3, 3, "medium")


def test_one_person_reporting_many_times_counts_once(web, container):
    for _ in range(6):
        report(web, 9, {"phone": "13900000009"})  # one phone number: one person
    for _ in range(4):
        report(web, 20)  # no contact, all from one connection: one person
    run_worker(container)
    api = web.get("/api/v1/public/check", query_string={"q": NUMBER}).get_json()
    assert (api["shown"], api["reports"], api["reporters"], api["risk"]) == (False, None, None, "not_rated")
    for n in (24, 25):  # anonymous, from two other connections
        report(web, n, None)
    run_worker(container)
    api = web.get("/api/v1/public/check", query_string={"q": NUMBER}).get_json()
    assert (api["reports"], api["reporters"], api["risk"]) == (12, 4, "medium")


def test_a_dispute_shows_until_the_regulator_decides(check_app, web, container, world):
    for n in range(1, 4):
        report(web, n, {"phone": f"1390000000{n}"})
    run_worker(container)
    form = web.get(f"/check/dispute?q={NUMBER}")
    assert form.status_code == 200
    sent = web.post("/check/dispute", data={
        "csrf_token": csrf_token(web, f"/check/dispute?q={NUMBER}"), "identifier": NUMBER, "relation": "owner",
        "reason": "This is the number of my noodle shop.", "contact_phone": "13612345678"})
    assert sent.status_code == 303
    page = text(web.get(f"/check?q={NUMBER}"))
    assert "Disputed: under review" in page and "Reported 3 times" in page
    assert "13612345678" not in page and "noodle shop" not in page  # the dispute's words stay private

    regulator = check_app.test_client()
    regulator.set_cookie("tw_lang", "en")
    with regulator.session_transaction() as session:
        session.update(session_of(check_app, container, world.regulator.user_id))
    listing = regulator.get("/regulator/disputes").get_data(as_text=True)
    dispute_url = re.search(r'href="(/regulator/disputes/\d+)"', listing).group(1)
    detail = text(regulator.get(dispute_url))
    assert "13612345678" in detail and "noodle shop" in detail and "3 reports by 3 different people" in detail
    decided = regulator.post(dispute_url, data={"csrf_token": csrf_token(regulator, dispute_url), "decision": "upheld",
                                                "note": "A registered shop's number"})
    assert decided.status_code == 303
    cleared = text(web.get(f"/check?q={NUMBER}"))
    assert "Cleared after review" in cleared and "Reported 3 times" not in cleared
    assert web.get("/api/v1/public/check", query_string={"q": NUMBER}).get_json()["risk"] == "cleared"


def test_a_dispute_needs_a_reason_and_something_recognisable(web):
    token = csrf_token(web, f"/check/dispute?q={NUMBER}")
    empty = web.post("/check/dispute", data={"csrf_token": token, "identifier": NUMBER, "relation": "owner"})
    assert empty.status_code == 422 and 'id="reason-error"' in empty.get_data(as_text=True)
    nothing = web.post("/check/dispute", data={"csrf_token": token, "identifier": "??", "relation": "owner",
                                               "reason": "not a scam at all"})
    assert nothing.status_code == 303 and nothing.headers["Location"] == "/check"


def test_reports_naming_a_registered_application_and_its_name_lead_to_the_register(web, container, world):
    app = approved_application(container, world, "粤智客服助手")
    for n in range(1, 4):
        report(web, n, {"phone": f"1390000000{n}"}, app_name="粤智客服助手")
    run_worker(container)
    page = web.get(f"/check?q={NUMBER}").get_data(as_text=True)
    assert f'href="/registry/{app.id}"' in page and app.filing_number in page
    by_name = web.get("/check?q=粤智客服助手APP").get_data(as_text=True)
    assert f'href="/registry/{app.id}"' in by_name


def test_nothing_typed_and_nonsense(web):
    assert web.get("/check").status_code == 200
    response = web.get("/check?q=%3F%3F%3F")
    assert response.status_code == 422 and 'aria-invalid="true"' in response.get_data(as_text=True)
    assert web.get("/api/v1/public/check").status_code == 422
