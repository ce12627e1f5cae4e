"""Kafka stopped and restarted mid-stream, under two consumers and a publishing producer."""

from __future__ import annotations

import time

import pytest

from tierwatch.core.settings import IntakeSettings
from tests.stream import assert_exactly_once

pytestmark = [pytest.mark.faults, pytest.mark.kafka, pytest.mark.postgres, pytest.mark.elasticsearch,
              pytest.mark.timeout(300)]

N = 4_000


def test_broker_stopped_longer_than_the_session_loses_doubles_and_stalls_nothing(kafka_stream, own_kafka,
                                                                                  record_figures):
    s = kafka_stream
    s.wait_ready(s.start_worker(), s.start_worker())
    producer = s.publish_in_background(s.reports(N, seed=11), rate=300)
    s.wait_stored(800)
    stopped = time.monotonic()
    own_kafka.stop()
    session = IntakeSettings().session_timeout
    time.sleep(max(0.0, session + 5 - (time.monotonic() - stopped)))  # longer than the session
    before = (s.stored() or (0, 0))[1]
    own_kafka.start()
    back = time.monotonic()
    resumed = s.wait_for("progress after the broker returned", lambda: (s.stored() or (0, 0))[1] > before, 120)
    producer.join(timeout=120)
    drained = s.wait_complete(N)
    figures = s.figures(N, drained, back, outage_s=round(back - stopped, 1),
                        first_progress_after_return_s=round(resumed - back, 1))
    record_figures(**figures)
    assert_exactly_once(figures, N)
    # librdkafka's 45 s session made the group wait ~44 s for its old members after an outage
    # like this one; with the 10 s session it re-forms within about that.
    assert figures["first_progress_after_return_s"] < session + 15, figures
    s.stop_workers()
