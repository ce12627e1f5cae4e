"""The embedded default (SQLite, the database-backed queue, FTS5) with its worker SIGKILLed twice."""

from __future__ import annotations

import signal
import time

import pytest

from tierwatch.core.bus.sql import SqlBus
from tierwatch.core.db import make_engine
from tierwatch.core.migrate import upgrade
from tierwatch.core.search.fts import FtsIndex
from tests.stream import Stream, assert_exactly_once

pytestmark = [pytest.mark.faults, pytest.mark.timeout(300)]

N = 3_000


@pytest.fixture
def embedded_stream(tmp_path):  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'tierwatch.db'}"
    upgrade(url)
    engine = make_engine(url)
    env = {"TIERWATCH_BUS": "sql", "TIERWATCH_SEARCH": "fts"}
    stream = Stream(tmp_path, env, SqlBus(engine), FtsIndex(tmp_path / "search.db", prefix="tierwatch-"), url)
    yield stream
    stream.close()
    engine.dispose()


def test_embedded_worker_sigkilled_twice_loses_and_doubles_nothing(embedded_stream, record_figures):
    s = embedded_stream
    s.publish(s.reports(N, seed=14))
    worker = s.start_worker()
    for at in (600, 1_800):
        s.wait_stored(at)
        worker.send_signal(signal.SIGKILL)
        worker.wait()
        worker = s.start_worker()
    restarted = time.monotonic()
    drained = s.wait_complete(N)
    figures = s.figures(N, drained, restarted, kills=2)
    record_figures(**figures)
    assert_exactly_once(figures, N)
    s.stop_workers()
