"""PostgreSQL crashed (immediate stop) and restarted mid-stream under two workers."""

from __future__ import annotations

import signal
import time

import pytest

from tierwatch.core.search import SearchQuery
from tierwatch.monitoring.indexing import REPORTS_INDEX
from tests.stream import assert_exactly_once

pytestmark = [pytest.mark.faults, pytest.mark.kafka, pytest.mark.postgres, pytest.mark.elasticsearch,
              pytest.mark.timeout(300)]

N = 4_000


def indexed_ids(stream) -> list[str]:  # type: ignore[no-untyped-def]
    stream.search.refresh(REPORTS_INDEX)
    result = stream.search.search(REPORTS_INDEX, SearchQuery(limit=10_000))
    return [hit["id"] for hit in result.hits]


def test_database_crash_loses_nothing_and_search_never_runs_ahead(kafka_stream, own_postgres, record_figures):
    s = kafka_stream
    s.wait_ready(s.start_worker(), s.start_worker())
    # As fast as the producer goes: the workers are always inside a transaction, so the crash
    # lands between a batch's early index request and its commit.
    producer = s.publish_in_background(s.reports(N, seed=12))
    s.wait_stored(800)
    stopped = time.monotonic()
    own_postgres.stop("immediate")  # a crash: in-flight transactions are lost, committed ones kept
    time.sleep(8)
    # Freeze the workers, bring the database back and look before they can write again: every
    # document the index holds must have its row already (committed before the crash).
    s.signal_all(signal.SIGSTOP)
    try:
        ahead_of_database = indexed_ids(s)
        own_postgres.start()
        back = time.monotonic()
        missing_rows = sorted(set(ahead_of_database) - s.stored_ids(ahead_of_database))
    finally:
        s.signal_all(signal.SIGCONT)
    producer.join(timeout=120)
    drained = s.wait_complete(N)
    figures = s.figures(N, drained, back, outage_s=round(back - stopped, 1),
                        indexed_while_down=len(ahead_of_database), documents_without_row=len(missing_rows))
    record_figures(**figures)
    assert missing_rows == [], missing_rows[:10]
    assert_exactly_once(figures, N)
    s.stop_workers()
