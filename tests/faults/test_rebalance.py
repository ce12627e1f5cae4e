"""Workers replaced while the group rebalances: a new member joins as an old one leaves, twice."""

from __future__ import annotations

import signal
import time

import pytest

from tests.stream import assert_exactly_once

pytestmark = [pytest.mark.faults, pytest.mark.kafka, pytest.mark.postgres, pytest.mark.elasticsearch,
              pytest.mark.timeout(300)]

N = 4_000


def test_workers_replaced_during_a_rebalance_lose_and_double_nothing(kafka_stream, record_figures):
    s = kafka_stream
    first, second = s.start_worker(), s.start_worker()
    s.wait_ready(first, second)
    producer = s.publish_in_background(s.reports(N, seed=13), rate=300)
    for leaving, at in ((first, 800), (second, 2_000)):
        s.wait_stored(at)
        s.start_worker()  # joining starts a rebalance ...
        leaving.send_signal(signal.SIGTERM)  # ... and the member leaving mid-way starts another
        leaving.wait(timeout=60)
    replaced = time.monotonic()
    producer.join(timeout=120)
    drained = s.wait_complete(N)
    figures = s.figures(N, drained, replaced, workers_started=len(s.workers))
    record_figures(**figures)
    assert_exactly_once(figures, N)
    assert first.returncode == second.returncode == 0  # each finished its batch and left cleanly
    s.stop_workers()
