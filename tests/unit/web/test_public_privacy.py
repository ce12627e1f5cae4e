"""No public page or public API answer ever shows a reporter's contact details (nor their words),
and script typed into any free-text field stays text on every page that shows it.

Reporters send unique markers in every contact field and in their descriptions, through the
form and the API; then every public route (every GET that anyone may call, pages and API) is
requested with every argument that names the seeded data, and each answer is searched."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import url_for

from tierwatch.monitoring.public import disputes, publications
from tierwatch.monitoring.public.schemas import DisputeIn, PublicationIn
from tierwatch.web.auth import ANYONE
from tierwatch.web.content import GENERAL_TOPICS, KINDS
from tests.unit.web.conftest import session_of
from tests.unit.web.public_world import REPORT_ANSWERS, approved_application, report_through_the_form, run_worker

XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'
RAW = ("<script>alert(", "<img src=x onerror")
CONTACT_MARKERS = ["联系人标记Q7", "marker.q7@example.cn", "13977773333", "139 7777 3333", "+86 139 7777 3333"]
WORDS_MARKER = "描述标记Z9"


@pytest.fixture
def seeded(app, container, world):
    client = app.test_client()
    codes = []
    for n in range(3):
        body = {"description": f"{WORDS_MARKER}{n} 冒充客服 13800138000 {XSS}", "channel": "phone",
                "app_name": f"某宝{XSS}", "identifiers": {"accounts": [f"微信 fake{n}{XSS}"], "phones": ["13800138000"]},
                "reporter_contact": {"name": f"{CONTACT_MARKERS[0]}{XSS}", "email": CONTACT_MARKERS[1],
                                     "phone": "+86 139 7777 3333"}}
        codes.append(client.post("/api/v1/reports/scam", json=body,
                                 environ_base={"REMOTE_ADDR": f"10.1.0.{n}"}).get_json()["tracking_code"])
    url, _ = report_through_the_form(client, [{**REPORT_ANSWERS[0], "description": f"{WORDS_MARKER}form {XSS}"},
                                              REPORT_ANSWERS[1], {"phones": "13800138000", "accounts": XSS},
                                              REPORT_ANSWERS[3]],
                                     contact={"name": CONTACT_MARKERS[0], "phone": "13977773333",
                                              "email": CONTACT_MARKERS[1]})
    codes.append(url.split("/")[-1].split("?")[0])
    app_row = approved_application(container, world, f"粤智{XSS}")
    with container.uow() as uow:
        pub = publications.draft(uow, world.regulator, PublicationIn(
            kind="warning", title_zh=f"警惕{XSS}", summary_zh=f"摘要{XSS}", identifiers=["phone:+8613800138000"],
            body_zh=f"# 标题\n\n{XSS}\n\n[点我](javascript:alert(1)) 号码 13800138000", scam_type="fake_customer_service"))
        publications.publish(uow, world.regulator, pub.id)
        disputes.open_dispute(uow, DisputeIn(identifier="13800138000", relation="not_scam", reason=f"理由{XSS}",
                                             contact={"name": CONTACT_MARKERS[0], "phone": "13977773333"}), None)
        uow.commit()
    run_worker(container)
    return {"codes": codes, "app_id": app_row.id, "publication_id": pub.id}


def public_urls(app: Any, seeded: dict[str, Any]) -> list[str]:
    """Every GET route anyone may call, with every argument naming the seeded data."""
    values = {"tracking_code": seeded["codes"], "app_id": [seeded["app_id"]],
              "publication_id": [seeded["publication_id"]], "code": ["en", "zh_CN"], "token": ["no-such-link"],
              "topic": [*GENERAL_TOPICS, *KINDS["ai_technique"], *KINDS["scam_type"]]}
    queries = [{}, {"q": "13800138000"}, {"q": "fake0"}, {"q": "粤智"}, {"kind": "warning"}, {"code": "TW-ABCDE23456"}]
    urls = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            view = app.view_functions[rule.endpoint]
            if "GET" not in (rule.methods or ()) or ANYONE not in getattr(view, "allowed_roles", ()):
                continue
            if rule.endpoint in ("static", "api.docs_asset", "public.language"):
                continue
            combos: list[dict[str, Any]] = [{}]
            for arg in rule.arguments:
                combos = [{**c, arg: v} for c in combos for v in values[arg]]
            urls += [url_for(rule.endpoint, **c, **q) for c in combos for q in queries]
    return urls


def test_no_public_page_or_api_answer_shows_a_contact_or_a_description(app, seeded):
    client = app.test_client()
    seen = 0
    for language in ("zh_CN", "en"):
        client.set_cookie("tw_lang", language)
        for url in public_urls(app, seeded):
            response = client.get(url)
            assert response.status_code < 500, url
            body = response.get_data(as_text=True)
            leaked = [m for m in (*CONTACT_MARKERS, WORDS_MARKER) if m in body]
            assert leaked == [], f"{url} shows {leaked}"
            if response.mimetype == "text/html":
                assert not any(raw in body for raw in RAW), f"{url} carries live markup"
            else:  # data, never rendered: JSON that browsers will not sniff as HTML
                assert response.mimetype == "application/json" and response.headers["X-Content-Type-Options"] == "nosniff"
            seen += 1
    assert seen > 200  # the walk really covered the public side
    status = client.get(f"/status/{seeded['codes'][0]}").get_data(as_text=True)
    assert "fake0&lt;script&gt;" in status  # the reporter's own identifiers, as text


def test_script_in_every_free_text_field_stays_text_where_it_is_shown(app, container, world, seeded):
    client = app.test_client()
    escaped = "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;"
    warning = client.get(f"/warnings/{seeded['publication_id']}").get_data(as_text=True)
    assert escaped in warning or "&lt;script&gt;alert(&quot;x&quot;)" in warning
    assert 'href="javascript:' not in warning and "<h2>标题</h2>" in warning  # headings under the page's h1
    entry = client.get(f"/registry/{seeded['app_id']}").get_data(as_text=True)
    assert "粤智&lt;script&gt;" in entry
    for page in (warning, entry, client.get("/registry?q=粤智").get_data(as_text=True)):
        assert not any(raw in page for raw in RAW)
    # The report form's preview shows the reporter's own words back, as text.
    regulator = app.test_client()
    with regulator.session_transaction() as session:
        session.update(session_of(app, container, world.regulator.user_id))
    listing = regulator.get("/regulator/disputes").get_data(as_text=True)
    detail = regulator.get(re.search(r'href="(/regulator/disputes/\d+)"', listing).group(1)).get_data(as_text=True)
    assert "理由&lt;script&gt;" in detail and not any(raw in detail for raw in RAW)
    assert CONTACT_MARKERS[0] in detail  # the regulator deciding it may reach the person


def test_the_preview_shows_the_reporters_own_words_as_text(client):
    from tests.unit.web.public_world import form_fields

    page = client.get("/report").get_data(as_text=True)
    fields = {**form_fields(page), **REPORT_ANSWERS[0], **REPORT_ANSWERS[1], "description": XSS,
              "app_name": XSS, "phones": XSS, "contact_name": XSS, "step": "contact"}
    preview = client.post("/report", data={**fields, "action": "next"}).get_data(as_text=True)
    assert preview.count("&lt;script&gt;alert(") >= 4 and not any(raw in preview for raw in RAW)
