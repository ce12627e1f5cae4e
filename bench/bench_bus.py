"""KafkaBus alone: CPU to produce and to consume ~500-byte JSON reports (see bench/README.md).

Per run: a fresh 6-partition topic; N synthetic reports published with ``publish_many`` (chunks
of 1,000, as bench_pipeline.py does), then consumed by one member of a fresh group that commits
after every poll, as the worker does. CPU seconds of this process (all its threads: the Kafka
client's own threads included) and of the broker, per 10,000 records; medians of the runs.
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.cpu import process_cpu, service_pids
from tierwatch.core.bus.kafka import KafkaBus
from tierwatch.monitoring.loadgen import synthetic_reports

KAFKA = "127.0.0.1:9092"
TOPIC = "bench-bus"
CHUNK = 1000


def _option(text: str) -> tuple[str, object]:
    key, _, value = text.partition("=")
    return key, int(value) if value.lstrip("-").isdigit() else value


def one_run(values: list[tuple[str, bytes]], producer_options: dict[str, object], broker_pid: int) -> dict[str, float]:
    prefix = f"bench-bus-{uuid.uuid4().hex[:8]}."
    bus = KafkaBus(KAFKA, topic_prefix=prefix, partitions=6, producer_options=producer_options)
    bus.ensure_topics([TOPIC])
    bus.publish(TOPIC, b"{}", key="warm-up")  # connections and metadata outside the measurement
    n = len(values)
    try:
        cpu, broker, wall = time.process_time(), process_cpu(broker_pid), time.monotonic()
        for i in range(0, n, CHUNK):
            bus.publish_many(TOPIC, values[i : i + CHUNK])
        produce = (time.process_time() - cpu, process_cpu(broker_pid) - broker, time.monotonic() - wall)

        consumer = bus.consumer(f"bench-{uuid.uuid4().hex[:8]}", [TOPIC])
        cpu, broker, wall = time.process_time(), process_cpu(broker_pid), time.monotonic()
        seen, deadline = 0, time.monotonic() + 300
        while seen < n + 1 and time.monotonic() < deadline:
            seen += len(consumer.poll(500, timeout=1.0))
            consumer.commit()
        consume = (time.process_time() - cpu, process_cpu(broker_pid) - broker, time.monotonic() - wall)
        consumer.close()
        if seen != n + 1:
            raise SystemExit(f"consumed {seen} of {n + 1} records")
    finally:
        bus.close()
        _delete_topics(prefix)
    per10k = 10_000 / n
    return {
        "produce_cpu": produce[0] * per10k, "produce_broker": produce[1] * per10k, "produce_wall": produce[2],
        "consume_cpu": consume[0] * per10k, "consume_broker": consume[1] * per10k, "consume_wall": consume[2],
    }


def _delete_topics(prefix: str) -> None:
    from confluent_kafka.admin import AdminClient

    admin = AdminClient({"bootstrap.servers": KAFKA}, logger=logging.getLogger("bench.admin"))
    ours = [t for t in admin.list_topics(timeout=10).topics if t.startswith(prefix)]
    for future in admin.delete_topics(ours).values() if ours else ():
        future.result()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--producer-option", action="append", default=[], metavar="KEY=VALUE",
                        help="passed to KafkaBus(producer_options=...), e.g. compression.type=zstd")
    args = parser.parse_args()
    values = [(r["report_id"], json.dumps(r, ensure_ascii=False).encode())
              for r in synthetic_reports(args.records, seed=7)]
    options = dict(_option(o) for o in args.producer_option)
    broker_pid = service_pids()["kafka"]
    mean_size = sum(len(v) for _, v in values) / len(values)
    print(f"{args.records} records of {mean_size:.0f} bytes mean, producer options {options or 'default'}")
    runs = []
    for i in range(args.runs):
        runs.append(one_run(values, options, broker_pid))
        print(f"run {i + 1}: " + ", ".join(f"{k} {v:.3f}" for k, v in runs[-1].items()), flush=True)
    print("median CPU seconds per 10,000 records (wall: seconds for all records):")
    for key in runs[0]:
        print(f"  {key:<15} {statistics.median(r[key] for r in runs):8.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
