"""The analyst's journey of issue 13 in Chromium on the real services, a screenshot at every step:
citizens report a fake customer-service number through Kafka, the worker stores, scores, links and
indexes the reports in Elasticsearch, an evaluation cycle raises the alert; the analyst signs in,
opens the queue, acknowledges the alert with the keyboard (j, a), opens it, comments, escalates it
with a tier review of the linked application, drafts a public warning and resolves it."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tierwatch.core.clock import utcnow
from tierwatch.monitoring.public.models import Publication
from tests.browser.alert_stream import (
    BURST, alert_state, comment_on, escalate_with_tier_review, raise_alerts, scam_reports,
)
from tests.browser.conftest import assert_clean, open_context, serious_accessibility_findings
from tests.browser.test_portals import h1, sign_in
from tests.unit.monitoring.test_linking import approved_app
from tests.unit.registry.factories import activate_shipped_rules

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.kafka, pytest.mark.elasticsearch]

PHONE = "+8613912345678"
DESK = {"width": 1280, "height": 900}


@pytest.fixture(scope="module")
def raised(live_server) -> int:
    """An alert raised the way production raises it: reports over Kafka, the real worker, one
    evaluation cycle over the Elasticsearch index."""
    c = live_server.container
    activate_shipped_rules(c)
    app_id, _ = approved_app(c, live_server.world, "安心贷")
    now = utcnow()
    alert = raise_alerts(c, scam_reports(PHONE, ["深圳", "东莞", "深圳", "广州"], now), BURST, now)[PHONE]
    assert (alert.group_key, alert.report_count, alert.application_ids) == (PHONE, 4, [str(app_id)])
    return alert.id


def test_an_analyst_acknowledges_comments_escalates_and_resolves_an_alert(browser, live_server, raised, request):
    context, analyst = open_context(browser, live_server.url, request.node.name, viewport=DESK)  # analysts work at a desk
    page = analyst.page
    try:
        sign_in(page, "analyst@example.cn")
        page.goto("/analyst/")
        analyst.shot("console-home")
        page.get_by_role("link", name="告警队列").first.click()
        assert h1(page) == "告警队列"
        row = page.locator(f'tr[data-alert="{raised}"]')
        assert "4 份举报涉及 +8613912345678" in row.inner_text()
        assert serious_accessibility_findings(page) == []
        analyst.shot("queue")

        # Keyboard: j highlights the first alert, a acknowledges it (through the bulk form). The
        # help is shown once the script runs (without it, there are no shortcuts to offer).
        assert page.locator("details.shortcuts").is_visible()
        page.keyboard.press("j")
        assert page.locator("tr.current").get_attribute("data-alert") == str(raised)
        analyst.shot("queue-highlighted")
        page.keyboard.press("a")
        page.wait_for_load_state()
        assert f"已处理 1 条告警：#{raised}" in page.locator(".flashes").inner_text()
        assert alert_state(live_server.container, raised) == "acknowledged"
        analyst.shot("queue-acknowledged")

        page.locator(f'tr[data-alert="{raised}"] th a').click()
        assert h1(page).startswith(f"#{raised}")
        body = page.locator("main").inner_text()
        assert "安心贷" in body and "深圳" in body and "判断依据" in body
        assert page.locator("#act-acknowledge").count() == 0  # acknowledged: not offered again
        assert page.get_by_text("快捷键：a 确认").is_visible()
        assert serious_accessibility_findings(page) == []
        analyst.shot("alert")

        comment_on(page, "已联系运营商核实该号码，为境外改号")
        analyst.shot("commented")
        escalate_with_tier_review(page, live_server.container, raised, "安心贷被大规模冒用，请复核其风险等级")
        analyst.shot("escalated")

        page.get_by_role("button", name="起草公开预警").click()
        assert "公开预警草稿" in page.locator(".flashes").inner_text()
        with live_server.container.session_factory() as session:
            draft = session.scalars(sa.select(Publication).where(Publication.source_alert_id == str(raised))).one()
            assert draft.status == "draft" and PHONE not in draft.summary_zh
        analyst.shot("warning-drafted")

        page.locator("#act-resolve").get_by_role("button", name="解决").click()
        assert alert_state(live_server.container, raised) == "resolved"
        facts = page.locator("dl.facts").inner_text()
        assert "已解决" in facts and "确认为诈骗" in facts
        assert [s.get_attribute("id") for s in page.locator("form.triage-step").all()] == ["act-reopen", "act-comment"]
        assert serious_accessibility_findings(page) == []
        analyst.shot("resolved")
        assert_clean(analyst)
    finally:
        context.close()
