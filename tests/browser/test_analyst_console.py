"""The analyst's journey of issue 13 in Chromium on the real services, a screenshot at every step:
citizens report a fake customer-service number through Kafka, the worker stores, scores, links and
indexes the reports in Elasticsearch, an evaluation cycle raises the alert; the analyst signs in,
opens the queue, acknowledges the alert with the keyboard (j, a), opens it, comments, escalates it
with a tier review of the linked application, drafts a public warning and resolves it."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from tierwatch.core.clock import utcnow
from tierwatch.core.search.common import IndexNotFound
from tierwatch.monitoring.alerts.cycle import CycleContext, run_cycle
from tierwatch.monitoring.alerts.models import Alert
from tierwatch.monitoring.indexing import REPORTS_INDEX
from tierwatch.monitoring.intake import build_report, submit_many
from tierwatch.monitoring.public.models import Publication
from tierwatch.worker import build_worker
from tests.browser.conftest import assert_clean, open_context, serious_accessibility_findings
from tests.browser.test_portals import h1, sign_in
from tests.contract.alert_harness import rule
from tests.unit.monitoring.test_linking import approved_app
from tests.unit.registry.factories import activate_shipped_rules

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.kafka, pytest.mark.elasticsearch]

PHONE = "+8613912345678"
BURST = rule("""
id: console-burst
type: frequency
severity: high
filter: {match: {kind: scam}}
group_by: ident_phone
window: 2h
threshold: 3
schedule: {every: 1m, buffer: 0}
summary_fields: [region]
""")
DESK = {"width": 1280, "height": 900}


def _indexed(container: Any, report_ids: list[str]) -> bool:
    try:
        container.search.refresh(REPORTS_INDEX)
        return all(container.search.get(REPORTS_INDEX, r) is not None for r in report_ids)
    except IndexNotFound:  # the worker has not created it yet
        return False


@pytest.fixture(scope="module")
def raised(live_server) -> int:
    """An alert raised the way production raises it: reports over Kafka, the real worker, one
    evaluation cycle over the Elasticsearch index."""
    c = live_server.container
    activate_shipped_rules(c)
    app_id, _ = approved_app(c, live_server.world, "安心贷")
    now = utcnow()
    regions = ["深圳", "东莞", "深圳", "广州"]
    reports = [build_report("scam", {
        "description": f"自称安心贷客服，说我的贷款账户被冻结，要求转账到安全账户解冻 {i}", "channel": "phone",
        "app_name": "安心贷", "region": region, "identifiers": {"phones": [PHONE]},
        "reported_at": (now - timedelta(minutes=5 + i)).isoformat()}) for i, region in enumerate(regions)]
    submit_many(c.bus, reports, c.settings.intake, c.report_keys.tracking)
    stop = threading.Event()
    worker = threading.Thread(target=build_worker(c, stop).run, daemon=True)
    worker.start()
    try:
        deadline = time.monotonic() + 90
        while not _indexed(c, [r.report_id for r in reports]):
            assert time.monotonic() < deadline, "the worker did not index the reports in time"
            time.sleep(0.3)
    finally:
        stop.set()
        worker.join(timeout=30)
    with c.session_factory() as session:
        run_cycle(session, [BURST], now, CycleContext(c.search, evaluator="browser-test"))
        session.commit()
        alert = session.scalars(sa.select(Alert).where(Alert.rule_id == "console-burst")).one()
        assert (alert.group_key, alert.report_count, alert.application_ids) == (PHONE, 4, [str(app_id)])
        return alert.id


def _state(container: Any, alert_id: int) -> str:
    with container.session_factory() as session:
        return session.get(Alert, alert_id).state


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

        # Keyboard: j highlights the first alert, a acknowledges it (through the bulk form).
        page.keyboard.press("j")
        assert page.locator("tr.current").get_attribute("data-alert") == str(raised)
        analyst.shot("queue-highlighted")
        page.keyboard.press("a")
        page.wait_for_load_state()
        assert f"已处理 1 条告警：#{raised}" in page.locator(".flashes").inner_text()
        assert _state(live_server.container, raised) == "acknowledged"
        analyst.shot("queue-acknowledged")

        page.locator(f'tr[data-alert="{raised}"] th a').click()
        assert h1(page).startswith(f"#{raised}")
        body = page.locator("main").inner_text()
        assert "安心贷" in body and "深圳" in body and "判断依据" in body
        assert page.locator("#act-acknowledge").count() == 0  # acknowledged: not offered again
        assert serious_accessibility_findings(page) == []
        analyst.shot("alert")

        comment = page.locator("#act-comment")
        comment.get_by_label("备注").fill("已联系运营商核实该号码，为境外改号")
        comment.get_by_role("button", name="添加备注").click()
        assert "已联系运营商核实该号码" in page.locator("#timeline + ol").inner_text()
        analyst.shot("commented")

        escalate = page.locator("#act-escalate")
        escalate.get_by_label("理由").fill("安心贷被大规模冒用，请复核其风险等级")
        escalate.get_by_label("请监管人员复核所关联应用的风险等级").check()
        escalate.get_by_role("button", name="升级").click()
        assert _state(live_server.container, raised) == "escalated"
        assert "分级复核 #" in page.locator("#timeline + ol").inner_text()
        analyst.shot("escalated")

        page.get_by_role("button", name="起草公开预警").click()
        assert "公开预警草稿" in page.locator(".flashes").inner_text()
        with live_server.container.session_factory() as session:
            draft = session.scalars(sa.select(Publication).where(Publication.source_alert_id == str(raised))).one()
            assert draft.status == "draft" and PHONE not in draft.summary_zh
        analyst.shot("warning-drafted")

        page.locator("#act-resolve").get_by_role("button", name="解决").click()
        assert _state(live_server.container, raised) == "resolved"
        facts = page.locator("dl.facts").inner_text()
        assert "已解决" in facts and "确认为诈骗" in facts
        assert [s.get_attribute("id") for s in page.locator("form.triage-step").all()] == ["act-reopen", "act-comment"]
        assert serious_accessibility_findings(page) == []
        analyst.shot("resolved")
        assert_clean(analyst)
    finally:
        context.close()
