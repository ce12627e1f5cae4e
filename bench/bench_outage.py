"""How long a consumer group stalls after a Kafka outage longer than its session.

Starts a broker of its own (other ports, a temporary data directory: the shared one on 9092 is
never touched), a producer sending 20 records/s (it keeps retrying through the outage) and one
consumer-group member polling and committing like the worker. Then, per session timeout: stop
the broker for ``--outage`` seconds, start it again, and time from "broker ready" to the first
record the member consumes. Heartbeat interval and max poll interval are the same in every run.

    python bench/bench_outage.py [--outage 50] [--session-timeouts 45,10]

45 s is librdkafka's default (what the worker ran with before TIERWATCH_INTAKE_SESSION_TIMEOUT);
10 s is the new default.
"""

from __future__ import annotations

import argparse
import json
import shutil
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

from tierwatch.core.bus.kafka import KafkaBus
from tierwatch.core.services.kafka import KafkaService
from tierwatch.core.services.layout import Layout


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def own_broker(state_dir: Path) -> KafkaService:
    shared = Layout.from_env()
    broker = KafkaService(Layout(shared.source_dir, shared.cache_dir, state_dir),
                          broker_port=free_port(), controller_port=free_port())
    broker.prepare(print)
    return broker


def start(broker: KafkaService) -> float:
    broker.launch()
    broker.wait_ready(broker.ready_timeout)
    return time.monotonic()


def one_run(broker: KafkaService, session_s: float, outage_s: float, rate: float) -> dict[str, float]:
    bootstrap = broker.endpoint()
    tag = f"outage{int(session_s)}-{int(time.time())}"
    options = {"session.timeout.ms": int(session_s * 1000), "heartbeat.interval.ms": 3000,
               "max.poll.interval.ms": 300_000}
    bus = KafkaBus(bootstrap, topic_prefix=f"{tag}.", partitions=6, consumer_options=options, send_timeout=2)
    bus.ensure_topics(["events"])
    stop = threading.Event()
    received: list[float] = []  # monotonic time of each record consumed

    def produce() -> None:
        seq = 0
        while not stop.is_set():
            try:
                bus.publish_many("events", [(str(seq), json.dumps({"seq": seq}).encode())])
                seq += 1
            except Exception:  # noqa: BLE001 - the broker is away: the same record again
                pass
            stop.wait(1 / rate)

    def consume() -> None:
        consumer = bus.consumer(f"{tag}-group", ["events"])
        try:
            while not stop.is_set():
                records = consumer.poll(500, 0.5)
                if records:
                    received.extend([time.monotonic()] * len(records))
                    try:
                        consumer.commit()
                    except Exception:  # noqa: BLE001 - broker away: redelivered later
                        pass
        finally:
            consumer.close()

    threads = [threading.Thread(target=produce, daemon=True), threading.Thread(target=consume, daemon=True)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 60
    while len(received) < rate * 5:  # steady state: the member consumes
        if time.monotonic() > deadline:
            raise RuntimeError("consumer never started consuming")
        time.sleep(0.2)
    broker.stop()
    stopped = time.monotonic()
    time.sleep(max(0.0, outage_s - (time.monotonic() - stopped)))
    ready = start(broker)
    before = len(received)
    deadline = ready + 180
    while len(received) == before and time.monotonic() < deadline:
        time.sleep(0.05)
    first = received[before] if len(received) > before else float("nan")
    stop.set()
    for thread in threads:
        thread.join(timeout=30)
    bus.close()
    return {"session_timeout_s": session_s, "outage_s": round(ready - stopped, 1),
            "stall_after_ready_s": round(first - ready, 1)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--outage", type=float, default=50.0, help="seconds the broker is down")
    parser.add_argument("--session-timeouts", default="45,10", help="seconds, comma-separated")
    parser.add_argument("--rate", type=float, default=20.0, help="records per second")
    args = parser.parse_args()
    state = Path(tempfile.mkdtemp(prefix="tierwatch-bench-outage-"))
    broker = own_broker(state)
    try:
        start(broker)
        results = [one_run(broker, float(s), args.outage, args.rate) for s in args.session_timeouts.split(",")]
    finally:
        broker.stop()
        shutil.rmtree(state, ignore_errors=True)
    for result in results:
        print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
