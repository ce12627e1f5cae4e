"""End-to-end intake benchmark on the real services: Kafka -> worker -> PostgreSQL -> Elasticsearch.

For each batch size (1 and the default) fresh worker processes (2 by default, one consumer group)
run with their own topics and index; 20,000 reports warm everything up first, then:
- throughput: publish N reports as fast as the producer can, time until all N are searchable,
  with the CPU each process spent per report;
- latency: publish at a fixed rate (500/s), and for every 10th report time from the publish call
  until a search finds it (the index refreshes every second, as in production).

    python bench/bench_pipeline.py [--reports 60000] [--batch-sizes 1,2000] [--workers 2] [--profile]

Needs `python -m core.services up`. Prints both batch sizes side by side.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import subprocess
import sys
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from elasticsearch import Elasticsearch  # noqa: E402

from tierwatch.core.bus.kafka import KafkaBus  # noqa: E402
from tierwatch.core.db import make_engine  # noqa: E402
from tierwatch.core.migrate import upgrade  # noqa: E402
from tierwatch.core.search.common import physical_name  # noqa: E402
from tierwatch.monitoring.indexing import REPORTS_INDEX  # noqa: E402
from tierwatch.monitoring.loadgen import synthetic_reports  # noqa: E402
from tierwatch.core.settings import IntakeSettings  # noqa: E402

from bench.cpu import meter  # noqa: E402

KAFKA = os.environ.get("TIERWATCH_KAFKA_BOOTSTRAP", "127.0.0.1:9092")
ES = os.environ.get("TIERWATCH_ELASTICSEARCH_URL", "http://127.0.0.1:9200")
PG = os.environ.get("TIERWATCH_TEST_POSTGRES_URL", "postgresql+psycopg://tierwatch:tierwatch@127.0.0.1:5432/tierwatch_test")
SCAM_TOPIC = "reports.scam"


def create_database() -> tuple[str, str]:
    name = f"tw_bench_{secrets.token_hex(4)}"
    admin = make_engine(PG, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()
    url = PG.rsplit("/", 1)[0] + f"/{name}"
    upgrade(url)
    return url, name


def drop_database(name: str) -> None:
    admin = make_engine(PG, isolation_level="AUTOCOMMIT")
    try:
        for attempt in range(5):
            try:
                with admin.connect() as conn:
                    conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                return
            except Exception:  # noqa: BLE001 - an autovacuum worker (not ours to end) may still be in it
                if attempt == 4:
                    raise
                time.sleep(2)
    finally:
        admin.dispose()


class Phase:
    """One worker process with its own topic prefix and index, for one batch size."""

    def __init__(self, db_url: str, batch_size: int, workdir: Path, profile: bool, models_dir: Path | None,
                 workers: int = 1):
        tag = secrets.token_hex(3)
        self.batch_size = batch_size
        self.topic_prefix = f"bench-{tag}."
        self.index_prefix = f"bench-{tag}-"
        self.stats_files = [workdir / f"stats-{tag}-{i}.json" for i in range(workers)]
        self.profile_file = workdir / f"profile-b{batch_size}.txt" if profile else None
        env = {
            **os.environ,
            "TIERWATCH_DATABASE_URL": db_url,
            "TIERWATCH_BUS": "kafka",
            "TIERWATCH_SEARCH": "elasticsearch",
            "TIERWATCH_KAFKA_BOOTSTRAP": KAFKA,
            "TIERWATCH_ELASTICSEARCH_URL": ES,
            "TIERWATCH_KAFKA_TOPIC_PREFIX": self.topic_prefix,
            "TIERWATCH_INDEX_PREFIX": self.index_prefix,
            "TIERWATCH_KAFKA_PARTITIONS": "6",
            "TIERWATCH_DATA_DIR": str(workdir),
            "TIERWATCH_INTAKE_BATCH_SIZE": str(batch_size),
            "PYTHONPATH": str(REPO),
        }
        if self.profile_file:
            env["TIERWATCH_WORKER_PROFILE"] = str(self.profile_file)
        if models_dir:
            env["TIERWATCH_INTAKE_MODELS_DIR"] = str(models_dir)
        self.bus = KafkaBus(KAFKA, topic_prefix=self.topic_prefix, partitions=6,
                            producer_options={"linger.ms": 5})
        self.bus.ensure_topics([SCAM_TOPIC])
        self.log = (workdir / f"worker-{tag}.log").open("wb")
        self.procs = []
        for i, stats_file in enumerate(self.stats_files):
            worker_env = dict(env)
            if i > 0:
                worker_env.pop("TIERWATCH_WORKER_PROFILE", None)  # the first worker's profile only
            self.procs.append(subprocess.Popen(
                [sys.executable, "-m", "tierwatch.cli", "worker", "--no-jobs", "--stats-file", str(stats_file)],
                cwd=REPO, env=worker_env, stdout=self.log, stderr=subprocess.STDOUT,
            ))
        self.es = Elasticsearch(ES, request_timeout=30)
        self.index = physical_name(self.index_prefix, REPORTS_INDEX)
        deadline = time.monotonic() + 60
        while not all(f.exists() for f in self.stats_files):
            if time.monotonic() > deadline or any(p.poll() is not None for p in self.procs):
                raise RuntimeError(f"worker did not start; see {self.log.name}")
            time.sleep(0.1)

    def publish(self, reports: list[dict[str, Any]]) -> None:
        self.bus.publish_many(SCAM_TOPIC, [(r["report_id"], json.dumps(r, ensure_ascii=False).encode()) for r in reports])

    def searchable(self) -> int:
        # No forced refresh: reports become searchable on the index's own 1 s refresh, as in
        # production (forcing one every poll would also make ES write many tiny segments).
        return int(self.es.count(index=self.index)["count"])

    def found(self, ids: list[str]) -> dict[str, float]:
        """Which of ``ids`` a search (not a realtime get) sees now -> when the worker received it."""
        resp = self.es.search(index=self.index, query={"ids": {"values": ids}}, source=["received_at"],
                              size=len(ids))
        return {hit["_id"]: datetime.fromisoformat(hit["_source"]["received_at"]).timestamp()
                for hit in resp["hits"]["hits"]}

    def close(self) -> None:
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
        self.log.close()
        self.bus.close()
        try:
            self.es.indices.delete(index=self.index, ignore_unavailable=True)
        finally:
            self.es.close()


def warm_up(phase: Phase, seed: int, n: int) -> None:
    """Run ``n`` reports through first: a JVM compiles its hot code during its first tens of
    thousands of documents, which would otherwise be counted as indexing cost."""
    reports = list(synthetic_reports(n, seed=seed, prefix="warm"))
    for i in range(0, n, 1000):
        phase.publish(reports[i : i + 1000])
    deadline = time.monotonic() + 120 + n / 100
    while phase.searchable() < len(reports):
        if time.monotonic() > deadline:
            raise RuntimeError("warm-up reports never became searchable")
        time.sleep(0.2)


def throughput(phase: Phase, n: int, seed: int) -> tuple[float, float, dict[str, float]]:
    """Reports/s from the first publish until all ``n`` are searchable, the rate at which the
    benchmark itself published them (it shares the cores, so it must stay well above the first),
    and the CPU milliseconds per report each process spent meanwhile."""
    base = phase.searchable()
    reports = list(synthetic_reports(n, seed=seed, prefix="tp"))
    cpu = meter(p.pid for p in phase.procs)
    started = time.monotonic()
    for i in range(0, n, 1000):
        phase.publish(reports[i : i + 1000])
    produced = n / (time.monotonic() - started)
    deadline = started + max(600, n / 5)
    while phase.searchable() < base + n:
        if time.monotonic() > deadline:
            raise RuntimeError("throughput run did not finish in time")
        time.sleep(0.25)
    elapsed = time.monotonic() - started
    spent = cpu.since()
    per_report = {name: 1000 * seconds / n for name, seconds in spent.items()}
    per_report["total"] = sum(per_report.values())
    per_report["cores busy"] = sum(spent.values()) / elapsed
    return n / elapsed, produced, per_report


def latency(phase: Phase, rate: int, seconds: float, seed: int,
            give_up: float = 60.0) -> tuple[list[float], list[float], int]:
    """Publish at ``rate``/s for ``seconds``; produce-to-searchable of every 10th report, and
    the part of it until the worker took the report's batch (``received_at``, wall clock)."""
    reports = list(synthetic_reports(int(rate * seconds), seed=seed, prefix="lat"))
    waiting: dict[str, tuple[float, float]] = {}
    lock = threading.Lock()
    done = threading.Event()
    latencies: list[float] = []
    to_worker: list[float] = []

    def poll() -> None:
        while not done.is_set() or waiting:
            with lock:
                ids = list(waiting)[:500]
            if ids:
                seen = phase.found(ids)
                now = time.monotonic()
                with lock:
                    for doc_id, received in seen.items():
                        sent, sent_wall = waiting.pop(doc_id)
                        latencies.append(now - sent)
                        to_worker.append(received - sent_wall)
                if done.is_set() and time.monotonic() > finished[0] + give_up:
                    return
            time.sleep(0.05)

    finished = [float("inf")]
    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    tick = 0.02
    per_tick = max(1, int(rate * tick))
    started = time.monotonic()
    for i in range(0, len(reports), per_tick):
        chunk = reports[i : i + per_tick]
        now, now_wall = time.monotonic(), time.time()
        phase.publish(chunk)
        with lock:
            for r in chunk:
                if int(r["report_id"][-8:]) % 10 == 0:
                    waiting[r["report_id"]] = (now, now_wall)
        ahead = started + (i + per_tick) / rate - time.monotonic()
        if ahead > 0:
            time.sleep(ahead)
    finished[0] = time.monotonic()
    done.set()
    poller.join()
    return latencies, to_worker, len(waiting)


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=60_000, help="throughput run size (default batch)")
    parser.add_argument("--reports-batch1", type=int, default=300, help="throughput run size at batch size 1")
    parser.add_argument("--batch-sizes", default=f"1,{IntakeSettings().batch_size}",
                        help="comma-separated; default 1 and the worker's default")
    parser.add_argument("--rate", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=20.0, help="latency run length")
    parser.add_argument("--profile", action="store_true", help="pyinstrument the worker; print its profile")
    parser.add_argument("--warm-up", type=int, default=20_000, help="reports run through before measuring")
    parser.add_argument("--workers", type=int, default=2, help="worker processes in the consumer group")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/tierwatch-bench"))
    parser.add_argument("--models-dir", type=Path, default=None,
                        help="score with the active trained detector there (default: the interim rule scorer)")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    sizes = [int(s) for s in args.batch_sizes.split(",")]
    db_url, db_name = create_database()
    results: dict[int, dict[str, Any]] = {}
    try:
        for size in sizes:
            phase = Phase(db_url, size, args.workdir, args.profile, args.models_dir, args.workers)
            try:
                warm_up(phase, seed=size, n=args.warm_up if size != 1 else min(args.warm_up, 50))
                n = args.reports_batch1 if size == 1 else args.reports
                tp, produced, cpu = throughput(phase, n, seed=1000 + size)
                lat, to_worker, missing = latency(phase, args.rate, args.seconds if size != 1 else min(args.seconds, 10), seed=2000 + size)
                results[size] = {"n": n, "throughput": tp, "produced": produced, "p50": pct(lat, 0.5), "p99": pct(lat, 0.99),
                                 "to_worker_p50": pct(to_worker, 0.5), "to_worker_p99": pct(to_worker, 0.99),
                                 "samples": len(lat), "missing": missing, "cpu": cpu}
                scorer = next((line.split("scorer=")[1].strip() for line in Path(phase.log.name).read_text().splitlines()
                               if "scorer=" in line), "?")
                print(f"batch={size}: scorer={scorer} {results[size]}", flush=True)
            finally:
                phase.close()
            if phase.profile_file and phase.profile_file.exists():
                print(f"--- worker profile, batch size {size} ({phase.profile_file}) ---")
                print("\n".join(phase.profile_file.read_text().splitlines()[:60]))
    finally:
        drop_database(db_name)
    print()
    print(f"{'':34}" + "".join(f"{f'batch={s}':>14}" for s in sizes))
    rows = [
        ("reports in throughput run", "n", "{:>14d}"),
        ("throughput, reports/s", "throughput", "{:>14.0f}"),
        ("  published at, reports/s", "produced", "{:>14.0f}"),
        (f"latency p50 @{args.rate}/s, s", "p50", "{:>14.3f}"),
        (f"latency p99 @{args.rate}/s, s", "p99", "{:>14.3f}"),
        ("  of which publish->worker p50, s", "to_worker_p50", "{:>14.3f}"),
        ("  of which publish->worker p99, s", "to_worker_p99", "{:>14.3f}"),
        ("latency samples", "samples", "{:>14d}"),
        ("not searchable after 60 s", "missing", "{:>14d}"),
    ]
    for label, key, fmt in rows:
        print(f"{label:34}" + "".join(fmt.format(results[s][key]) for s in sizes))
    print("CPU ms per report in the throughput run:")
    for name in results[sizes[0]]["cpu"]:
        print(f"{'  ' + name:34}" + "".join(f"{results[s]['cpu'][name]:>14.3f}" for s in sizes))
    return 0


if __name__ == "__main__":
    sys.exit(main())
