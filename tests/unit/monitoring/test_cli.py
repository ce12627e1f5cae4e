"""`tierwatch intake replay` on the embedded bus."""

from __future__ import annotations

import json

import sqlalchemy as sa
from click.testing import CliRunner

from tierwatch.core.bus.sql import BusRecord
from tierwatch.cli.intake import intake
from tierwatch.monitoring.loadgen import synthetic_reports


def test_replay_publishes_every_line_by_kind_bad_lines_included(container, tmp_path, monkeypatch):
    monkeypatch.setenv("TIERWATCH_DATABASE_URL", container.settings.resolved_database_url)
    monkeypatch.setenv("TIERWATCH_DATA_DIR", str(tmp_path))
    reports = list(synthetic_reports(30, seed=3))
    incident = {"kind": "incident", "report_id": "inc-000000001"}
    lines = [json.dumps(r, ensure_ascii=False) for r in reports] + [json.dumps(incident), "{not json", ""]
    feed = tmp_path / "feed.jsonl"
    feed.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = CliRunner().invoke(intake, ["replay", str(feed), "--rate", "1000", "--chunk", "7"])
    assert result.exit_code == 0, result.output
    assert "published 32 messages" in result.output
    with container.uow() as uow:
        rows = uow.session.execute(sa.select(BusRecord.topic, BusRecord.key, BusRecord.value)).all()
    by_topic = {}
    for topic, key, value in rows:
        by_topic.setdefault(topic, []).append((key, value))
    assert len(by_topic["reports.scam"]) == 31 and len(by_topic["reports.incident"]) == 1
    assert (None, b"{not json") in by_topic["reports.scam"]  # the worker will dead-letter it
    assert {k for k, _ in by_topic["reports.scam"]} - {None} == {r["report_id"] for r in reports}
