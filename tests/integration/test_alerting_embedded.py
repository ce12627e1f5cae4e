"""Alerting as `tierwatch worker` runs it on the embedded default (SQLite, queue in the database,
FTS5): the worker stores reports and, in the same transaction, records the threshold rules'
matches; the evaluator job (holding the lease) raises the alert from the stream at once, and its
scheduled search of the same minute does not raise it again."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

from tierwatch import alerting
from tierwatch.bootstrap import build
from tierwatch.core.clock import utcnow
from tierwatch.core.settings import AlertSettings, IntakeSettings, load_settings
from tierwatch.monitoring.alerts.models import Alert, AlertInbox, AlertRun
from tierwatch.monitoring.intake import build_report, submit_many
from tierwatch.worker import build_worker

RULE = """\
schema_version: 1
id: sure-video-scam
title: {zh: 视频通话诈骗概率极高, en: Video-call scam almost certain}
type: threshold
severity: critical
owner: fraud-desk
group: identifiers
filter: {match: {kind: scam, channel: video_call}}
field: amount_lost
above: 50000
group_by: ident_phone
schedule: {every: 1m, buffer: 0}
"""


def test_threshold_fires_from_the_stream_once(migrated_sqlite: str, tmp_path: Path) -> None:
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "sure-video-scam.yaml").write_text(RULE)
    c = build(load_settings(database_url=migrated_sqlite, data_dir=tmp_path, secret_key="k" * 32,
                            intake=IntakeSettings(poll_timeout=0.05),
                            alerts=AlertSettings(rules_dir=tmp_path / "rules")))
    try:
        assert alerting.evaluate_alerts(c) is not None  # the only process: it leads; nothing yet
        now = utcnow()
        reports = [build_report("scam", {"description": "视频里的“儿子”要我转账", "channel": "video_call",
                                         "amount_lost": amount, "identifiers": {"phones": [phone]},
                                         "reporter_contact": {"phone": "13700000000"},
                                         "reported_at": (now - timedelta(seconds=20)).isoformat()})
                   for amount, phone in ((80000.0, "+8613600000001"), (1000.0, "+8613600000002"))]
        submit_many(c.bus, reports, c.settings.intake, c.report_keys.tracking)
        stop = threading.Event()
        worker = build_worker(c, stop)
        thread = threading.Thread(target=worker.run, kwargs={"exit_when_idle": 1.0})
        thread.start()
        thread.join(timeout=60)
        with c.session_factory() as s:
            assert s.scalar(sa.select(sa.func.count()).select_from(AlertInbox)) == 1  # in the report's transaction
        doc = c.search.get("reports", reports[0].report_id)
        assert doc is not None and len(doc["reporter_key"]) == 32 and "13700000000" not in str(doc)
        result = alerting.evaluate_alerts(c)  # within seconds, not at the next minute's end
        assert result is not None and result.streamed == 1
        later = alerting.evaluate_alerts(c, now + timedelta(minutes=2))  # the scheduled search sees it too
        assert later is not None
        with c.session_factory() as s:
            [alert] = s.scalars(sa.select(Alert))
            assert (alert.group_key, alert.severity, alert.report_count) == ("+8613600000001", "critical", 1)
            sources = {r.source for r in s.scalars(sa.select(AlertRun).where(AlertRun.matches > 0))}
            assert sources == {"stream"}  # the scheduled path found it already fired
    finally:
        c.close()
