"""Two workers merging campaigns at once on a real PostgreSQL: the loser's foreign-key violation
(23503: its campaign was merged away and deleted meanwhile) is a race, retried at once and
stored into the surviving campaign, never waited out as a database outage."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from tierwatch.core.bus import Record
from tierwatch.core.db import UnitOfWork, make_engine, make_session_factory
from tierwatch.core.search.fts import FtsIndex
from tierwatch.core.settings import IntakeSettings
from tierwatch.monitoring import campaigns
from tierwatch.monitoring.indexing import REPORTS_INDEX, REPORTS_SCHEMA
from tierwatch.monitoring.linking import ApplicationLinker
from tierwatch.monitoring.models import Campaign, KnownIdentifier, Report
from tierwatch.monitoring.scoring import RuleScorer
from tierwatch.monitoring.worker import Worker
from tests.keyring import new_report_keys
from tests.pg import fresh_database

pytestmark = pytest.mark.postgres
T0 = datetime(2026, 3, 1, 8, tzinfo=UTC)
P1, P2, P3 = "+8613800138001", "+8613800138002", "+8613800138003"


@pytest.fixture
def database(postgres_url: str) -> Iterator[str]:
    with fresh_database(postgres_url, "tw_race") as url:
        yield url


@pytest.fixture
def uow(database: str) -> Iterator:
    engine = make_engine(database)
    factory = make_session_factory(engine)
    yield lambda: UnitOfWork(factory)
    engine.dispose()


# The other worker is another process, as in production (the scoring thread is per process).
OTHER_WORKER = """
import json, sys
from datetime import datetime
from tierwatch.core.bus import Record
from tierwatch.core.db import UnitOfWork, make_engine, make_session_factory
from tierwatch.core.search.fts import FtsIndex
from tierwatch.core.settings import IntakeSettings
from tierwatch.monitoring.indexing import REPORTS_INDEX, REPORTS_SCHEMA
from tierwatch.monitoring.linking import ApplicationLinker
from tierwatch.monitoring.scoring import RuleScorer
from tierwatch.monitoring.worker import Worker
from tierwatch.monitoring.contacts import ContactCipher
from tierwatch.monitoring.store import ReportKeys

url, path, topic, key, value = sys.argv[1:6]
factory = make_session_factory(make_engine(url))
index = FtsIndex(path)
index.ensure_index(REPORTS_INDEX, REPORTS_SCHEMA)
worker = Worker(None, index, lambda: UnitOfWork(factory), RuleScorer(), ApplicationLinker(lambda: []),
                IntakeSettings(), member_id="merger",
                report_keys=ReportKeys(b"t" * 32, ContactCipher([b"c" * 32])))
worker.process([Record(topic, 0, 0, key, value.encode(), datetime.now().astimezone())])
print(json.dumps({"stored": worker.stats.stored, "conflicts": worker.stats.conflicts}))
"""


def record(n: int, *phones: str) -> Record:
    body = {"schema_version": 1, "report_id": f"race-{n:06d}", "kind": "scam", "channel": "phone",
            "description": "对方冒充客服让我转账", "reported_at": T0.replace(minute=n).isoformat(),
            "identifiers": {"phones": list(phones)}}
    return Record("reports.scam", 0, n, body["report_id"], json.dumps(body).encode(), T0)


def worker(uow, tmp_path, name: str) -> Worker:  # type: ignore[no-untyped-def]
    index = FtsIndex(tmp_path / f"{name}.db")
    index.ensure_index(REPORTS_INDEX, REPORTS_SCHEMA)  # Worker.run does this before its first batch
    return Worker(None, index, uow, RuleScorer(),  # type: ignore[arg-type]
                  ApplicationLinker(lambda: []), IntakeSettings(max_backoff=5.0), member_id=name,
                  report_keys=new_report_keys())


def campaign_of(uow, report_id: str) -> int | None:  # type: ignore[no-untyped-def]
    with uow() as u:
        return u.session.execute(sa.select(Report.campaign_id).where(Report.report_id == report_id)).scalar_one()


def test_a_campaign_merged_away_under_a_worker_is_a_race_not_an_outage(uow, database, tmp_path, monkeypatch,
                                                                       caplog):
    setup = worker(uow, tmp_path, "setup")
    setup.process([record(1, P1), record(2, P1)])  # campaign a: P1
    setup.process([record(3, P2), record(4, P2, P3)])  # campaign b (newer): P2; report 4 also has P3
    a, b = campaign_of(uow, "race-000001"), campaign_of(uow, "race-000004")
    assert a is not None and b is not None and a < b

    loser = worker(uow, tmp_path, "loser")
    original = campaigns._apply
    interleaved = threading.Event()
    merged: list[dict] = []

    def apply_after_a_merge_elsewhere(*args, **kwargs):  # type: ignore[no-untyped-def]
        # The loser has read report 4 in campaign b and is about to join it. Now the other worker
        # stores report 5 (P1 and P2), which merges b into the older a and deletes b, and commits.
        if not interleaved.is_set():
            interleaved.set()
            five = record(5, P1, P2)
            done = subprocess.run([sys.executable, "-c", OTHER_WORKER, database, str(tmp_path / "merger.db"),
                                   five.topic, five.key, five.value.decode()],
                                  capture_output=True, text=True, timeout=120)
            assert done.returncode == 0, done.stderr[-2000:]
            merged.append(json.loads(done.stdout.splitlines()[-1]))
        return original(*args, **kwargs)

    monkeypatch.setattr(campaigns, "_apply", apply_after_a_merge_elsewhere)
    with caplog.at_level(logging.INFO, logger="tierwatch.monitoring.worker"):
        loser.process([record(6, P3)])  # P3 is shared for the first time: pulls in report 4
    assert merged == [{"stored": 1, "conflicts": 0}]  # the other worker merged without waiting
    assert loser.stats.stored == 1 and loser.stats.conflicts == 1  # retried at once, as a race
    retried = [r.getMessage() for r in caplog.records if "retrying the batch" in r.getMessage()]
    assert len(retried) == 1 and "violates foreign key constraint" in retried[0]
    assert not [r for r in caplog.records if "unavailable" in r.getMessage()]
    with uow() as u:
        assert u.session.get(Campaign, b) is None  # merged away
        assert {campaign_of(uow, f"race-{n:06d}") for n in range(1, 7)} == {a}
        assert {k.campaign_id for k in u.session.scalars(sa.select(KnownIdentifier))} == {a}
        assert u.session.get(Campaign, a).report_count == 6
    for w in (setup, loser):
        w._pool.shutdown()
        w.search.close()
