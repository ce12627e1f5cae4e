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


def _published_ids(container) -> list[str]:
    with container.uow() as uow:
        return [k for (k,) in uow.session.execute(sa.select(BusRecord.key).order_by(BusRecord.id))]


def test_resume_sends_only_what_was_not_acknowledged(container, tmp_path, monkeypatch):
    monkeypatch.setenv("TIERWATCH_DATABASE_URL", container.settings.resolved_database_url)
    monkeypatch.setenv("TIERWATCH_DATA_DIR", str(tmp_path))
    reports = [json.dumps(r, ensure_ascii=False) for r in synthetic_reports(25, seed=5)]
    feed = tmp_path / "feed.jsonl"
    feed.write_text("\n".join(reports[:20]) + "\n", encoding="utf-8")
    first = CliRunner().invoke(intake, ["replay", str(feed), "--chunk", "6"])
    assert first.exit_code == 0, first.output
    progress = json.loads((tmp_path / "feed.jsonl.progress").read_text())
    assert (progress["line"], progress["offset"], progress["published"]) == (20, feed.stat().st_size, 20)
    with feed.open("a", encoding="utf-8") as fh:  # the partner's feed grows
        fh.write("\n".join(reports[20:]) + "\n")
    resumed = CliRunner().invoke(intake, ["replay", str(feed), "--resume"])
    assert resumed.exit_code == 0, resumed.output
    assert "published 5 messages" in resumed.output
    ids = _published_ids(container)
    assert ids == [json.loads(r)["report_id"] for r in reports]  # each line once, in order
    again = CliRunner().invoke(intake, ["replay", str(feed), "--resume"])
    assert "published 0 messages" in again.output and len(_published_ids(container)) == 25


def test_from_line_and_a_changed_file(container, tmp_path, monkeypatch):
    monkeypatch.setenv("TIERWATCH_DATABASE_URL", container.settings.resolved_database_url)
    monkeypatch.setenv("TIERWATCH_DATA_DIR", str(tmp_path))
    reports = [json.dumps(r, ensure_ascii=False) for r in synthetic_reports(10, seed=6)]
    feed = tmp_path / "feed.jsonl"
    feed.write_text("\n".join(reports) + "\n", encoding="utf-8")
    result = CliRunner().invoke(intake, ["replay", str(feed), "--from-line", "8"])
    assert result.exit_code == 0, result.output
    assert _published_ids(container) == [json.loads(r)["report_id"] for r in reports[7:]]
    feed.write_text("\n".join(reversed(reports)) + "\n", encoding="utf-8")  # not the file it was
    changed = CliRunner().invoke(intake, ["replay", str(feed), "--resume"])
    assert changed.exit_code == 2 and "changed in lines 1-10" in changed.output
    assert CliRunner().invoke(intake, ["replay", str(feed), "--resume", "--from-line", "2"]).exit_code == 2
    missing = CliRunner().invoke(intake, ["replay", str(tmp_path / "feed.jsonl.progress"), "--resume"])
    assert missing.exit_code == 2 and "no progress file" in missing.output
