"""The periodic-job table and the scheduler defaults."""

from __future__ import annotations

import pytest

from tierwatch import jobs
from tierwatch.jobs import JOBS, Job, job_table, relink_applications, start_scheduler


def test_monitoring_registers_its_jobs_under_stable_ids():
    assert JOBS["monitoring.relink_applications"].fn is relink_applications


def test_an_id_cannot_be_taken_twice():
    with pytest.raises(ValueError):
        job_table(JOBS["monitoring.relink_applications"], Job("monitoring.relink_applications", lambda c: None, seconds=5))


def test_scheduler_uses_safe_defaults_and_keeps_running_when_a_job_fails(container):
    calls = []

    def boom(c):
        calls.append(c)
        raise RuntimeError("job bug")

    scheduler = start_scheduler(container, {"t.boom": Job("t.boom", boom, seconds=3600)})
    try:
        job = scheduler.get_job("t.boom")
        assert (job.coalesce, job.max_instances, job.misfire_grace_time) == (True, 1, 60)
        job.func()  # run it now: the failure is logged, not raised into the scheduler
        assert calls == [container]
    finally:
        scheduler.shutdown(wait=False)


def test_relink_applications_links_reports_filed_before_the_app_was_registered(container, world):
    from datetime import UTC, datetime

    from tierwatch.monitoring.models import Report
    from tests.unit.monitoring.test_linking import approved_app

    with container.uow() as uow:
        uow.session.add(Report(report_id="rep-early-1", tracking_code="TW-EARLY", kind="scam", schema_version=1,
                               description="下载了安心贷APP", app_name="安心贷", reported_at=datetime(2026, 1, 1, tzinfo=UTC),
                               received_at=datetime(2026, 1, 1, tzinfo=UTC), score_reasons=[]))
        uow.commit()
    from tierwatch.monitoring.indexing import REPORTS_INDEX, REPORTS_SCHEMA

    container.search.ensure_index(REPORTS_INDEX, REPORTS_SCHEMA)
    container.search.bulk_index(REPORTS_INDEX, [{"id": "rep-early-1", "kind": "scam", "app": "安心贷"}])
    assert relink_applications(container) == 0
    app_id, _ = approved_app(container, world, "安心贷")
    assert relink_applications(container) == 1
    with container.uow() as uow:
        assert uow.session.scalar(Report.__table__.select().with_only_columns(Report.application_id)) == app_id
    # the index learns the link too (it used to keep the report unlinked)
    assert container.search.get(REPORTS_INDEX, "rep-early-1")["application_id"] == str(app_id)
    assert jobs.relink_applications(container) == 0  # nothing left to link
