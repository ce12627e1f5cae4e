"""Periodic jobs the worker runs: one table of job id -> function and schedule.

Other packages add theirs with ``register`` (supervision reminders, retraining, alert rules).
Defaults follow ElastAlert: coalesce missed runs into one, never run a job twice at once, a grace
time for late runs, stable ids so a restart replaces jobs instead of adding copies.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

if TYPE_CHECKING:
    from apscheduler.schedulers.background import BackgroundScheduler

    from tierwatch.bootstrap import Container

log = logging.getLogger(__name__)

JobFn = Callable[["Container"], Any]


@dataclass(frozen=True)
class Job:
    job_id: str
    fn: JobFn
    seconds: int  # interval; jobs needing calendar times can add a cron form later
    misfire_grace_time: int = 60


JOBS: dict[str, Job] = {}


def register(job_id: str, fn: JobFn, *, seconds: int, misfire_grace_time: int = 60) -> None:
    if job_id in JOBS and JOBS[job_id].fn is not fn:
        raise ValueError(f"job id {job_id!r} is already registered")
    JOBS[job_id] = Job(job_id, fn, seconds, misfire_grace_time)


def start_scheduler(container: Container, jobs: dict[str, Job] | None = None) -> BackgroundScheduler:
    from apscheduler.schedulers.background import BackgroundScheduler

    scheduler = BackgroundScheduler(
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 60}, timezone="UTC"
    )
    for job in (jobs if jobs is not None else JOBS).values():
        scheduler.add_job(
            _guarded(job, container),
            "interval",
            seconds=job.seconds,
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


def relink_applications(container: Container) -> int:
    """Link reports that name an app registered after they arrived."""
    from tierwatch.monitoring.linking import ApplicationLinker, load_applications
    from tierwatch.monitoring.models import Report

    t = Report.__table__
    with container.uow() as uow:
        linker = ApplicationLinker(lambda: load_applications(uow.session))
        rows = uow.session.execute(
            sa.select(t.c.id, t.c.app_name, t.c.filing_number)
            .where(t.c.application_id.is_(None), sa.or_(t.c.app_name.isnot(None), t.c.filing_number.isnot(None)))
            .limit(5000)
        ).all()
        updates = []
        for row_id, app_name, filing in rows:
            app = linker.find(filing_number=filing, names=[app_name] if app_name else [])
            if app is not None:
                updates.append({"rid": row_id, "aid": app.application_id})
        if updates:
            uow.session.execute(
                sa.update(t).where(t.c.id == sa.bindparam("rid")).values(application_id=sa.bindparam("aid")),
                updates,
            )
        uow.commit()
    return len(updates)


register("monitoring.relink_applications", relink_applications, seconds=600)
