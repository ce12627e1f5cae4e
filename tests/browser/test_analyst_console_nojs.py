"""The analyst console with JavaScript switched off (Chromium, ``java_script_enabled=False``) on the
real services, a screenshot at every step: reports about three numbers go through Kafka, the
worker and Elasticsearch, an evaluation cycle raises three alerts and the outbox indexes them; the
analyst signs in, searches the queue for one number as people write it, with a filter beside the
search, opens the alert, acknowledges, comments, escalates with a tier review and resolves it, then
searches by rule and acknowledges the two others at once with the bulk form. Every step is a plain
link, GET form or POST form with its button; the keyboard shortcuts (static/console.js) do nothing.

Accessibility: axe-core cannot be run here. It is a script evaluated in the page, and with
JavaScript off the page runs none; the same pages are checked with axe-core, JavaScript on, in
test_analyst_console.py.
"""

from __future__ import annotations

from typing import Any

import pytest

from tierwatch.core.clock import utcnow
from tests.browser.alert_stream import (
    BURST, alert_state, comment_on, escalate_with_tier_review, raise_alerts, scam_reports,
)
from tests.browser.conftest import PHONE, assert_clean, open_context
from tests.browser.test_portals import h1, sign_in
from tests.unit.monitoring.test_linking import approved_app
from tests.unit.registry.factories import activate_shipped_rules

# The journey takes about half a minute here; the bound leaves room for a loaded CI machine.
pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.kafka, pytest.mark.elasticsearch,
              pytest.mark.timeout(240)]

JOURNEY, SECOND, THIRD = "+8613912340001", "+8613912340002", "+8613912340003"
DESK = {"width": 1280, "height": 900}
STEP_TIMEOUT_MS = 15_000  # one page load or click, not Playwright's 30 s default


@pytest.fixture(scope="module")
def raised(live_server) -> dict[str, int]:
    """Three alerts of one rule, one per number; the first linked to a registered application."""
    c = live_server.container
    activate_shipped_rules(c)
    app_id, _ = approved_app(c, live_server.world, "安心贷")
    now = utcnow()
    reports = (scam_reports(JOURNEY, ["深圳", "东莞", "深圳"], now) + scam_reports(SECOND, ["广州"] * 3, now, None)
               + scam_reports(THIRD, ["佛山"] * 3, now, None))
    alerts = raise_alerts(c, reports, BURST, now)
    assert sorted(alerts) == [JOURNEY, SECOND, THIRD]
    assert alerts[JOURNEY].application_ids == [str(app_id)]
    return {key: alert.id for key, alert in alerts.items()}


def listed(page: Any) -> list[int]:
    return [int(row.get_attribute("data-alert")) for row in page.locator("tr[data-alert]").all()]


def search(page: Any, text: str) -> None:
    """Type into the queue's search box and press its form's button (a GET form)."""
    page.get_by_label("搜索", exact=True).fill(text)
    page.get_by_role("button", name="筛选").click()


def test_without_javascript_an_analyst_searches_triages_and_acts_in_bulk(browser, live_server, raised, request):
    context, analyst = open_context(browser, live_server.url, request.node.name, javascript=False, viewport=DESK)
    page = analyst.page
    page.set_default_timeout(STEP_TIMEOUT_MS)
    journey, second, third = raised[JOURNEY], raised[SECOND], raised[THIRD]
    container = live_server.container
    try:
        sign_in(page, "analyst@example.cn")
        page.goto("/analyst/")
        page.get_by_role("link", name="告警队列").first.click()
        assert h1(page) == "告警队列"
        assert sorted(listed(page)) == sorted([journey, second, third])
        page.keyboard.press("j")  # a shortcut needs the script: nothing is highlighted,
        assert page.locator("tr.current").count() == 0
        assert not page.locator("details.shortcuts").is_visible()  # and the page offers none
        analyst.shot("queue")

        # The number as a person writes it, with the severity filter beside the search.
        page.get_by_label("严重程度").select_option("high")
        search(page, "139 1234 0001")
        assert listed(page) == [journey]
        assert "q=139+1234+0001" in page.url and "severity=high" in page.url
        assert page.get_by_label("搜索", exact=True).input_value() == "139 1234 0001"
        assert page.locator("table.alerts caption").inner_text() == "搜索“139 1234 0001”找到 1 条告警"
        assert "待处理: 1" in page.locator("ul.counts").inner_text()  # the counts follow the search
        analyst.shot("searched-number")
        page.get_by_label("严重程度").select_option("low")
        page.get_by_role("button", name="筛选").click()
        assert listed(page) == [] and "没有符合筛选条件的告警" in page.locator("table.alerts").inner_text()
        assert page.get_by_label("搜索", exact=True).input_value() == "139 1234 0001"  # kept beside the filter
        analyst.shot("searched-nothing")
        page.get_by_role("link", name="清除").click()
        search(page, "安心贷")  # the linked application's name
        assert listed(page) == [journey]

        # Open it; each step is its own form with its button.
        page.locator(f'tr[data-alert="{journey}"] th a').click()
        assert h1(page).startswith(f"#{journey}")
        assert page.get_by_text("仅显示当前状态下可执行的步骤").is_visible() and not page.get_by_text("快捷键").is_visible()
        analyst.shot("alert")
        page.locator("#act-acknowledge").get_by_role("button", name="确认").click()
        assert alert_state(container, journey) == "acknowledged"
        assert page.locator("#act-acknowledge").count() == 0
        analyst.shot("acknowledged")

        comment_on(page, "已联系运营商核实该号码")
        analyst.shot("commented")
        escalate_with_tier_review(page, container, journey, "安心贷被冒用，请复核其风险等级")
        analyst.shot("escalated")

        page.locator("#act-resolve").get_by_role("button", name="解决").click()
        assert alert_state(container, journey) == "resolved"
        assert "已解决" in page.locator("dl.facts").inner_text()
        analyst.shot("resolved")

        # By rule id, then tick the two others and acknowledge them with one button.
        page.get_by_role("link", name="告警队列").first.click()
        search(page, "console-burst")
        assert sorted(listed(page)) == sorted([second, third])  # the resolved one left the working view
        page.get_by_label(f"选择告警 #{second}").check()
        page.get_by_label(f"选择告警 #{third}").check()
        page.get_by_label("对选中的告警").select_option("acknowledge")
        analyst.shot("bulk-ticked")
        page.get_by_role("button", name="应用于勾选的告警").click()
        done = page.locator(".flashes").inner_text()
        assert f"#{second}" in done and f"#{third}" in done and "已处理 2 条告警" in done
        assert (alert_state(container, second), alert_state(container, third)) == ("acknowledged", "acknowledged")
        assert "q=console-burst" in page.url  # back where the analyst was
        assert page.get_by_label("搜索", exact=True).input_value() == "console-burst"
        analyst.shot("bulk-acknowledged")

        page.set_viewport_size(PHONE)  # the same queue on a phone: the search box on its own line
        page.reload()
        analyst.shot("queue-phone")
        assert_clean(analyst)
    finally:
        context.close()
