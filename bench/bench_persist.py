"""Offline worker benchmark: parse -> prepare -> persist into a fresh PostgreSQL, CPU per report.

No Kafka or Elasticsearch: the messages are the producer's JSON bytes, fed to the worker's own
functions in batches (``parse_report``, ``prepare``, ``persist`` with the interim rule scorer and
an application linker), so the figures are the worker's CPU for those stages and PostgreSQL's
for the statements. 5% of the reports are delivered a second time in a later batch (the
idempotent path). ``--dump FILE`` writes the stored tables (generated ids left out) so two
versions of the code can be compared on the same input.

    python bench/bench_persist.py [--reports 20000] [--batch 500] [--runs 3] [--dump FILE]
    python bench/bench_persist.py --compare /tmp/persist-before.json   # dump and diff

Needs PostgreSQL (`python -m core.services up`); each run uses a fresh database, dropped after.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import sqlalchemy as sa  # noqa: E402

from bench.bench_pipeline import create_database, drop_database  # noqa: E402
from bench.cpu import process_cpu, service_pids, tree_cpu  # noqa: E402
from tierwatch.core.db import UnitOfWork, make_engine, make_session_factory  # noqa: E402
from tierwatch.monitoring.linking import ApplicationLinker, load_applications  # noqa: E402
from tierwatch.monitoring.loadgen import synthetic_reports  # noqa: E402
from tierwatch.monitoring.messages import parse_report  # noqa: E402
from tierwatch.monitoring.scoring import RuleScorer  # noqa: E402
from tierwatch.monitoring.contacts import ContactCipher  # noqa: E402
from tierwatch.monitoring.store import Prepared, ReportKeys, persist, prepare  # noqa: E402

T0 = datetime(2026, 3, 1, tzinfo=UTC)
KEYS = ReportKeys(b"bench-tracking-key-000000000000!", ContactCipher([b"bench-contacts-key-0000000000000"]))
# Names the synthetic texts use in 《…》APP, so some reports link to a registered application.
APPS = [("快贷宝", "粤ICP备2026000001号-1A"), ("云聚财", None), ("安心贷", "京ICP备2026000002号-1A")]


def deliveries(n: int, seed: int, redeliver: float) -> list[bytes]:
    """The producer's messages in order, with ``redeliver`` of them sent again 1-10 batches later."""
    raw = [json.dumps(r, ensure_ascii=False).encode() for r in synthetic_reports(n, seed=seed, prefix="bp")]
    rng = random.Random(seed)
    again: dict[int, list[bytes]] = {}
    for i in rng.sample(range(n), int(n * redeliver)):
        again.setdefault(min(n - 1, i + rng.randrange(500, 5000)), []).append(raw[i])
    out: list[bytes] = []
    for i, message in enumerate(raw):
        out.append(message)
        out.extend(again.get(i, ()))
    return out


def add_apps(url: str) -> None:
    from tierwatch.registry.models import Application, Company

    engine = make_engine(url)
    with UnitOfWork(make_session_factory(engine)) as uow:
        company = Company(name="示例科技有限公司", credit_code="91440300MA5TEST001")
        uow.session.add(company)
        uow.session.flush()
        for name, filing in APPS:
            uow.session.add(Application(company_id=company.id, name=name, status="approved", filing_number=filing))
        uow.commit()
    engine.dispose()


def run(url: str, messages: list[bytes], batch_size: int, apps: bool) -> dict[str, float]:
    """Seconds of CPU per stage over the whole run: this process (all threads) and PostgreSQL."""
    engine = make_engine(url, pool_size=1)
    factory = make_session_factory(engine)
    with engine.connect() as conn:  # the pool keeps this one connection: its backend is ours
        backend = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()

    def load_apps() -> list[tuple[int, str, str | None]]:
        with UnitOfWork(factory) as uow:
            return load_applications(uow.session)

    linker = ApplicationLinker(load_apps if apps else list, ttl=1e9)
    linker.find(names=["warm-up"])  # load the registry snapshot outside the measured stages
    scorer = RuleScorer()
    postmaster = service_pids().get("postgres")
    spent = dict.fromkeys(("parse", "prepare", "persist", "pg_backend", "pg_all"), 0.0)
    pg_all_start = tree_cpu(postmaster) if postmaster else 0.0
    for b, start in enumerate(range(0, len(messages), batch_size)):
        now = T0 + timedelta(minutes=b)  # the batch's received_at, fixed so dumps compare
        t0 = time.process_time()
        reports = [parse_report(raw, "scam") for raw in messages[start : start + batch_size]]
        t1 = time.process_time()
        batch: dict[str, Prepared] = {}
        for report in reports:  # as Worker.process: a report twice in one batch is stored once
            prepared = prepare(report, now, KEYS)
            batch.setdefault(prepared.report_id, prepared)
        t2 = time.process_time()
        pg0 = process_cpu(backend)
        with UnitOfWork(factory) as uow:
            persist(uow.session, list(batch.values()), scorer, linker, now)
            uow.commit()
        t3 = time.process_time()
        spent["parse"] += t1 - t0
        spent["prepare"] += t2 - t1
        spent["persist"] += t3 - t2
        spent["pg_backend"] += process_cpu(backend) - pg0
    if postmaster:
        spent["pg_all"] = tree_cpu(postmaster) - pg_all_start
    engine.dispose()
    return spent


# Per table: the columns compared (generated ids left out; campaign ids as the campaign's key).
_DUMP = {
    # JSON columns also as stored text: the same value must also keep its spelling.
    "reports": "SELECT r.*, r.score_reasons::text AS score_reasons_text, c.key AS campaign FROM reports r LEFT JOIN campaigns c ON c.id = r.campaign_id"
               " ORDER BY r.report_id",
    "report_identifiers": "SELECT * FROM report_identifiers ORDER BY report_id, kind, value",
    "identifiers": "SELECT i.*, c.key AS campaign FROM identifiers i LEFT JOIN campaigns c ON c.id = i.campaign_id"
                   " ORDER BY kind, value",
    "identifier_regions": "SELECT * FROM identifier_regions ORDER BY kind, value, region",
    "campaigns": "SELECT * FROM campaigns ORDER BY key",
    "report_contacts": "SELECT *, contact::text AS contact_text FROM report_contacts ORDER BY report_id",
}
_SKIP = {"id", "campaign_id"}


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value) if isinstance(value, Decimal) else value  # exact, as stored


def dump(url: str) -> dict[str, list[dict[str, Any]]]:
    engine = make_engine(url)
    out = {}
    with engine.connect() as conn:
        for table, query in _DUMP.items():
            out[table] = [{k: _plain(v) for k, v in row.items() if k not in _SKIP}
                          for row in conn.execute(sa.text(query)).mappings()]
    engine.dispose()
    return out


def diff(old: dict[str, list], new: dict[str, list]) -> list[str]:
    problems = []
    for table in _DUMP:
        a, b = old.get(table, []), new.get(table, [])
        if len(a) != len(b):
            problems.append(f"{table}: {len(a)} rows before, {len(b)} now")
        for i, (x, y) in enumerate(zip(a, b)):
            if x != y:
                cols = sorted(k for k in x.keys() | y.keys() if x.get(k) != y.get(k))
                problems.append(f"{table} row {i}: differs in {cols}: {[(x.get(c), y.get(c)) for c in cols][:3]}")
                break
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--redeliver", type=float, default=0.05, help="share of reports delivered twice")
    parser.add_argument("--no-apps", action="store_true", help="no registered applications to link to")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--dump", type=Path, help="write the stored tables of the first run here")
    parser.add_argument("--compare", type=Path, help="diff the first run's tables against this dump")
    args = parser.parse_args()
    messages = deliveries(args.reports, args.seed, args.redeliver)
    load = Path("/proc/loadavg").read_text().split()[0]
    print(f"{len(messages)} messages ({args.reports} reports), batch {args.batch}, "
          f"apps={'no' if args.no_apps else len(APPS)}, load average {load}")
    results = []
    for i in range(args.runs):
        url, name = create_database()
        try:
            if not args.no_apps:
                add_apps(url)
            spent = run(url, messages, args.batch, not args.no_apps)
            if i == 0 and (args.dump or args.compare):
                tables = dump(url)
                if args.dump:
                    args.dump.write_text(json.dumps(tables, ensure_ascii=False, indent=0, sort_keys=True))
                if args.compare:
                    problems = diff(json.loads(args.compare.read_text()), json.loads(json.dumps(tables)))
                    print("correctness: " + ("IDENTICAL to " + str(args.compare) if not problems
                                             else "DIFFERENT:\n  " + "\n  ".join(problems)))
                    if problems:
                        return 1
        finally:
            drop_database(name)
        per = {k: 1000 * v / args.reports for k, v in spent.items()}
        results.append(per)
        print(f"run {i + 1}: " + "  ".join(f"{k} {v:.3f}" for k, v in per.items()), flush=True)
    print("CPU ms per report, median of", len(results), "runs:")
    for key in results[0]:
        print(f"  {key:12} {statistics.median(r[key] for r in results):.3f}")
    print("  (worker = parse + prepare + persist incl. the scoring thread; pg_backend = this run's"
          " PostgreSQL backend; pg_all = every PostgreSQL process, other sessions included)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
