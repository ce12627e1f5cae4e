"""What the analyst console's journeys share. Alerts raised the way production raises them: scam
reports published to Kafka, the real worker storing, scoring, linking and indexing them in
Elasticsearch, one evaluation cycle, then the outbox sent (it fills the alerts index the queue's
search reads). And the triage steps on an alert's page, each through its own form and button."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from tierwatch import alerting
from tierwatch.core.search.common import IndexNotFound
from tierwatch.monitoring.alerts.cycle import CycleContext, run_cycle
from tierwatch.monitoring.alerts.delivery import ALERTS_INDEX
from tierwatch.monitoring.alerts.model import AlertRule
from tierwatch.monitoring.alerts.models import Alert
from tierwatch.monitoring.indexing import REPORTS_INDEX
from tierwatch.monitoring.intake import build_report, submit_many
from tierwatch.worker import build_worker
from tests.contract.alert_harness import rule

WORKER_DEADLINE = 90  # seconds for the worker to index every report
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


def scam_reports(phone: str, regions: Sequence[str], now: datetime, app_name: str | None = "安心贷") -> list[Any]:
    """One report per region about ``phone``, a few minutes apart, naming ``app_name``."""
    who = f"自称{app_name}客服" if app_name else "自称银行客服"
    return [build_report("scam", {
        "description": f"{who}，说我的贷款账户被冻结，要求转账到安全账户解冻 {i}", "channel": "phone",
        **({"app_name": app_name} if app_name else {}), "region": region, "identifiers": {"phones": [phone]},
        "reported_at": (now - timedelta(minutes=5 + i)).isoformat()}) for i, region in enumerate(regions)]


def _indexed(container: Any, report_ids: list[str]) -> bool:
    try:
        container.search.refresh(REPORTS_INDEX)
        return all(container.search.get(REPORTS_INDEX, r) is not None for r in report_ids)
    except IndexNotFound:  # the worker has not created it yet
        return False


def raise_alerts(container: Any, reports: Sequence[Any], rule: AlertRule, now: datetime) -> dict[str, Alert]:
    """The alerts ``rule`` raises over ``reports``, by group key."""
    submit_many(container.bus, list(reports), container.settings.intake, container.report_keys.tracking)
    stop = threading.Event()
    worker = threading.Thread(target=build_worker(container, stop).run, daemon=True)
    worker.start()
    try:
        deadline = time.monotonic() + WORKER_DEADLINE
        while not _indexed(container, [r.report_id for r in reports]):
            assert time.monotonic() < deadline, "the worker did not index the reports in time"
            time.sleep(0.3)
    finally:
        stop.set()
        worker.join(timeout=30)
    with container.session_factory() as session:
        run_cycle(session, [rule], now, CycleContext(container.search, evaluator="browser-test"))
        session.commit()
        raised = {a.group_key: a for a in session.scalars(sa.select(Alert).where(Alert.rule_id == rule.id))}
    alerting.dispatch_outbox(container)
    container.search.refresh(ALERTS_INDEX)
    return raised


def alert_state(container: Any, alert_id: int) -> str:
    with container.session_factory() as session:
        return session.get(Alert, alert_id).state


def comment_on(page: Any, text: str) -> None:
    """Add a comment on the open alert page; it shows in the timeline."""
    form = page.locator("#act-comment")
    form.get_by_label("备注").fill(text)
    form.get_by_role("button", name="添加备注").click()
    assert text in page.locator("#timeline + ol").inner_text()


def escalate_with_tier_review(page: Any, container: Any, alert_id: int, reason: str) -> None:
    """Escalate the open alert, asking for a review of the linked application's tier."""
    form = page.locator("#act-escalate")
    form.get_by_label("理由").fill(reason)
    form.get_by_label("请监管人员复核所关联应用的风险等级").check()
    form.get_by_role("button", name="升级").click()
    assert alert_state(container, alert_id) == "escalated"
    assert "分级复核 #" in page.locator("#timeline + ol").inner_text()
