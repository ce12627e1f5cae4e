"""The intake pipeline on the embedded default: SqlBus + FtsIndex + SQLite, no servers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest
import sqlalchemy as sa

from tierwatch.core.bus import dlq_topic
from tierwatch.core.bus.sql import BusRecord, SqlBus
from tierwatch.core.db import UnitOfWork, make_engine, make_session_factory
from tierwatch.core.search import SearchQuery
from tierwatch.core.search.common import IndexNotFound
from tierwatch.core.search.fts import FtsIndex
from tierwatch.monitoring.indexing import REPORTS_INDEX
from tierwatch.monitoring.linking import ApplicationLinker
from tierwatch.monitoring.loadgen import synthetic_reports
from tierwatch.monitoring.models import Report
from tierwatch.monitoring.scoring import RuleScorer
from tierwatch.core.settings import IntakeSettings
from tierwatch.monitoring.worker import Worker
from tests.keyring import new_report_keys

REPO = Path(__file__).resolve().parents[2]
SCAM = "reports.scam"


class Embedded:
    def __init__(self, url: str, tmp: Path):
        self.engine = make_engine(url)
        self.factory = make_session_factory(self.engine)
        self.bus = SqlBus(self.engine, partitions=3, session_timeout=2.0)
        self.search = FtsIndex(tmp / "search.db")
        self.settings = IntakeSettings(batch_size=200, poll_timeout=0.05, max_backoff=0.2)

    def worker(self, search=None, **kw) -> Worker:
        return Worker(self.bus, search or self.search, lambda: UnitOfWork(self.factory), RuleScorer(),
                      ApplicationLinker(lambda: []), self.settings,
                      report_keys=new_report_keys(), **kw)

    def publish(self, reports) -> None:
        self.bus.ensure_topics([SCAM])
        self.bus.publish_many(SCAM, [(r["report_id"], json.dumps(r, ensure_ascii=False).encode()) for r in reports])

    def stored(self) -> tuple[int, int]:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(sa.func.count(), sa.func.count(sa.distinct(Report.report_id)))).one()

    def dead_letters(self) -> list[tuple[bytes, dict]]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(BusRecord.value, BusRecord.headers).where(BusRecord.topic == dlq_topic(SCAM)))
            return [(bytes(v), h) for v, h in rows]


def _count(search) -> int:
    try:
        return search.count(REPORTS_INDEX)
    except IndexNotFound:  # the worker process has not created it yet
        return 0


@pytest.fixture
def env(migrated_sqlite, tmp_path):
    e = Embedded(migrated_sqlite, tmp_path)
    yield e
    e.search.close()
    e.engine.dispose()


def test_reports_are_stored_indexed_and_searchable_once(env):
    reports = list(synthetic_reports(600, seed=1))
    env.publish(reports)
    env.publish(reports[:100])  # a producer retrying: same report ids again
    env.bus.publish(SCAM, b"{not json", key="bad-1")
    env.bus.publish(SCAM, json.dumps({**reports[0], "report_id": "bad-0000002", "amount_lost": "lots"}).encode())
    stats = env.worker().run(exit_when_idle=0.5)
    assert env.stored() == (600, 600)
    assert (stats.stored, stats.duplicates, stats.dead_lettered) == (600, 100, 2)
    assert env.search.count(REPORTS_INDEX) == 600
    hit = env.search.search(REPORTS_INDEX, SearchQuery(text="换脸", limit=1)).hits[0]  # two Han characters
    assert "换脸" in hit["description"] and hit["scam_probability"] > 0.5
    assert "reporter_contact" not in hit and not any("139" in str(v) for k, v in hit.items() if k != "description")
    letters = sorted(h["reason"][:10] for _, h in env.dead_letters())
    assert letters == ["bad JSON: ", "schema: am"]


INCIDENTS = "reports.incident"


def test_a_batch_of_every_report_kind_is_stored_and_indexed(env):
    reports = list(synthetic_reports(20, seed=5))
    env.publish(reports)
    incident = {"report_id": "inc-mixed-0001", "kind": "incident", "app_name": "某智能客服",
                "occurred_at": "2026-03-01T08:00:00+08:00", "incident_type": "data_leak", "severity": "high",
                "affected_users": 1200, "description": "对话记录被泄露", "reported_at": "2026-03-01T09:00:00+08:00"}
    env.bus.ensure_topics([INCIDENTS])
    env.bus.publish(INCIDENTS, json.dumps(incident, ensure_ascii=False).encode(), key=incident["report_id"])
    stats = env.worker().run(exit_when_idle=0.5)
    assert env.stored() == (21, 21) and stats.dead_lettered == 0 and stats.batches >= 1
    assert env.search.count(REPORTS_INDEX) == 21
    assert env.search.get(REPORTS_INDEX, "inc-mixed-0001")["affected_users"] == 1200


def test_a_report_the_database_refuses_is_dead_lettered_and_its_batch_stored(env):
    class Refusing(RuleScorer):
        """A scorer whose result for one report the database cannot store (a probability that is
        not a number): the kind of data error that stopped every worker before."""

        def score_batch(self, items, reputation):
            scores = super().score_batch(items, reputation)
            return [s if item.report_id != poison else replace(s, scam_probability=object())
                    for item, s in zip(items, scores)]

    reports = list(synthetic_reports(200, seed=6))
    poison = reports[77]["report_id"]
    env.publish(reports)
    worker = Worker(env.bus, env.search, lambda: UnitOfWork(env.factory), Refusing(),
                    ApplicationLinker(lambda: []), env.settings, report_keys=new_report_keys())
    stats = worker.run(exit_when_idle=0.5)
    assert env.stored() == (199, 199) and stats.dead_lettered == 1 and stats.stored == 199
    assert env.search.count(REPORTS_INDEX) == 199 and env.search.get(REPORTS_INDEX, poison) is None
    [(value, headers)] = env.dead_letters()
    assert json.loads(value)["report_id"] == poison and headers["reason"].startswith("database: ")


def test_search_outage_is_waited_out_and_nothing_is_committed_before(env):
    class Flaky:
        """The real index, refusing the first few bulk writes."""

        def __init__(self, inner, failures):
            self.inner, self.failures, self.calls = inner, failures, 0

        def __getattr__(self, name):
            return getattr(self.inner, name)

        def bulk_index(self, name, docs):
            self.calls += 1
            if self.calls <= self.failures:
                raise ConnectionError("search index down")
            return self.inner.bulk_index(name, docs)

    env.publish(list(synthetic_reports(300, seed=2)))
    flaky = Flaky(env.search, failures=4)
    stats = env.worker(search=flaky).run(exit_when_idle=0.5)
    # The first failure is the request sent while the database writes; the other three are retries.
    assert stats.retries == 3 and env.search.count(REPORTS_INDEX) == 300 and env.stored() == (300, 300)


def test_an_attempt_the_database_loses_takes_back_what_it_indexed_early(env):
    """Documents go to the index while the database writes; when that transaction fails, they
    are removed before the retry, so search never keeps a report whose row was not written."""
    seen_before_retry: list[int] = []

    class CommitFailsOnce(UnitOfWork):
        attempts = 0

        def __enter__(self) -> UnitOfWork:
            if CommitFailsOnce.attempts == 1:  # the retry begins: nothing of the failed attempt is left
                seen_before_retry.append(_count(env.search))
            return super().__enter__()

        def commit(self) -> None:
            CommitFailsOnce.attempts += 1
            if CommitFailsOnce.attempts == 1:
                deadline = time.monotonic() + 10
                while _count(env.search) < 40 and time.monotonic() < deadline:
                    time.sleep(0.01)  # the early bulk request is on its way: let it land first
                seen_before_retry.append(_count(env.search))
                raise sa.exc.OperationalError("COMMIT", {}, ConnectionResetError("server closed the connection"))
            super().commit()

    env.publish(list(synthetic_reports(40, seed=7)))
    worker = Worker(env.bus, env.search, lambda: CommitFailsOnce(env.factory), RuleScorer(),
                    ApplicationLinker(lambda: []), env.settings, report_keys=new_report_keys())
    stats = worker.run(exit_when_idle=0.5)
    # 40 documents were in the index while the first transaction failed, none when the retry
    # began (it indexes them again), and all 40 at the end.
    assert seen_before_retry == [40, 0] and stats.retries == 1
    assert env.stored() == (40, 40) and env.search.count(REPORTS_INDEX) == 40


def test_stop_during_an_outage_leaves_the_batch_for_the_next_worker(env):
    class Down:
        def __init__(self, inner):
            self.inner = inner

        def __getattr__(self, name):
            return getattr(self.inner, name)

        def bulk_index(self, name, docs):
            raise ConnectionError("search index down")

    env.publish(list(synthetic_reports(50, seed=3)))
    stop = threading.Event()
    first = env.worker(search=Down(env.search), stop=stop)
    timer = threading.Timer(1.0, stop.set)
    timer.start()
    first.run(exit_when_idle=5)
    timer.join()
    assert env.stored() == (50, 50)  # stored, but never indexed nor committed
    second = env.worker().run(exit_when_idle=0.5)
    assert second.records == 50 and second.duplicates == 50  # redelivered, not doubled
    assert env.search.count(REPORTS_INDEX) == 50


def test_worker_process_runs_from_settings_and_stops_on_sigterm(env, migrated_sqlite, tmp_path):
    env.publish(list(synthetic_reports(200, seed=4)))
    stats_file = tmp_path / "stats.json"
    proc_env = {**os.environ, "TIERWATCH_DATABASE_URL": migrated_sqlite, "TIERWATCH_DATA_DIR": str(tmp_path),
                "TIERWATCH_KAFKA_PARTITIONS": "3", "TIERWATCH_INDEX_PREFIX": "tierwatch-"}
    proc = subprocess.Popen([sys.executable, "-m", "tierwatch.cli", "worker", "--no-jobs", "--stats-file", str(stats_file)],
                            cwd=REPO, env=proc_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while _count(env.search) < 200:
            assert time.monotonic() < deadline, "worker did not index the reports"
            time.sleep(0.2)
        proc.terminate()
        out, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, out.decode()
    assert json.loads(stats_file.read_text())["stored"] == 200
    assert b"worker stopped" in out
