"""Periodic jobs of every package, registered in monitoring's job table, and the worker command.

This is composition: it is the one place that knows registry, antifraud and monitoring together.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from tierwatch.core.clock import utcnow
from tierwatch.monitoring import jobs
from tierwatch.bootstrap import Container

log = logging.getLogger(__name__)

HOUR = 3600
DRIFT_WINDOW = timedelta(days=7)


def supervision_tasks(container: Container) -> tuple[int, int]:
    """Create this period's due tasks from each tier's obligations; mark missed ones overdue."""
    from tierwatch.registry import supervision

    now = utcnow()
    with container.uow() as uow:
        created = supervision.generate_due_tasks(uow, now)
        overdue = supervision.mark_overdue(uow, now)
        uow.commit()
    return created, overdue


def fetch_reports(container: Container, report_ids: list[str]) -> dict[str, dict[str, Any]]:
    """Stored reports as the detector's input dicts (text, channel, ... identifiers)."""
    from tierwatch.monitoring.models import Report, ReportIdentifier

    out: dict[str, dict[str, Any]] = {}
    with container.uow() as uow:
        for start in range(0, len(report_ids), 500):
            chunk = report_ids[start : start + 500]
            for r in uow.session.scalars(sa.select(Report).where(Report.report_id.in_(chunk))):
                out[r.report_id] = {
                    "text": r.description, "channel": r.channel, "amount_lost": r.amount_lost,
                    "ai_technique": r.ai_technique, "region": r.region, "reported_at": r.reported_at,
                    "reporter_type": r.reporter_type, "identifiers": {},
                }
            for ident in uow.session.scalars(
                sa.select(ReportIdentifier).where(ReportIdentifier.report_id.in_(chunk))
            ):
                if ident.report_id in out:
                    out[ident.report_id]["identifiers"].setdefault(ident.kind, []).append(ident.value)
    return out


def retrain_detector(container: Container) -> str:
    """Retrain on analysts' labels; the candidate is promoted only if it beats the active model."""
    from tierwatch.antifraud.training import retraining

    result = retraining.retrain_from_labels(
        container.uow(), container.settings.data_dir / "models",
        lambda ids: fetch_reports(container, ids),
    )
    log.info("retraining: %s", result.reason)
    return result.reason


def detector_drift(container: Container) -> bool:
    """PSI of last week's scores and features against the active model's reference."""
    from tierwatch.antifraud import service
    from tierwatch.antifraud.bundle import report_from_files
    from tierwatch.antifraud.model_store import ModelStore
    from tierwatch.monitoring.models import Report

    registry = ModelStore(container.settings.data_dir / "models")
    version = registry.active("report")
    if version is None:
        return False
    with container.uow() as uow:
        ids = list(uow.session.scalars(
            sa.select(Report.report_id).where(
                Report.kind == "scam", Report.reported_at >= utcnow() - DRIFT_WINDOW
            ).limit(20000)
        ))
    reports = list(fetch_reports(container, ids).values())
    report = service.drift_report(report_from_files(registry.load_files(version)), version, reports)
    if report.alert:
        _publish_drift_alert(container, version, report)
    return bool(report.alert)


def _publish_drift_alert(container: Container, version: str, report: Any) -> None:
    import json

    from tierwatch.core.ids import new_id
    from tierwatch.core.settings import IntakeSettings

    topic = IntakeSettings().alert_topic
    alert = {
        "schema_version": 1, "kind": "alert", "report_id": new_id(), "rule_id": "detector.drift",
        "severity": "medium", "title": f"检测模型输入分布漂移 / detector drift ({version})",
        "summary": str(report)[:4000], "created_at": utcnow().isoformat(),
    }
    container.bus.ensure_topics([topic])
    container.bus.publish(topic, json.dumps(alert, ensure_ascii=False).encode(), key="detector.drift")
    log.warning("detector drift alert published for %s", version)


jobs.register("registry.supervision_tasks", supervision_tasks, seconds=HOUR)
jobs.register("antifraud.drift", detector_drift, seconds=24 * HOUR, misfire_grace_time=HOUR)
jobs.register("antifraud.retrain", retrain_detector, seconds=7 * 24 * HOUR, misfire_grace_time=HOUR)


# `tierwatch worker` is monitoring's worker command, run with the jobs above registered.
from tierwatch.monitoring.cli import worker  # noqa: E402,F401
