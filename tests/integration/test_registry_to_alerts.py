"""Registry and tiering changes reach the alerts, on the embedded default and on the real services
(PostgreSQL + Kafka + Elasticsearch): a tier changed by a regulator is written to the outbox in
the same transaction, relayed onto the application topic, the worker re-indexes the linked
reports' tier, and the next evaluation holds the reports to the new tier's threshold."""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from tierwatch import alerting
from tierwatch.bootstrap import Container, build
from tierwatch.core.clock import utcnow
from tierwatch.core.search.common import IndexNotFound
from tierwatch.core.settings import IntakeSettings, load_settings
from tierwatch.monitoring.alerts.cycle import CycleContext, run_cycle
from tierwatch.monitoring.alerts.models import Alert
from tierwatch.monitoring.indexing import REPORTS_INDEX
from tierwatch.monitoring.intake import build_report, submit_many
from tierwatch.monitoring.messages import ApplicationEvent
from tierwatch.monitoring.outbox import OutboxMessage
from tierwatch.risk import service as risk_service
from tierwatch.worker import build_worker
from tests.contract.alert_harness import rule
from tests.pg import fresh_database
from tests.unit.monitoring.test_linking import approved_app
from tests.unit.registry.factories import activate_shipped_rules, make_world

PHONE = "+8613912345678"
BURST = rule("""
id: tier-burst
type: frequency
severity: {high: critical, medium: high, low: medium}
filter: {match: {kind: scam}}
group_by: ident_phone
window: 2h
threshold: {high: 3, medium: 5, low: 8}
schedule: {every: 1m, buffer: 0}
""")
WHY = "复核：该应用被大量诈骗举报冒用，需按高风险监管以收紧告警阈值"  # >= 20 characters


def _embedded(tmp: Path) -> Iterator[Container]:
    from tierwatch.core.migrate import upgrade

    url = f"sqlite:///{tmp / 'tw.db'}"
    upgrade(url)
    c = build(load_settings(database_url=url, data_dir=tmp, secret_key="k" * 32,
                            intake=IntakeSettings(poll_timeout=0.05, batch_size=100)))
    yield c
    c.close()


def _services(tmp: Path, request: pytest.FixtureRequest) -> Iterator[Container]:
    tag = secrets.token_hex(4)
    with fresh_database(request.getfixturevalue("postgres_url"), "tw_retier") as url:
        c = build(load_settings(
            database_url=url, data_dir=tmp, secret_key="k" * 32, bus="kafka", search="elasticsearch",
            kafka_bootstrap=request.getfixturevalue("kafka_bootstrap"), kafka_topic_prefix=f"t{tag}.",
            elasticsearch_url=request.getfixturevalue("elasticsearch_url"), index_prefix=f"t{tag}-",
            kafka_partitions=1, intake=IntakeSettings(poll_timeout=0.2, batch_size=100, group=f"g{tag}")))
        try:
            yield c
        finally:
            es = c.search
            ours = list(es.client.indices.get(index=f"t{tag}-*", expand_wildcards="all"))  # type: ignore[attr-defined]
            if ours:
                es.client.indices.delete(index=",".join(ours))  # type: ignore[attr-defined]
            topics = [t for t in c.bus.admin.list_topics(timeout=10).topics if t.startswith(f"t{tag}.")]  # type: ignore[attr-defined]
            for done in (c.bus.admin.delete_topics(topics).values() if topics else ()):  # type: ignore[attr-defined]
                done.result()
            c.close()


@pytest.fixture(params=["embedded", pytest.param("services", marks=[pytest.mark.postgres, pytest.mark.kafka,
                                                                     pytest.mark.elasticsearch, pytest.mark.slow])])
def container(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Container]:
    if request.param == "embedded":
        yield from _embedded(tmp_path)
    else:
        yield from _services(tmp_path, request)


def run_worker_until(c: Container, done: Callable[[], bool], timeout: float = 60) -> None:
    """The real worker (built as `tierwatch worker` builds it), until ``done`` holds."""
    stop = threading.Event()
    worker = build_worker(c, stop)
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + timeout
        while not done():
            assert time.monotonic() < deadline, "the worker did not get there in time"
            time.sleep(0.2)
    finally:
        stop.set()
        thread.join(timeout=30)


def tier_in_index(c: Container, report_id: str) -> str | None:
    try:
        c.search.refresh(REPORTS_INDEX)
        doc = c.search.get(REPORTS_INDEX, report_id)
    except IndexNotFound:  # the worker has not created it yet
        return None
    return None if doc is None else doc.get("tier", "-")


def override(c: Container, app_id: int, tier: str, actor: object, jurisdictions: tuple[str, ...] = ("cn-gd",)) -> None:
    with c.uow() as uow:
        for jurisdiction in jurisdictions:
            risk_service.override_tier(uow, app_id, jurisdiction, tier, WHY, actor)  # type: ignore[arg-type]
        uow.commit()


def test_a_tier_change_reaches_the_indexed_reports_and_the_alert_thresholds(container: Container) -> None:
    c = container
    world = make_world(c)
    activate_shipped_rules(c)
    app_id, _ = approved_app(c, world, "安心贷")
    override(c, app_id, "low", world.regulator, ("cn-gd", "eu"))  # the strictest tier in force counts
    with c.uow() as uow:  # the filing, the tiering, the approval and the override were announced
        events = [m.payload["value"] for m in uow.session.scalars(
            sa.select(OutboxMessage).where(OutboxMessage.kind == "bus").order_by(OutboxMessage.id))]
    kinds = [(e["event"], e["application_id"]) for e in events]
    assert ("approved", str(app_id)) in kinds and kinds[-1] == ("override", str(app_id))
    assert events[-1]["tier"] == "low"
    assert all(ApplicationEvent.model_validate_json(json.dumps(e), strict=True) for e in events)
    assert alerting.dispatch_outbox(c).sent == len(events)  # relayed onto the application topic

    now = utcnow()
    reports = [build_report("scam", {"description": f"自称安心贷客服，要求转账解冻 {i}", "channel": "phone",
                                     "app_name": "安心贷", "identifiers": {"phones": [PHONE]},
                                     "reported_at": (now - timedelta(minutes=10 + i)).isoformat()})
               for i in range(3)]
    submit_many(c.bus, reports, c.settings.intake, c.report_keys.tracking)
    ids = [r.report_id for r in reports]
    run_worker_until(c, lambda: all(tier_in_index(c, i) == "low" for i in ids))

    ctx = CycleContext(c.search, evaluator="test")
    with c.session_factory() as session:
        run_cycle(session, [BURST], now, ctx)  # 3 reports, a low-tier application: 8 needed
        session.commit()
        assert session.scalar(sa.select(sa.func.count()).select_from(Alert)) == 0

    override(c, app_id, "high", world.regulator)
    assert alerting.dispatch_outbox(c).sent == 1
    run_worker_until(c, lambda: all(tier_in_index(c, i) == "high" for i in ids))
    with c.session_factory() as session:
        run_cycle(session, [BURST], now + timedelta(minutes=1), ctx)  # the very next evaluation
        session.commit()
        [alert] = session.scalars(sa.select(Alert))
        assert (alert.group_key, alert.tier, alert.severity, alert.report_count) == (PHONE, "high", "critical", 3)
        assert alert.application_ids == [str(app_id)]
