"""Public pages under load: the check page and the report form, 50 concurrent clients, on the
production server (waitress, its own process) with PostgreSQL, Kafka and Elasticsearch behind.

    python bench/bench_public.py [--clients 50] [--seconds 20] [--reports 20000] [--threads 8]

Set-up: a fresh PostgreSQL database, topics and an index of their own; N synthetic scam reports
(every one with a reporter's phone, so numbers gather independent reporters) go through the real
intake (Kafka -> `tierwatch worker` -> PostgreSQL + Elasticsearch) before anything is timed. Then
each workload runs for a warm-up period (not counted) and ``--seconds`` measured, every client in
a closed loop (the next request as soon as the answer is read, keep-alive connections):
- check, cache off: GET /check?q=<number>, the index asked every time (CHECK_CACHE_SECONDS=0);
- check, cache 10 s: the same with the page's per-number cache (the default);
- report form: GET /report (the first step);
- report submission: POST /report with a complete report (CSRF token, its own idempotency key),
  until the broker acknowledged it (acks=all) -> 303 to the tracking code.
The 50 clients share one address, so the server under test runs with the public form limit
raised (it would otherwise answer 429 after 30 reports a minute, as it should for one address).

Prints requests/s, p50/p90/p99/max in ms, errors, and the server process's CPU ms per request.
Needs `tierwatch services up` (or the services running).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import secrets
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.bench_pipeline import ES, KAFKA, SCAM_TOPIC, create_database, drop_database  # noqa: E402
from bench.cpu import process_cpu  # noqa: E402

FORM = {
    "step": "preview", "description": "冒充客服说我的快递丢了要理赔，让我下载会议软件共享屏幕，转走了 3000 元。电话 {phone}",
    "occurred_on": "2026-03-01", "city": "guangzhou", "channel": "phone", "ai_techniques": "chatbot",
    "phones": "{phone}", "amount": "3000", "payment_method": "bank_transfer", "action": "send",
}


def serve() -> None:
    """The server under test (run by the benchmark as a child process): waitress on the app."""
    import waitress

    from tierwatch.bootstrap import build
    from tierwatch.web import create_app

    app = create_app({"PUBLIC_FORM_LIMIT": "1000000 per minute",
                      "CHECK_CACHE_SECONDS": float(os.environ["BENCH_CHECK_CACHE_SECONDS"])}, build())
    server = waitress.create_server(app, host="127.0.0.1", port=0, threads=int(os.environ["BENCH_THREADS"]),
                                    connection_limit=1000, backlog=1024, ident="tierwatch")
    print(f"port {server.effective_port}", flush=True)
    server.run()


class Server:
    def __init__(self, env: dict[str, str], cache_seconds: float, threads: int, log: Path):
        self.log = log.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--serve"], cwd=REPO, stdout=subprocess.PIPE,
            stderr=self.log, env={**env, "BENCH_CHECK_CACHE_SECONDS": str(cache_seconds), "BENCH_THREADS": str(threads)})
        line = self.proc.stdout.readline().decode() if self.proc.stdout else ""
        if not line.startswith("port "):
            raise RuntimeError(f"server did not start; see {log}")
        self.port = int(line.split()[1])

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)
        self.log.close()


class Client:
    """One simulated visitor: a keep-alive connection and its cookies."""

    def __init__(self, port: int):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: dict[str, str] | None = None) -> tuple[int, str]:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())} if self.cookies else {}
        data = None
        if body is not None:
            data = urllib.parse.urlencode(body).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        self.conn.request(method, path, body=data, headers=headers)
        response = self.conn.getresponse()
        text = response.read().decode("utf-8", "replace")
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            self.cookies[name] = rest.split(";", 1)[0]
        return response.status, text


def run(port: int, clients: int, seconds: float, warm: float, make: Any) -> dict[str, Any]:
    """``clients`` threads in a closed loop; ``make(client, rng)`` returns (method, path, body,
    expected status). Latencies of requests started after the warm-up."""
    start_at = time.monotonic() + warm
    stop_at = start_at + seconds
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors: list[str] = []
    ready = threading.Barrier(clients)

    def loop(i: int) -> None:
        rng = random.Random(i)
        client = Client(port)
        prepare = getattr(make, "prepare", None)
        if prepare:
            prepare(client)
        ready.wait()
        while (now := time.monotonic()) < stop_at:
            method, path, body, expected = make(client, rng)
            began = time.perf_counter()
            try:
                status, _ = client.request(method, path, body)
            except (OSError, http.client.HTTPException) as exc:
                errors.append(f"{type(exc).__name__}: {exc}")
                client = Client(port)
                if prepare:
                    prepare(client)
                continue
            took = time.perf_counter() - began
            if status != expected:
                errors.append(f"{method} {path}: {status}")
            elif now >= start_at:
                latencies[i].append(took)

    threads = [threading.Thread(target=loop, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    every = sorted(x for per in latencies for x in per)
    return {"n": len(every), "latencies": every, "errors": errors, "seconds": seconds}


def summary(name: str, result: dict[str, Any], cpu_seconds: float) -> str:
    lat = result["latencies"]
    if not lat:
        return f"| {name} | 0 | – | – | – | – | – | {len(result['errors'])} | – |"

    def q(p: float) -> float:
        return 1000 * lat[min(len(lat) - 1, int(p * len(lat)))]

    return (f"| {name} | {result['n']:,} | {result['n'] / result['seconds']:,.0f} | {q(0.5):.0f} | {q(0.9):.0f} "
            f"| {q(0.99):.0f} | {1000 * lat[-1]:.0f} | {len(result['errors'])} | {1000 * cpu_seconds / result['n']:.1f} |")


def seed(env: dict[str, str], n: int, workdir: Path) -> list[str]:
    """N reports through the real intake; returns the phone numbers they name."""
    from tierwatch.core.bus.kafka import KafkaBus
    from tierwatch.monitoring.loadgen import synthetic_reports
    from elasticsearch import Elasticsearch

    rng = random.Random(11)
    bus = KafkaBus(KAFKA, topic_prefix=env["TIERWATCH_KAFKA_TOPIC_PREFIX"], partitions=6, producer_options={"linger.ms": 5})
    bus.ensure_topics([SCAM_TOPIC])
    reports = list(synthetic_reports(n, seed=3, pool=2000, prefix="web"))
    phones: set[str] = set()
    for r in reports:
        r["reporter_contact"] = {"phone": f"139{rng.randrange(10**8):08d}"}  # a person each
        phones.update(re.findall(r"1[3-9]\d{9}", r["description"]))
        phones.update(r.get("identifiers", {}).get("phones", []))
    log = (workdir / "worker.log").open("wb")
    worker = subprocess.Popen([sys.executable, "-m", "tierwatch.cli", "worker", "--no-jobs"], cwd=REPO, env=env,
                              stdout=log, stderr=subprocess.STDOUT)
    for i in range(0, n, 1000):
        bus.publish_many(SCAM_TOPIC, [(r["report_id"], json.dumps(r, ensure_ascii=False).encode())
                                      for r in reports[i:i + 1000]])
    bus.close()
    es = Elasticsearch(ES, request_timeout=30)
    index = env["TIERWATCH_INDEX_PREFIX"] + "reports"
    deadline = time.monotonic() + 600
    while True:
        try:
            if es.count(index=index)["count"] >= n:
                break
        except Exception:  # noqa: BLE001 - the worker creates the index
            pass
        if time.monotonic() > deadline or worker.poll() is not None:
            raise RuntimeError(f"seed reports never became searchable; see {log.name}")
        time.sleep(0.5)
    es.close()
    worker.terminate()  # the benchmark's submissions only need the broker's acknowledgement
    worker.wait(timeout=60)
    log.close()
    return sorted(phones)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--warm", type=float, default=5, help="seconds of each workload not counted")
    parser.add_argument("--reports", type=int, default=20_000)
    parser.add_argument("--threads", type=int, default=8, help="waitress worker threads")
    args = parser.parse_args()
    if args.serve:
        serve()
        return

    url, name = create_database()
    tag = secrets.token_hex(3)
    workdir = Path(os.environ.get("TMPDIR", "/tmp")) / f"bench-web-{tag}"
    workdir.mkdir(parents=True)
    env = {**os.environ, "TIERWATCH_DATABASE_URL": url, "TIERWATCH_BUS": "kafka", "TIERWATCH_SEARCH": "elasticsearch",
           "TIERWATCH_KAFKA_BOOTSTRAP": KAFKA, "TIERWATCH_ELASTICSEARCH_URL": ES,
           "TIERWATCH_KAFKA_TOPIC_PREFIX": f"benchweb-{tag}.", "TIERWATCH_INDEX_PREFIX": f"benchweb-{tag}-",
           "TIERWATCH_KAFKA_PARTITIONS": "6", "TIERWATCH_DATA_DIR": str(workdir), "TIERWATCH_SECURE_COOKIES": "0",
           "PYTHONPATH": str(REPO)}
    try:
        started = time.monotonic()
        phones = seed(env, args.reports, workdir)
        print(f"seeded {args.reports:,} reports naming {len(phones):,} numbers in {time.monotonic() - started:.0f} s; "
              f"{args.clients} clients, {args.seconds:.0f} s measured after {args.warm:.0f} s of warm-up each, "
              f"waitress with {args.threads} threads", flush=True)

        def check(client: Client, rng: random.Random) -> tuple[str, str, None, int]:
            number = rng.choice(phones) if rng.random() < 0.8 else f"13{rng.randrange(10**9):09d}"
            return "GET", "/check?" + urllib.parse.urlencode({"q": number}), None, 200

        def form_page(client: Client, rng: random.Random) -> tuple[str, str, None, int]:
            return "GET", "/report", None, 200

        def submit(client: Client, rng: random.Random) -> tuple[str, str, dict[str, str], int]:
            phone = rng.choice(phones)
            body = {k: v.format(phone=phone) for k, v in FORM.items()}
            return "POST", "/report", {**body, "csrf_token": client.token,  # type: ignore[attr-defined]
                                       "submission_id": secrets.token_urlsafe(18)}, 303

        def with_token(client: Client) -> None:
            _, page = client.request("GET", "/report")
            client.token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[attr-defined]

        submit.prepare = with_token  # type: ignore[attr-defined]
        rows = ["| workload | requests | requests/s | p50 ms | p90 ms | p99 ms | max ms | errors | server CPU ms/request |",
                "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
        errors: dict[str, list[str]] = {}
        for label, cache, make in (("check page, cache off", 0.0, check), ("check page, cache 10 s", 10.0, check),
                                   ("report form (GET)", 10.0, form_page), ("report submission (POST)", 10.0, submit)):
            server = Server(env, cache, args.threads, workdir / "server.log")
            try:
                cpu_before = [0.0]
                # CPU counted from the end of the warm-up: a timer thread reads it then.
                timer = threading.Timer(args.warm, lambda: cpu_before.__setitem__(0, process_cpu(server.proc.pid)))
                timer.start()
                result = run(server.port, args.clients, args.seconds, args.warm, make)
                cpu = process_cpu(server.proc.pid) - cpu_before[0]
            finally:
                server.close()
            rows.append(summary(label, result, cpu))
            errors[label] = result["errors"][:3]
            print(rows[-1], flush=True)
        print("\n".join(rows))
        if any(errors.values()):
            print("first errors:", json.dumps(errors, ensure_ascii=False))
        print(f"load average at the end: {os.getloadavg()[0]:.1f}")
    finally:
        drop_database(name)
        try:
            from elasticsearch import Elasticsearch

            Elasticsearch(ES).indices.delete(index=env["TIERWATCH_INDEX_PREFIX"] + "reports", ignore_unavailable=True)
        except Exception:  # noqa: BLE001
            pass


if __name__ == "__main__":
    main()
