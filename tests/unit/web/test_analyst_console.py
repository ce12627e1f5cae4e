"""The analyst console through its pages (Flask test client, SQLite, alerts raised by a real
evaluation cycle): the queue with its filters, counts and bulk actions; an alert's page with its
reports, scores, explanations, application and tier; only the steps its state allows; the triage
journey through the forms; refusals (roles, a stale step, CSRF); the public warning drafted from
an alert, de-identified and publishable by a regulator."""

from __future__ import annotations

import re
from html import unescape

import sqlalchemy as sa

from tierwatch.antifraud.models import AnalystLabel
from tierwatch.monitoring.alerts.console import deidentified
from tierwatch.monitoring.alerts.models import Alert, AlertEvent
from tierwatch.monitoring.models import Report
from tierwatch.monitoring.public import publications
from tierwatch.monitoring.public.models import Publication
from tierwatch.registry.models import AuditEntry
from tests.unit.web.conftest import csrf_token, sign_in
from tests.unit.web.test_api_alerts import PHONES, alerts  # noqa: F401 - the fixture: three open alerts

QUEUE = "/analyst/alerts"


def _offered(html: str) -> list[str]:
    """The triage steps the alert page offers, in page order."""
    return re.findall(r'id="act-([a-z_]+)" aria-labelledby', html)


def _post(client, url: str, page: str, step: str, **fields: str):  # type: ignore[no-untyped-def]
    data = {f"{step}-csrf_token": csrf_token(client, page), **{f"{step}-{k}": v for k, v in fields.items()}}
    return client.post(url, data=data)


def _state(container, alert_id: int) -> str:  # type: ignore[no-untyped-def]
    with container.uow() as uow:
        return uow.session.get(Alert, alert_id).state


def test_the_queue_lists_filters_and_counts_and_is_the_analysts_only(client, container, alerts) -> None:  # noqa: F811
    assert client.get(QUEUE).status_code == 302  # sign in first
    sign_in(client, "a@example.cn")
    assert client.get(QUEUE).status_code == 403
    client.post("/account/signout", data={"csrf_token": csrf_token(client, "/account/")})
    sign_in(client, "analyst@example.cn")
    html = client.get(QUEUE + "?sort=-report_count").get_data(as_text=True)
    listed = re.findall(r'<tr data-alert="(\d+)"', html)
    assert listed == [str(alerts[p]) for p in reversed(PHONES)]  # 4, 3, 2 reports
    assert "待处理: 3" in html and "3 条告警" in html
    assert "1 小时内 2 份举报涉及 +8613800000001" in html  # the summary, in Chinese
    assert 'src="/static/console.js"' in html
    assert re.findall(r'<tr data-alert', client.get(QUEUE + "?severity=low").get_data(as_text=True)) == []
    assert len(re.findall(r'<tr data-alert', client.get(QUEUE + "?rule=api-burst&group=test").get_data(as_text=True))) == 3
    odd = client.get(QUEUE + "?state=asleep&sort=colour&assignee=x&page=-1")  # ignored, as on the review queue
    assert odd.status_code == 200 and len(re.findall(r'<tr data-alert', odd.get_data(as_text=True))) == 3
    closed = client.get(QUEUE + "?state=resolved").get_data(as_text=True)
    assert re.findall(r'<tr data-alert', closed) == [] and "没有符合筛选条件的告警" in closed


def test_the_queue_searches_as_the_api_does_and_keeps_every_other_filter(client, container, alerts, monkeypatch) -> None:  # noqa: F811
    from tierwatch import alerting
    from tierwatch.web.analyst import alerts as queue

    alerting.dispatch_outbox(container)  # the alerts index follows the database, as the worker keeps it
    sign_in(client, "analyst@example.cn")

    def listed(**query: str) -> list[int]:
        return [int(i) for i in re.findall(r'<tr data-alert="(\d+)"', client.get(QUEUE, query_string=query).get_data(as_text=True))]

    first, second, third = (alerts[p] for p in PHONES)
    html = client.get(QUEUE).get_data(as_text=True)
    assert '<label for="q">搜索</label>' in html and 'id="q" name="q" value=""' in html and "应用名称或备案号" in html
    assert listed(q="138 0000 0002") == listed(q="+8613800000002") == [second]  # a number however written
    assert listed(q="安心贷") == [first]  # the linked application's name
    assert sorted(listed(q="api-burst")) == sorted(listed(q="测试规则")) == [first, second, third]  # the rule
    assert listed(q="13999999999") == [] and listed(q="测试规则", severity="low") == []
    _post(client, f"{QUEUE}/{second}/acknowledge", f"{QUEUE}/{second}", "acknowledge")
    assert sorted(listed(q="api-burst", state="open")) == [first, third]  # with the state filter
    # The search stays in the box, the counts per state follow it and their links keep it, as do
    # the sort, the pages and the bulk form's way back.
    monkeypatch.setattr(queue, "PAGE_SIZE", 1)
    html = client.get(QUEUE + "?q=api-burst&sort=-report_count").get_data(as_text=True)
    assert 'id="q" name="q" value="api-burst"' in html and "搜索“api-burst”找到 3 条告警" in html
    assert listed(q="api-burst", sort="-report_count") == [third]
    assert "待处理: 2" in html and "已确认: 1" in html
    assert all("q=api-burst" in link for link in re.findall(r'<ul class="counts".*?</ul>', html, re.S)[0].split("<li>")[1:])
    following = unescape(re.search(r'rel="next" href="([^"]+)"', html).group(1))
    assert "q=api-burst" in following and "sort=-report_count" in following and "page=2" in following
    assert re.findall(r'<tr data-alert="(\d+)"', client.get(following).get_data(as_text=True)) == [str(second)]
    back = unescape(re.search(r'name="back" value="([^"]+)"', html).group(1))
    assert back == QUEUE + "?q=api-burst&sort=-report_count"
    done = client.post(f"{QUEUE}/bulk", data={"csrf_token": csrf_token(client, QUEUE), "ids": [str(third)],
                                               "action": "acknowledge", "back": back})
    assert done.status_code == 303 and done.headers["Location"].endswith(back)
    # What was typed is shown as text, never as markup; English beside Chinese.
    odd = client.get(QUEUE, query_string={"q": '"><b>x'}).get_data(as_text=True)
    assert "<b>x" not in odd and "&#34;&gt;&lt;b&gt;x" in odd
    client.get("/lang/en")
    english = client.get(QUEUE + "?q=api-burst&state=all").get_data(as_text=True)
    assert '<label for="q">Search</label>' in english and "3 alerts found for “api-burst”" in english


def test_the_alert_page_shows_reports_scores_application_and_only_the_open_steps(client, container, world, alerts) -> None:  # noqa: F811
    with container.uow() as uow:  # as the detector stores them
        report = uow.session.scalars(sa.select(Report).where(Report.report_id == "r-0-0")).one()
        report.scam_probability, report.scam_type = 0.93, "fake_customer_service"
        report.score_reasons = ["冒充客服用语：客服 / customer-service wording: 客服 (+1.20)"]
        uow.commit()
    sign_in(client, "analyst@example.cn")
    page = f"{QUEUE}/{alerts[PHONES[0]]}"
    html = client.get(page).get_data(as_text=True)
    assert "93%" in html and "冒充客服用语：客服" in html and "customer-service wording" not in html
    assert "安心贷" in html and 'class="tier tier-' in html  # the linked application and its tier
    assert "+8613800000001" in html and "TW-API000000" in html
    assert _offered(html) == ["acknowledge", "escalate", "resolve", "false_positive", "assign", "comment"]
    client.get("/lang/en")
    english = client.get(page).get_data(as_text=True)
    assert "2 reports in 1 h about +8613800000001" in english and "customer-service wording" in english
    assert client.get(f"{QUEUE}/999999").status_code == 404
    sign_in(client, "regulator@example.cn")
    assert client.get(page).status_code == 403  # regulators read alerts through their API, not this console


def test_an_analyst_triages_an_alert_through_the_forms(client, container, alerts) -> None:  # noqa: F811
    sign_in(client, "analyst@example.cn")
    alert_id = alerts[PHONES[0]]
    page = f"{QUEUE}/{alert_id}"
    assert _post(client, f"{page}/acknowledge", page, "acknowledge").status_code == 303
    html = client.get(page).get_data(as_text=True)
    assert _state(container, alert_id) == "acknowledged" and "acknowledge" not in _offered(html)
    empty = _post(client, f"{page}/comment", page, "comment", comment="  ")
    assert empty.status_code == 422 and "请填写备注" in empty.get_data(as_text=True)
    assert _post(client, f"{page}/comment", page, "comment", comment="已联系运营商核实").status_code == 303
    escalated = _post(client, f"{page}/escalate", page, "escalate", reason="应用被大规模冒用", tier_review="y")
    assert escalated.status_code == 303 and _state(container, alert_id) == "escalated"
    with container.uow() as uow:
        assert uow.session.get(Alert, alert_id).tier_review_id is not None
    resolved = _post(client, f"{page}/resolve", page, "resolve", label_reports="scam", scam_type="fake_customer_service")
    assert resolved.status_code == 303
    html = client.get(page).get_data(as_text=True)
    assert _offered(html) == ["reopen", "comment"] and "已联系运营商核实" in html and "已解决" in html
    with container.uow() as uow:
        labels = sorted((x.report_id, x.is_scam) for x in uow.session.scalars(sa.select(AnalystLabel)))
        actions = list(uow.session.scalars(sa.select(AuditEntry.action).where(AuditEntry.entity == "alert")))
    assert labels == [("r-0-0", True), ("r-0-1", True)]
    assert actions == ["alert.acknowledge", "alert.comment", "alert.escalate", "alert.resolve"]
    # A stale page: resolving again is refused, naming the state.
    again = client.post(f"{page}/resolve", data={"resolve-csrf_token": csrf_token(client, page)}, follow_redirects=True)
    assert "告警为“已解决”时不能执行此步骤" in again.get_data(as_text=True)
    # Reopening needs a reason, pinned beside its field.
    no_reason = _post(client, f"{page}/reopen", page, "reopen", reason="")
    assert no_reason.status_code == 422 and 'id="reopen-reason-error"' in no_reason.get_data(as_text=True)


def test_escalating_without_a_linked_application_cannot_open_a_tier_review(client, container, alerts) -> None:  # noqa: F811
    sign_in(client, "analyst@example.cn")
    page = f"{QUEUE}/{alerts[PHONES[1]]}"  # not linked to an application
    refused = _post(client, f"{page}/escalate", page, "escalate", tier_review="y")
    assert refused.status_code == 422 and "没有可复核的分级" in refused.get_data(as_text=True)
    assert _state(container, alerts[PHONES[1]]) == "open"


def test_forms_without_their_csrf_token_are_refused(client, container, alerts) -> None:  # noqa: F811
    sign_in(client, "analyst@example.cn")
    alert_id = alerts[PHONES[0]]
    for url in (f"{QUEUE}/{alert_id}/acknowledge", f"{QUEUE}/{alert_id}/warning", f"{QUEUE}/bulk"):
        assert client.post(url, data={"ids": [str(alert_id)], "action": "acknowledge"}).status_code == 400, url
    assert _state(container, alert_id) == "open"


def test_bulk_actions_do_what_they_can_and_say_what_they_could_not(client, container, alerts) -> None:  # noqa: F811
    sign_in(client, "analyst@example.cn")
    first, second = alerts[PHONES[0]], alerts[PHONES[1]]
    page = f"{QUEUE}/{first}"
    _post(client, f"{page}/acknowledge", page, "acknowledge")
    done = client.post(f"{QUEUE}/bulk", data={"csrf_token": csrf_token(client, QUEUE), "ids": [str(first), str(second)],
                                               "action": "acknowledge", "back": QUEUE + "?state=all"})
    assert done.status_code == 303 and done.headers["Location"].endswith(QUEUE + "?state=all")
    html = client.get(QUEUE).get_data(as_text=True)
    assert f"已处理 1 条告警：#{second}" in html and f"#{first} 未处理" in html
    assert _state(container, second) == "acknowledged"
    nothing = client.post(f"{QUEUE}/bulk", data={"csrf_token": csrf_token(client, QUEUE), "action": "resolve",
                                                  "back": "https://evil.example/"}, follow_redirects=False)
    assert nothing.headers["Location"].endswith(QUEUE)  # never off the site
    assert "请至少勾选一条告警" in client.get(QUEUE).get_data(as_text=True)
    fp = client.post(f"{QUEUE}/bulk", data={"csrf_token": csrf_token(client, QUEUE), "ids": [str(second)],
                                             "action": "false_positive"}, follow_redirects=True)
    assert "请在备注框中写明原因" in fp.get_data(as_text=True) and _state(container, second) == "acknowledged"


def test_a_public_warning_is_drafted_de_identified_for_a_regulator_to_publish(client, container, world, alerts) -> None:  # noqa: F811
    sign_in(client, "analyst@example.cn")
    alert_id = alerts[PHONES[0]]
    page = f"{QUEUE}/{alert_id}"
    answer = client.post(f"{page}/warning", data={"csrf_token": csrf_token(client, page)}, follow_redirects=True)
    assert "公开预警草稿" in answer.get_data(as_text=True)
    with container.uow() as uow:
        [draft] = uow.session.scalars(sa.select(Publication))
        events = list(uow.session.scalars(sa.select(AlertEvent.action).where(AlertEvent.alert_id == alert_id)))
        assert (draft.status, draft.kind, draft.source_alert_id) == ("draft", "warning", str(alert_id))
        assert draft.identifiers == [f"phone:{PHONES[0]}"]  # declared: the check page finds it by the number
        texts = " ".join(t for t in (draft.title_zh, draft.summary_zh, draft.body_zh, draft.summary_en, draft.body_en) if t)
        assert PHONES[0] not in texts and "+86138…0001" in draft.summary_zh and "冒充客服" not in draft.body_zh
        assert events[-1] == "warning_drafted"
        published = publications.publish(uow, world.regulator, draft.id)  # no personal data left
        assert published.status == "published"
        uow.commit()


def test_deidentified_masks_the_key_and_any_other_number() -> None:
    text = deidentified("1 小时内 3 份举报涉及 +8613800000001，另见 13912345678", ["+8613800000001"])
    assert "+8613800000001" not in text and "13912345678" not in text and "+86138…0001" in text
