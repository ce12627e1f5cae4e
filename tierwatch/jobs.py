"""The worker's scheduled jobs: one explicit table, and the scheduler that runs it.

Composition: the one place that knows registry, risk, antifraud and monitoring together. Defaults
follow ElastAlert: coalesce missed runs into one, never run a job twice at once, a grace time for
late runs, stable ids so a restart replaces jobs instead of adding copies.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from tierwatch.bootstrap import Container
from tierwatch.core.clock import utcnow

if TYPE_CHECKING:
    from apscheduler.schedulers.background import BackgroundScheduler

log = logging.getLogger(__name__)

HOUR = 3600
DRIFT_WINDOW = timedelta(days=7)


@dataclass(frozen=True)
class Job:
    job_id: str
    fn: Callable[[Container], Any]
    seconds: int  # interval; jobs needing calendar times can add a cron form later
    misfire_grace_time: int = 60


def supervision_tasks(container: Container) -> tuple[int, int]:
    """Create this period's due tasks from each tier's obligations; mark missed ones overdue."""
    from tierwatch.registry import supervision
    from tierwatch.risk.service import supervision_duties

    now = utcnow()
    with container.uow() as uow:
        created = supervision.generate_due_tasks(uow, now, supervision_duties)
        overdue = supervision.mark_overdue(uow, now)
        uow.commit()
    return created, overdue


def relink_applications(container: Container) -> int:
    """Link reports that name an app registered after they arrived, in the database and then in
    the index (their application_id and tier)."""
    from tierwatch.monitoring.appevents import mark_index_changed, reindex_links
    from tierwatch.monitoring.indexing import REPORTS_INDEX, REPORTS_SCHEMA
    from tierwatch.monitoring.linking import relink_reports

    with container.uow() as uow:
        linked = relink_reports(uow.session)
        uow.commit()
    if linked:
        # After the commit: a document never names a link the database rolled back. Should the
        # index fail here, the next run does not see these reports again (they are linked), so
        # the worker's outage handling is not available; log loudly instead.
        container.search.ensure_index(REPORTS_INDEX, REPORTS_SCHEMA)
        try:
            changed = reindex_links(container.search, linked)
        except Exception:
            log.exception("relinked %d reports but could not re-index them", len(linked))
            raise
        mark_index_changed(container.uow, "relink", changed)
    return len(linked)


def fetch_reports(container: Container, report_ids: list[str]) -> dict[str, dict[str, Any]]:
    """Stored reports as the detector's input dicts (text, channel, ... identifiers)."""
    from tierwatch.monitoring.store import detector_inputs

    with container.uow() as uow:
        return detector_inputs(uow.session, report_ids)


def retrain_detector(container: Container) -> str:
    """Retrain on analysts' labels; the candidate is promoted only if it beats the active model."""
    from tierwatch.antifraud.training import retraining

    result = retraining.retrain_from_labels(
        container.uow(), container.settings.models_dir, lambda ids: fetch_reports(container, ids),
    )
    log.info("retraining: %s", result.reason)
    return result.reason


def detector_drift(container: Container) -> bool:
    """PSI of last week's scores and features against the active model's reference."""
    from tierwatch.antifraud import service
    from tierwatch.antifraud.bundle import report_from_files
    from tierwatch.antifraud.model_store import ModelStore
    from tierwatch.monitoring.models import Report

    store = ModelStore(container.settings.models_dir)
    version = store.active("report")
    if version is None:
        return False
    linear = None
    if store.kind(version) == "linear":
        from tierwatch.antifraud.linear_model import LinearReportModel

        linear = LinearReportModel.from_files(store.load_files(version))
        if not linear.reference:
            log.info("detector drift: linear model %s was trained without a drift reference; retrain it to get one", version)
            return False
    with container.uow() as uow:
        ids = list(uow.session.scalars(
            sa.select(Report.report_id).where(
                Report.kind == "scam", Report.reported_at >= utcnow() - DRIFT_WINDOW
            ).limit(20000)
        ))
    reports = list(fetch_reports(container, ids).values())
    if linear is not None:
        report = service.linear_drift_report(linear, version, reports)
    else:
        report = service.drift_report(report_from_files(store.load_files(version)), version, reports)
    if report.alert:
        _publish_drift_alert(container, version, report)
    return bool(report.alert)


def _publish_drift_alert(container: Container, version: str, report: Any) -> None:
    from tierwatch.core.ids import new_id

    topic = container.settings.intake.alert_topic
    alert = {
        "schema_version": 1, "kind": "alert", "report_id": new_id(), "rule_id": "detector.drift",
        "severity": "medium", "title": f"检测模型输入分布漂移 / detector drift ({version})",
        "summary": str(report)[:4000], "created_at": utcnow().isoformat(),
    }
    container.bus.ensure_topics([topic])
    container.bus.publish(topic, json.dumps(alert, ensure_ascii=False).encode(), key="detector.drift")
    log.warning("detector drift alert published for %s", version)


def job_table(*jobs: Job) -> dict[str, Job]:
    """Job id -> job; an id used twice is a mistake (one job would silently replace the other)."""
    table: dict[str, Job] = {}
    for job in jobs:
        if job.job_id in table:
            raise ValueError(f"job id {job.job_id!r} is used twice")
        table[job.job_id] = job
    return table


def _alerting(name: str) -> Callable[[Container], Any]:
    # The alerting jobs live in tierwatch.alerting, imported when a job first runs.
    def run(container: Container) -> Any:
        from tierwatch import alerting

        return getattr(alerting, name)(container)

    run.__name__ = name
    return run


JOBS = job_table(
    Job("registry.supervision_tasks", supervision_tasks, seconds=HOUR),
    Job("monitoring.relink_applications", relink_applications, seconds=600),
    # Every worker with jobs tries; only the evaluator lease holder evaluates.
    Job("alerts.evaluate", _alerting("evaluate_alerts"), seconds=5, misfire_grace_time=5),
    Job("alerts.dispatch", _alerting("dispatch_outbox"), seconds=5, misfire_grace_time=5),
    Job("alerts.sla", _alerting("mark_overdue_alerts"), seconds=60),
    Job("alerts.digest", _alerting("send_digest"), seconds=600),
    Job("alerts.prune_runs", _alerting("prune_alert_runs"), seconds=24 * HOUR, misfire_grace_time=HOUR),
    Job("antifraud.drift", detector_drift, seconds=24 * HOUR, misfire_grace_time=HOUR),
    Job("antifraud.retrain", retrain_detector, seconds=7 * 24 * HOUR, misfire_grace_time=HOUR),
)


def start_scheduler(container: Container, jobs: dict[str, Job] | None = None) -> BackgroundScheduler:
    from apscheduler.schedulers.background import BackgroundScheduler

    scheduler = BackgroundScheduler(
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 60}, timezone="UTC"
    )
    for job in (JOBS if jobs is None else jobs).values():
        seconds = job.seconds
        if job.job_id == "alerts.evaluate":
            seconds = container.settings.alerts.evaluate_seconds
        scheduler.add_job(
            _guarded(job, container),
            "interval",
            seconds=seconds,
            id=job.job_id,
            name=job.job_id,
            replace_existing=True,
            misfire_grace_time=job.misfire_grace_time,
        )
    scheduler.start()
    return scheduler


def _guarded(job: Job, container: Container) -> Callable[[], None]:
    def run() -> None:
        try:
            job.fn(container)
        except Exception:  # noqa: BLE001 - a failing job is logged and tried at its next run
            log.exception("job %s failed", job.job_id)

    return run
