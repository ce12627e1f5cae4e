"""Elasticsearch indexing cost of report documents: ES server CPU and client CPU per document.

Documents are built the way the worker builds them (synthetic report -> JSON -> parse_report ->
store.prepare -> the interim rule scorer's columns -> monitoring.indexing.report_document) and sent
through ``ElasticIndex.bulk_index`` (the worker's code path) in batches into a fresh index with the
normal 1 s refresh, paced at ``--rate`` documents/s. Like the pipeline benchmark, a count poll (no
forced refresh) waits until all are searchable.

    python bench/bench_index.py [--docs 30000] [--batch 500] [--rate 1000] [--runs 3]

Needs a running Elasticsearch (`python -m core.services up elasticsearch`). Prints, per run and as
medians: Elasticsearch process CPU ms per document (from /proc, until all are searchable plus a
short tail for the merges they cause; the share of its JIT compiler threads apart, since a node
started shortly before spends most of its CPU compiling) and client CPU ms per document
(``time.process_time`` around ``bulk_index``: normalising, JSON, HTTP, response parsing).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.cpu import process_cpu, service_pids
from tierwatch.core.search.elastic import ElasticIndex
from tierwatch.monitoring.indexing import REPORTS_INDEX, REPORTS_SCHEMA, report_document
from tierwatch.monitoring.loadgen import synthetic_reports
from tierwatch.monitoring.messages import parse_report
from tierwatch.monitoring.scoring import RuleScorer, ScoringInput
from tierwatch.monitoring.contacts import ContactCipher
from tierwatch.monitoring.store import ReportKeys, prepare

ES = os.environ.get("TIERWATCH_ELASTICSEARCH_URL", "http://127.0.0.1:9200")
_TICK = os.sysconf("SC_CLK_TCK")


def jit_cpu(pid: int) -> float:
    """CPU seconds of the JVM's JIT compiler threads ("C1/C2 CompilerThread"). A node started
    minutes ago spends most of its CPU compiling; that is warm-up, not the cost per document.
    With 2 cores the JVM runs one C1 and one C2 thread for good; on bigger machines it starts and
    ends extra ones, whose CPU this undercounts."""
    total = 0.0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            if "CompilerThre" not in (task / "comm").read_text():
                continue
            raw = (task / "stat").read_text()
        except OSError:
            continue  # the thread ended
        fields = raw[raw.rindex(")") + 2 :].split()
        total += (int(fields[11]) + int(fields[12])) / _TICK
    return total


class _NoHistory:
    """A fresh database: no identifier was reported before (the scorer's reputation input)."""

    def lookup(self, identifiers: Any, before: datetime) -> dict[str, Any]:
        return {}


def make_docs(n: int, seed: int = 7) -> list[dict[str, Any]]:
    """``n`` report documents exactly as the worker indexes new reports."""
    now = datetime.now(UTC)
    scorer, history = RuleScorer(), _NoHistory()
    keys = ReportKeys(secrets.token_bytes(32), ContactCipher([secrets.token_bytes(32)]))
    docs = []
    for raw in synthetic_reports(n, seed=seed, prefix=f"bi{secrets.token_hex(2)}"):
        p = prepare(parse_report(json.dumps(raw, ensure_ascii=False).encode(), "scam"), now, keys)
        row = p.row
        score = scorer.score_batch([ScoringInput(
            report_id=p.report_id, kind=row["kind"], text=row["description"], channel=row.get("channel"),
            amount_lost=row.get("amount_lost"), ai_technique=row.get("ai_technique"),
            region=row.get("region"), reported_at=row["reported_at"], identifiers=p.keys,
            reporter_type=row.get("reporter_type"),
        )], history)[0]
        cols = {"scam_probability": score.scam_probability, "is_scam": score.is_scam,
                "scam_type": score.scam_type, "model_version": score.model_version,
                "application_id": None, "score_reasons": score.reasons}
        docs.append(report_document({**row, **cols}, list(p.keys)))
    return docs


def run_once(es_pid: int, docs: list[dict[str, Any]], batch: int, rate: float, tail: float) -> dict[str, float]:
    search = ElasticIndex(ES, prefix=f"bench-idx-{secrets.token_hex(3)}-")
    try:
        search.ensure_index(REPORTS_INDEX, REPORTS_SCHEMA)
        time.sleep(1.0)  # let index creation settle before metering
        es_start, jit_start, wall_start = process_cpu(es_pid), jit_cpu(es_pid), time.monotonic()
        client, next_poll = 0.0, 0.0
        for i in range(0, len(docs), batch):
            if rate:  # pace like a worker fed at ``rate`` documents/s
                delay = wall_start + i / rate - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
            t0 = time.process_time()
            search.bulk_index(REPORTS_INDEX, docs[i : i + batch])
            client += time.process_time() - t0
            if time.monotonic() >= next_poll:
                search.count(REPORTS_INDEX)  # a watcher polling, as in bench_pipeline.py
                next_poll = time.monotonic() + 0.5
        while search.count(REPORTS_INDEX) < len(docs):
            time.sleep(0.1)
        searchable = time.monotonic() - wall_start
        time.sleep(tail)
        es_cpu, jit = process_cpu(es_pid) - es_start, jit_cpu(es_pid) - jit_start
        return {"es_ms": 1000 * es_cpu / len(docs), "jit_ms": 1000 * jit / len(docs),
                "client_ms": 1000 * client / len(docs),
                "searchable_s": searchable}
    finally:
        search.delete_index(REPORTS_INDEX)
        search.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--docs", type=int, default=30_000)
    ap.add_argument("--batch", type=int, default=500)
    ap.add_argument("--rate", type=float, default=1000, help="documents/s; 0 = as fast as possible")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--tail", type=float, default=2.0, help="seconds metered after all are searchable")
    args = ap.parse_args()

    es_pid = service_pids()["elasticsearch"]
    t0 = time.process_time()
    docs = make_docs(args.docs)
    print(f"{len(docs)} documents built in {time.process_time() - t0:.1f} s CPU"
          f" (~{len(json.dumps(docs, ensure_ascii=False, default=str).encode()) // len(docs)} bytes each as JSON)")
    # Warm-up: the JIT of a freshly started node would otherwise be billed to the first run.
    run_once(es_pid, docs[: min(len(docs), 5000)], args.batch, 0, 0)
    results = []
    for run in range(args.runs):
        load = os.getloadavg()[0]
        r = run_once(es_pid, docs, args.batch, args.rate, args.tail)
        results.append(r)
        print(f"run {run + 1}: ES {r['es_ms']:.3f} ms/doc (of which JIT {r['jit_ms']:.3f}),"
              f" client {r['client_ms']:.3f} ms/doc,"
              f" searchable after {r['searchable_s']:.1f} s (load {load:.2f})")
    print(f"median of {len(results)}: ES {statistics.median(r['es_ms'] for r in results):.3f} ms/doc"
          f" (JIT {statistics.median(r['jit_ms'] for r in results):.3f}),"
          f" client {statistics.median(r['client_ms'] for r in results):.3f} ms/doc"
          f" ({args.docs} docs, batches of {args.batch}, {args.rate:g} docs/s)")


if __name__ == "__main__":
    main()
