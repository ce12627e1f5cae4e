"""Alerting's scheduled work, wired from the container: evaluate (the one leader), dispatch the
outbox (any worker), mark overdue alerts, send the daily digest, prune old run records.

Every worker with jobs calls ``evaluate_alerts`` every few seconds; only the process holding
the evaluator lease evaluates, the others return at once.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from tierwatch.bootstrap import Container
from tierwatch.core.clock import utcnow
from tierwatch.monitoring.outbox import Dispatched, OutboxMessage, dispatch

log = logging.getLogger(__name__)
BACK_TO_BACK = 10  # cycles in a row while rules are behind (catching up after downtime)
RUNS_KEPT = timedelta(days=30)


def cycle_context(container: Container) -> Any:
    from tierwatch.monitoring.alerts.cycle import CycleContext
    from tierwatch.monitoring.alerts.notify import Notifier
    from tierwatch.monitoring.alerts.triage import Sla

    alerts = container.settings.alerts
    return CycleContext(
        search=container.search, evaluator=container.alert_lease.holder,
        sla=Sla.parse({s: alerts.sla(s) for s in ("critical", "high", "medium", "low")}),
        notifier=Notifier(alerts.base_url), sliding=container.alert_windows,
    )


def evaluate_alerts(container: Container, now: datetime | None = None) -> Any:
    """One evaluation (more while behind) if this process leads; None if another one does."""
    from tierwatch.monitoring.alerts.cycle import run_cycle
    from tierwatch.monitoring.alerts.lease import LeaseLost
    from tierwatch.monitoring.alerts.store import WatermarkMoved
    from tierwatch.monitoring.indexing import REPORTS_INDEX, REPORTS_SCHEMA

    lease = container.alert_lease
    if not lease.acquire():
        return None
    container.search.ensure_index(REPORTS_INDEX, REPORTS_SCHEMA)
    ctx = cycle_context(container)
    result = None
    for _ in range(BACK_TO_BACK):
        rules = container.alert_rules.rules()
        session = lease.session()
        try:
            result = run_cycle(session, rules, now or utcnow(), ctx)
            lease.fence(session)  # last, so the embedded lease's write lock is held briefly
            session.commit()
        except (LeaseLost, WatermarkMoved) as exc:
            session.rollback()
            log.warning("alert cycle rolled back: %s", exc)
            return None
        finally:
            session.close()
        if not result.behind or now is not None:
            break
    return result


def senders(container: Container) -> dict[str, Any]:
    """Outbox kind -> what sends one message of that kind."""
    from tierwatch.monitoring.alerts.delivery import ALERTS_INDEX, ALERTS_SCHEMA, SmtpConfig, alert_document
    from tierwatch.monitoring.alerts.delivery import send_email, send_webhook
    from tierwatch.monitoring.alerts.models import Alert
    from tierwatch.monitoring.alerts.subscriptions import endpoint_target

    alerts = container.settings.alerts
    smtp = SmtpConfig(alerts.smtp_host, alerts.smtp_port, alerts.smtp_from, alerts.smtp_user,
                      alerts.smtp_password.get_secret_value(), alerts.smtp_starttls, alerts.send_timeout)
    topics = container.settings.intake.kind_topics()

    def endpoint(endpoint_id: int) -> tuple[str, str] | None:
        with container.uow() as uow:
            return endpoint_target(uow, container.keys.key("webhook"), endpoint_id)

    def index(message: OutboxMessage) -> str:
        with container.uow() as uow:
            alert = uow.session.get(Alert, int(message.payload["alert_id"]))
            if alert is None:
                return "alert gone"
            doc = alert_document(alert)
        container.search.ensure_index(ALERTS_INDEX, ALERTS_SCHEMA)
        container.search.bulk_index(ALERTS_INDEX, [doc])
        return "indexed"

    def bus(message: OutboxMessage) -> str:
        import json

        topic = topics[message.target]
        value = json.dumps(message.payload["value"], ensure_ascii=False).encode("utf-8")
        container.bus.ensure_topics([topic])
        container.bus.publish(topic, value, key=message.payload.get("key"))
        return f"published to {topic}"

    return {
        "email": lambda m: send_email(smtp, m),
        "webhook": lambda m: send_webhook(endpoint, m, alerts.send_timeout),
        "index": index,
        "bus": bus,
    }


def dispatch_outbox(container: Container, now: datetime | None = None, **options: Any) -> Dispatched:
    """Send what is due (any number of workers may run this at once)."""
    return dispatch(container.session_factory, senders(container), now or utcnow(), **options)


def mark_overdue_alerts(container: Container, now: datetime | None = None) -> int:
    from tierwatch.monitoring.alerts.notify import Notifier
    from tierwatch.monitoring.alerts.service import mark_overdue

    with container.uow() as uow:
        marked = mark_overdue(uow, Notifier(container.settings.alerts.base_url), now or utcnow())
        uow.commit()
    return marked


def send_digest(container: Container, now: datetime | None = None) -> int:
    """At the digest hour (local time), each subscribed user's alerts of the last day; the
    dedup key (user, day) keeps it to one e-mail a day whatever the number of workers."""
    from zoneinfo import ZoneInfo

    from tierwatch.monitoring.alerts.notify import DIGEST_LOOKBACK, Notifier

    now = now or utcnow()
    local = now.astimezone(ZoneInfo(container.settings.timezone))
    if local.hour != container.settings.alerts.digest_hour:
        return 0
    with container.uow() as uow:
        sent = Notifier(container.settings.alerts.base_url).digest(uow.session, local.date(), now - DIGEST_LOOKBACK, now)
        uow.commit()
    return sent


def prune_alert_runs(container: Container, now: datetime | None = None) -> int:
    from tierwatch.monitoring.alerts.models import AlertRun

    with container.uow() as uow:
        done = uow.session.execute(sa.delete(AlertRun).where(AlertRun.at < (now or utcnow()) - RUNS_KEPT))
        uow.commit()
    return int(done.rowcount or 0)  # type: ignore[attr-defined]


def stream_hook(container: Container) -> Any:
    """What the worker calls in each batch's transaction: threshold rules fire from the stream."""
    from tierwatch.monitoring.alerts import stream

    def on_stored(session: Any, docs: list[dict[str, Any]], now: datetime) -> None:
        rules = container.alert_rules.threshold_rules()
        if rules and docs:
            stream.record(session, rules, docs, now)

    return on_stored
