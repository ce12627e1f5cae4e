"""Intake while the broker is away: the API's retry with the same key, the replay that resumes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter

import pytest

from tierwatch.bootstrap import build
from tierwatch.core.migrate import upgrade
from tierwatch.core.settings import load_settings
from tierwatch.monitoring.loadgen import synthetic_reports
from tierwatch.monitoring.topics import ensure_topics

pytestmark = [pytest.mark.faults, pytest.mark.kafka, pytest.mark.timeout(300)]

SCAM = {"description": "冒充客服说要注销百万保障，让我共享屏幕", "channel": "phone", "region": "广东"}
KEY = "3d6f0a52-8c1e-4f7b-a9d2-5e4c3b2a1f00"


def consumed_keys(bus, topic: str, expect: int, timeout: float = 60) -> Counter[str]:  # type: ignore[no-untyped-def]
    """Every record's key on ``topic``, read from the start by a fresh group."""
    consumer = bus.consumer(f"check-{os.urandom(4).hex()}", [topic])
    keys: Counter[str] = Counter()
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline and (sum(keys.values()) < expect or time.monotonic() < deadline - timeout + 5):
            keys.update(r.key for r in consumer.poll(1000, 0.5))
    finally:
        consumer.close()
    return keys


@pytest.fixture
def container_on_own_kafka(own_kafka, tmp_path):  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'tierwatch.db'}"
    upgrade(url)
    settings = load_settings(database_url=url, data_dir=tmp_path, bus="kafka", kafka_bootstrap=own_kafka.bootstrap,
                             kafka_topic_prefix=f"f{os.urandom(4).hex()}.", secret_key="k" * 32)
    settings = settings.model_copy(update={"intake": settings.intake.model_copy(update={"send_timeout": 2.0})})
    container = build(settings)
    ensure_topics(container.bus, settings.intake)
    yield container
    container.close()
    if own_kafka.service.running_pid() is None:
        own_kafka.start()


def test_a_submit_that_timed_out_and_its_retry_are_one_report(container_on_own_kafka, own_kafka, record_figures):
    from tierwatch.web import create_app
    from tierwatch.worker import build_worker

    container = container_on_own_kafka
    client = create_app({"TESTING": True}, container).test_client()
    own_kafka.stop()
    try:
        timed_out = client.post("/api/v1/reports/scam", json=SCAM, headers={"Idempotency-Key": KEY})
        again = client.post("/api/v1/reports/scam", json=SCAM, headers={"Idempotency-Key": KEY})
    finally:
        own_kafka.start()
    assert timed_out.status_code == again.status_code == 503
    body = timed_out.get_json()
    assert "may still arrive" in body["message"] and "same Idempotency-Key" in body["message"]
    assert body["report_id"] == again.get_json()["report_id"]
    accepted = client.post("/api/v1/reports/scam", json=SCAM, headers={"Idempotency-Key": KEY})
    assert accepted.status_code == 202 and accepted.get_json()["report_id"] == body["report_id"]
    container.bus.close()  # flushes what is still queued (the two timed-out attempts)
    keys = consumed_keys(container.bus, "reports.scam", expect=3)
    assert keys == Counter({body["report_id"]: 3})  # all three attempts arrived ...
    stats = build_worker(container, threading.Event()).run(exit_when_idle=2)
    assert (stats.records, stats.stored, stats.dead_lettered) == (3, 1, 0)  # ... and make one report
    record_figures(published=3, stored=stats.stored, records_consumed=stats.records)


def test_replay_stopped_by_the_broker_resumes_where_it_was_acknowledged(container_on_own_kafka, own_kafka, tmp_path,
                                                                         record_figures):
    container = container_on_own_kafka
    lines = [json.dumps(r, ensure_ascii=False) for r in synthetic_reports(3_000, seed=15, prefix="replay")]
    feed = tmp_path / "feed.jsonl"
    feed.write_text("\n".join(lines) + "\n", encoding="utf-8")
    progress_file = tmp_path / "feed.jsonl.progress"
    settings = container.settings
    env = {**os.environ, "TIERWATCH_BUS": "kafka", "TIERWATCH_KAFKA_BOOTSTRAP": own_kafka.bootstrap,
           "TIERWATCH_KAFKA_TOPIC_PREFIX": settings.kafka_topic_prefix, "TIERWATCH_DATA_DIR": str(tmp_path),
           "TIERWATCH_DATABASE_URL": settings.resolved_database_url, "TIERWATCH_INTAKE_SEND_TIMEOUT": "3"}
    command = [sys.executable, "-m", "tierwatch.cli", "intake", "replay", str(feed)]
    # 200 lines/s: the broker is stopped well before the 15 s the whole file would take.
    first = subprocess.Popen([*command, "--rate", "200"], env=env, cwd=tmp_path,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not progress_file.exists() or json.loads(progress_file.read_text())["line"] < 600:
        assert first.poll() is None and time.monotonic() < deadline, first.communicate()
        time.sleep(0.1)
    own_kafka.stop()
    try:
        out, err = first.communicate(timeout=90)
    finally:
        own_kafka.start()
    progress = json.loads(progress_file.read_text())
    assert first.returncode == 75, (out, err)
    assert "Traceback" not in err
    assert f"acknowledged up to line {progress['line']} (byte offset {progress['offset']}," in err
    assert f"tierwatch intake replay {feed} --resume" in err
    assert 600 <= progress["line"] < 3_000
    assert progress["offset"] == sum(len(line.encode()) + 1 for line in lines[: progress["line"]])
    second = subprocess.run([*command, "--resume"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert second.returncode == 0, second.stderr
    keys = consumed_keys(container.bus, "reports.scam", expect=3_000)
    ids = [json.loads(line)["report_id"] for line in lines]
    assert set(keys) == set(ids)  # every line arrived
    acknowledged = ids[: progress["line"]]
    assert all(keys[i] == 1 for i in acknowledged)  # the resume did not send the acknowledged ones again
    resent = sum(keys.values()) - len(ids)
    assert resent <= 20  # at most the chunk that failed (rate 200/s: chunks of 20)
    record_figures(lines=len(lines), acknowledged_before_stop=progress["line"], resent_after_resume=resent)
