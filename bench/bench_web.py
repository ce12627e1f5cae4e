"""Web pages under load of data: server time of each page (p50, p99) on PostgreSQL holding a
realistic registry (20,000 applications tiered under both rule sets, 200,000 reports).

Pages are rows of PAGES (name -> who asks, which path): the regulator's dashboards and review
queue here; the public pages add their rows beside them. Each page is requested RUNS times
through the app (Flask's test client: the whole request in process, no network), after WARMUP
requests; the database is fresh, seeded in bulk, then analysed (as autovacuum would).

    python bench/bench_web.py                        # 20,000 applications, 200,000 reports
    python bench/bench_web.py --applications 2000 --reports 20000 --runs 30   # quick look
    python bench/bench_web.py --pages queue,dashboards
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sqlalchemy as sa  # noqa: E402

from tierwatch.bootstrap import build  # noqa: E402
from tierwatch.core.actors import Actor  # noqa: E402
from tierwatch.core.settings import load_settings  # noqa: E402
from tierwatch.registry import accounts, service  # noqa: E402
from tierwatch.registry.models import Application, ApplicationVersion, Company, User  # noqa: E402
from tierwatch.registry.regions import GUANGDONG_CITIES  # noqa: E402
from tierwatch.registry.schemas import UserIn  # noqa: E402
from tierwatch.registry.vocab import APPLICATION_FIELDS  # noqa: E402
from tierwatch.risk import sandbox  # noqa: E402
from tierwatch.risk import service as tiering  # noqa: E402

from bench.bench_pipeline import create_database, drop_database  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
PASSWORD = "bench bench bench bench"
STATUSES = ("submitted", "under_review", "approved", "approved", "approved", "returned", "draft")
TARGET_P99_MS = 300


@dataclass(frozen=True)
class Page:
    role: str  # an account role, or "anonymous"
    path: str
    uncached: bool = False  # empty the app's figure cache (web/caching.py) before every request


PAGES: dict[str, Page] = {
    "dashboards": Page("regulator", "/regulator/"),
    "dashboards-uncached": Page("regulator", "/regulator/", uncached=True),
    "queue": Page("regulator", "/regulator/queue"),
    "queue-high-shenzhen": Page("regulator", "/regulator/queue?tier=high&area=4403"),
    "queue-approved-page-5": Page("regulator", "/regulator/queue?status=approved&page=5"),
    "queue-finance-waiting-30d": Page("regulator", "/regulator/queue?domain=finance&min_age_days=30"),
}


# --- the database (created and dropped as bench_pipeline.py does) --------------------------

def _credit_code(r: random.Random, index: int) -> str:
    # Characters 3-8 carry the area (registry.regions); the rest only needs to be unique here.
    division = r.choice(list(GUANGDONG_CITIES)) + "00" if r.random() < 0.8 else r.choice(["110108", "310115", "330106"])
    return f"91{division}{index:09d}X"[:18]


def seed(container: object, applications: int, reports: int, seed_value: int = 12) -> None:
    """Companies, applications with one or two versions, both rule sets active (every
    application tiered), reports linked to applications, in bulk."""
    r = random.Random(seed_value)
    engine = container.engine  # type: ignore[attr-defined]
    now = datetime.now(UTC)
    samples = sandbox.sample_applications(count=200, seed=seed_value)
    companies = max(applications // 10, 1)
    with engine.begin() as conn:
        conn.execute(sa.insert(Company.__table__), [
            {"id": i, "name": f"基准企业{i}", "credit_code": _credit_code(r, i), "country": "CN", "source": "bench",
             "created_at": now} for i in range(1, companies + 1)])
        apps, versions = [], []
        for i in range(1, applications + 1):
            status = r.choice(STATUSES)
            created = now - timedelta(days=r.randint(0, 360), minutes=r.randint(0, 1440))
            fields = dict(samples[i % len(samples)])
            fields["name"] = f"基准应用{i}"
            apps.append({"id": i, "company_id": r.randint(1, companies), "name": fields["name"], "status": status,
                         "filing_number": f"粤AI备-2026-{i:06d}" if status == "approved" else None,
                         "source": "bench", "created_at": created, "updated_at": created})
            submitted = created + timedelta(hours=1) if status != "draft" else None
            versions.append({"id": i, "application_id": i, "number": 1, "status": status, **fields,
                             "created_at": created, "updated_at": created, "submitted_at": submitted})
        for start in range(0, applications, 5000):
            conn.execute(sa.insert(Application.__table__), apps[start:start + 5000])
            conn.execute(sa.insert(ApplicationVersion.__table__), versions[start:start + 5000])
        if engine.dialect.name == "postgresql":
            for table in ("companies", "applications", "application_versions"):
                conn.exec_driver_sql(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
    for name in ("rules/cn-gd.yaml", "rules/eu-ai-act.yaml"):
        with container.uow() as uow:  # type: ignore[attr-defined]
            tiering.activate_ruleset(uow, REPO / name, Actor.system("bench"), service.iter_current_applications(uow))
            uow.commit()
    kinds = ["scam"] * 19 + ["incident"]
    incident_types = ["harmful_content", "data_leak", "bias_discrimination", "security_breach", "model_misuse", "outage"]
    with engine.begin() as conn:
        table = sa.table("reports", *(sa.column(c) for c in (
            "report_id", "tracking_code", "kind", "schema_version", "description", "reported_at", "received_at",
            "application_id", "incident_type", "severity", "score_reasons")))
        batch = []
        for i in range(reports):
            kind = r.choice(kinds)
            at = now - timedelta(days=r.randint(0, 45), seconds=r.randint(0, 86400))
            batch.append({"report_id": f"bench-{i}", "tracking_code": f"TW-B{i:09d}", "kind": kind, "schema_version": 1,
                          "description": "冒充客服退款诈骗", "reported_at": at, "received_at": at,
                          "application_id": r.randint(1, applications) if r.random() < 0.3 else None,
                          "incident_type": r.choice(incident_types) if kind == "incident" else None,
                          "severity": r.choice(["low", "medium", "high", "critical"]) if kind == "incident" else None,
                          "score_reasons": []})
            if len(batch) == 10_000:
                conn.execute(sa.insert(table), batch)
                batch = []
        if batch:
            conn.execute(sa.insert(table), batch)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("ANALYZE")


def accounts_for(container: object) -> dict[str, int]:
    with container.uow() as uow:  # type: ignore[attr-defined]
        ids = {}
        for role in ("regulator", "admin", "analyst"):
            user = accounts.create_user(uow, Actor.system("bench"), UserIn(
                email=f"{role}@bench.cn", name=role, password=PASSWORD, role=role))
            ids[role] = user.id
        uow.commit()
    return ids


# --- measuring ---------------------------------------------------------------------------

def client_for(app: object, container: object, user_id: int | None) -> object:
    from flask import session

    from tierwatch.web.auth import login_user

    client = app.test_client()  # type: ignore[attr-defined]
    if user_id is not None:
        with app.test_request_context("/"):  # type: ignore[attr-defined]
            with container.uow() as uow:  # type: ignore[attr-defined]
                login_user(uow.session.get(User, user_id))
            state = dict(session)
        with client.session_transaction() as sess:
            sess.update(state)
    return client


def measure(request: Callable[[], int], runs: int, warmup: int) -> tuple[float, float, float]:
    for _ in range(warmup):
        request()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        status = request()
        times.append((time.perf_counter() - started) * 1000)
        if status != 200:
            raise RuntimeError(f"status {status}")
    times.sort()
    p99 = times[min(len(times) - 1, int(round(0.99 * (len(times) - 1))))]
    return statistics.median(times), p99, times[-1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--applications", type=int, default=20_000)
    parser.add_argument("--reports", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--pages", default=",".join(PAGES))
    args = parser.parse_args()
    from tierwatch.web import create_app

    url, name = create_database()
    try:
        with tempfile.TemporaryDirectory() as data_dir:
            container = build(load_settings(database_url=url, data_dir=Path(data_dir), secret_key="b" * 32))
            started = time.perf_counter()
            seed(container, args.applications, args.reports)
            users = accounts_for(container)
            print(f"seeded {args.applications:,} applications, {args.reports:,} reports in "
                  f"{time.perf_counter() - started:.0f} s (PostgreSQL, fresh database, analysed)")
            app = create_app({"RATELIMIT_ENABLED": False}, container)
            load = os.getloadavg()[0]
            print(f"load average {load:.1f}; {args.runs} runs per page after {args.warmup} warm-up requests")
            print(f"{'page':30} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}")
            worst = 0.0
            for page_name in args.pages.split(","):
                page = PAGES[page_name]
                client = client_for(app, container, users.get(page.role))
                cache = app.extensions["tierwatch_cache"]

                def request(page: Page = page, client: object = client) -> int:
                    if page.uncached:
                        cache.clear()
                    return client.get(page.path).status_code  # type: ignore[attr-defined]

                p50, p99, most = measure(request, args.runs, args.warmup)
                worst = max(worst, p99)
                print(f"{page_name:30} {p50:8.1f} {p99:8.1f} {most:8.1f}")
            container.close()
            print(f"worst p99 {worst:.0f} ms (target < {TARGET_P99_MS} ms)")
            return 0 if worst < TARGET_P99_MS else 1
    finally:
        drop_database(name)


if __name__ == "__main__":
    sys.exit(main())
